//! Webhook signatures: Meta's `X-Hub-Signature-256` and Twilio's `X-Twilio-Signature`,
//! both checked in constant time.

use base64::Engine;
use hmac::{Hmac, Mac};

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature header.
    #[error("missing {0} header")]
    Missing(&'static str),
    /// The header is not in the expected form.
    #[error("malformed {header} header: {why}")]
    Malformed {
        /// The header.
        header: &'static str,
        /// What was expected.
        why: &'static str,
    },
    /// The signature does not match the body.
    #[error("{0} does not match the request")]
    Mismatch(&'static str),
}

/// Meta's header.
pub const META_HEADER: &str = "X-Hub-Signature-256";
/// Twilio's header.
pub const TWILIO_HEADER: &str = "X-Twilio-Signature";

/// `sha256=<hex HMAC-SHA256(secret, body)>`, as Meta sends it.
pub fn meta_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    format!(
        "sha256={}",
        raymundo_core::to_hex(&mac.finalize().into_bytes())
    )
}

/// Checks Meta's signature over the raw body bytes.
pub fn verify_meta(secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing(META_HEADER))?;
    let hex = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed {
            header: META_HEADER,
            why: "expected sha256=<hex>",
        })?;
    let expected = decode_hex(hex).ok_or(SignatureError::Malformed {
        header: META_HEADER,
        why: "expected 64 hexadecimal digits after sha256=",
    })?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch(META_HEADER))
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    // Only hexadecimal digits: `from_str_radix` alone would also take a sign ("+f").
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Twilio's signature: base64 of HMAC-SHA1(auth token, URL followed by every POST
/// parameter's name and value, sorted by name).
pub fn twilio_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(&twilio_payload(url, params));
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn twilio_payload(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.as_bytes().to_vec();
    for (k, v) in sorted {
        data.extend_from_slice(k.as_bytes());
        data.extend_from_slice(v.as_bytes());
    }
    data
}

/// Checks Twilio's signature for `url` as given and with its default port added or
/// removed (Twilio signs whichever form it was configured with, as its own validator
/// accepts).
pub fn verify_twilio(
    token: &str,
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing(TWILIO_HEADER))?;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .map_err(|_| SignatureError::Malformed {
            header: TWILIO_HEADER,
            why: "expected base64",
        })?;
    for candidate in url_variants(url) {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(&twilio_payload(&candidate, params));
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch(TWILIO_HEADER))
}

/// `url`, and the same with the scheme's default port removed or added.
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return out;
    };
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return out,
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let has_port = hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !hostport.ends_with(']');
    let other = if has_port {
        let host = hostport
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(hostport);
        format!("{scheme}://{userinfo}{host}{path}")
    } else {
        format!("{scheme}://{userinfo}{hostport}:{default_port}{path}")
    };
    out.push(other);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_with_signs_in_place_of_digits_is_malformed() {
        let body = b"{}";
        let good = meta_signature("app-secret", body);
        // The same bytes written with "+" for a leading zero nibble, where there is one.
        let hex = good.strip_prefix("sha256=").unwrap();
        let zero = (0..hex.len())
            .step_by(2)
            .find(|&i| &hex[i..i + 1] == "0")
            .expect("some byte under 16 in this signature");
        let signed = format!("sha256={}+{}", &hex[..zero], &hex[zero + 1..]);
        assert!(matches!(
            verify_meta("app-secret", body, Some(&signed)),
            Err(SignatureError::Malformed { .. })
        ));
    }

    #[test]
    fn meta_signature_is_checked_over_raw_bytes() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let sig = meta_signature("app-secret", body);
        assert!(verify_meta("app-secret", body, Some(&sig)).is_ok());
        assert_eq!(
            verify_meta("app-secret", b"{ }", Some(&sig)),
            Err(SignatureError::Mismatch(META_HEADER))
        );
        assert_eq!(
            verify_meta("other", body, Some(&sig)),
            Err(SignatureError::Mismatch(META_HEADER))
        );
        assert_eq!(
            verify_meta("app-secret", body, None),
            Err(SignatureError::Missing(META_HEADER))
        );
        assert!(matches!(
            verify_meta("app-secret", body, Some("sha1=abc")),
            Err(SignatureError::Malformed { .. })
        ));
        assert!(matches!(
            verify_meta("app-secret", body, Some("sha256=zz")),
            Err(SignatureError::Malformed { .. })
        ));
    }

    #[test]
    fn meta_signature_matches_a_known_value() {
        // printf 'hello' | openssl dgst -sha256 -hmac key
        assert_eq!(
            meta_signature("key", b"hello"),
            "sha256=9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b"
        );
    }

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn twilio_signature_matches_twilios_documented_example() {
        // The example of Twilio's security documentation (and its validator's tests).
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sig = twilio_signature("12345", url, &params());
        assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify_twilio("12345", url, &params(), Some(&sig)).is_ok());
    }

    #[test]
    fn twilio_accepts_the_url_with_and_without_the_default_port() {
        let sig = twilio_signature("12345", "https://bot.example.com/twilio", &params());
        let with_port = "https://bot.example.com:443/twilio";
        assert!(verify_twilio("12345", with_port, &params(), Some(&sig)).is_ok());
        let sig = twilio_signature("12345", with_port, &params());
        assert!(verify_twilio(
            "12345",
            "https://bot.example.com/twilio",
            &params(),
            Some(&sig)
        )
        .is_ok());
        let mut tampered = params();
        tampered[2].1 = "9999".into();
        assert_eq!(
            verify_twilio("12345", with_port, &tampered, Some(&sig)),
            Err(SignatureError::Mismatch(TWILIO_HEADER))
        );
        assert_eq!(
            verify_twilio("12345", with_port, &params(), None),
            Err(SignatureError::Missing(TWILIO_HEADER))
        );
    }
}

//! Meta's and Twilio's webhook signatures: any header is refused or accepted without a
//! panic; the signature of the body is accepted, and any other header is refused.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use raymundo_channels::signature::{meta_signature, twilio_signature, verify_meta, verify_twilio};

#[derive(Debug, Arbitrary)]
struct Input {
    secret: String,
    body: Vec<u8>,
    header: Option<String>,
    url: String,
    params: Vec<(String, String)>,
}

fuzz_target!(|input: Input| {
    let Input {
        secret,
        body,
        header,
        url,
        params,
    } = input;
    // Meta: the body's own signature passes (with the spaces a proxy may add), another
    // header passes only if it is that same signature in another case.
    let good = meta_signature(&secret, &body);
    assert_eq!(verify_meta(&secret, &body, Some(&good)), Ok(()));
    assert_eq!(
        verify_meta(&secret, &body, Some(&format!(" {good} "))),
        Ok(())
    );
    if let Some(h) = header.as_deref() {
        if verify_meta(&secret, &body, Some(h)).is_ok() {
            assert_eq!(h.trim().to_ascii_lowercase(), good, "accepted {h:?}");
        }
    }
    // Twilio: the same for the URL and form parameters.
    let good = twilio_signature(&secret, &url, &params);
    assert_eq!(verify_twilio(&secret, &url, &params, Some(&good)), Ok(()));
    if let Some(h) = header.as_deref() {
        let _ = verify_twilio(&secret, &url, &params, Some(h));
    }
    assert!(verify_twilio(&secret, &url, &params, None).is_err());
    assert!(verify_meta(&secret, &body, None).is_err());
});

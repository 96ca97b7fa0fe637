//! The server's settings: `[server]` of `raymundo.toml` plus the secrets from the
//! environment (or `.env`), checked once at start-up.

use crate::secret::Secret;
use raymundo_core::ServerConfig;

/// WhatsApp Cloud API credentials (all four variables, or none).
#[derive(Debug, Clone)]
pub struct WhatsAppSettings {
    /// `VERIFY_TOKEN`: answered back to Meta's subscription check.
    pub verify_token: Secret,
    /// `APP_SECRET`: key of the `X-Hub-Signature-256` HMAC.
    pub app_secret: Secret,
    /// `WHATSAPP_TOKEN`: bearer token for sending.
    pub token: Secret,
    /// `PHONE_NUMBER_ID`: the business number messages are sent from.
    pub phone_number_id: String,
    /// `GRAPH_URL` (or `server.graph_url`), without a trailing slash.
    pub graph_url: String,
}

/// Twilio credentials.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// `TWILIO_AUTH_TOKEN`: key of the `X-Twilio-Signature` HMAC and REST password.
    pub auth_token: Secret,
    /// `TWILIO_ACCOUNT_SID`: needed to send an answer that was too slow for TwiML.
    pub account_sid: Option<String>,
}

/// Everything the server runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[server]` of `raymundo.toml`.
    pub config: ServerConfig,
    /// WhatsApp Cloud API, when configured.
    pub whatsapp: Option<WhatsAppSettings>,
    /// Twilio, when configured.
    pub twilio: Option<TwilioSettings>,
    /// The API key of `/chat`, `/stats`, `/clear_history` and `/v1/*`, when configured.
    pub api_key: Option<Secret>,
    /// The token of the review pages (`/admin`), when configured.
    pub admin_token: Option<Secret>,
}

/// A setting that cannot be used, with the variable it came from.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct SettingsError {
    /// The environment variable or setting.
    pub variable: String,
    /// What is wrong.
    pub message: String,
}

/// The WhatsApp Cloud API variables, all required together.
pub const WHATSAPP_VARIABLES: [&str; 4] = [
    "VERIFY_TOKEN",
    "APP_SECRET",
    "WHATSAPP_TOKEN",
    "PHONE_NUMBER_ID",
];

impl Settings {
    /// Reads the secrets through `var` (the environment, then `.env`) and checks them
    /// against `config`.
    pub fn load(
        config: &ServerConfig,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let err = |variable: &str, message: String| SettingsError {
            variable: variable.to_string(),
            message,
        };
        let found: Vec<_> = WHATSAPP_VARIABLES.iter().map(|v| get(v)).collect();
        let missing: Vec<&str> = WHATSAPP_VARIABLES
            .iter()
            .zip(&found)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        let whatsapp = if missing.len() == WHATSAPP_VARIABLES.len() {
            None
        } else if let [Some(verify), Some(secret), Some(token), Some(phone)] = found.as_slice() {
            let graph_url = get("GRAPH_URL").unwrap_or_else(|| config.graph_url.clone());
            if !(graph_url.starts_with("http://") || graph_url.starts_with("https://")) {
                return Err(err(
                    "GRAPH_URL",
                    format!("expected an http:// or https:// URL, got {graph_url:?}"),
                ));
            }
            if !phone.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(err(
                    "PHONE_NUMBER_ID",
                    "expected the numeric id Meta shows for the number (not the phone number \
                     with + or spaces)"
                        .into(),
                ));
            }
            Some(WhatsAppSettings {
                verify_token: Secret::new(verify.clone()),
                app_secret: Secret::new(secret.clone()),
                token: Secret::new(token.clone()),
                phone_number_id: phone.clone(),
                graph_url: graph_url.trim_end_matches('/').to_string(),
            })
        } else {
            return Err(err(
                &missing.join(", "),
                format!(
                    "not set; the WhatsApp Cloud API needs all of {} (set them in the \
                     environment or in .env)",
                    WHATSAPP_VARIABLES.join(", ")
                ),
            ));
        };
        let twilio = get("TWILIO_AUTH_TOKEN").map(|t| TwilioSettings {
            auth_token: Secret::new(t),
            account_sid: get("TWILIO_ACCOUNT_SID"),
        });
        if twilio.is_none() && get("TWILIO_ACCOUNT_SID").is_some() {
            return Err(err(
                "TWILIO_AUTH_TOKEN",
                "not set, but TWILIO_ACCOUNT_SID is: Twilio needs its auth token to check \
                 signatures"
                    .into(),
            ));
        }
        let api_key = get(&config.api_key_env).map(Secret::new);
        let admin_token = get(&config.admin_token_env).map(Secret::new);
        if admin_token.as_ref().is_some_and(|t| t.expose().len() < 12) {
            return Err(err(
                &config.admin_token_env,
                "too short: use at least 12 characters (e.g. `openssl rand -hex 16`)".into(),
            ));
        }
        Ok(Self {
            config: config.clone(),
            whatsapp,
            twilio,
            api_key,
            admin_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn nothing_set_means_only_the_http_api() {
        let s = Settings::load(&ServerConfig::default(), env(&[])).unwrap();
        assert!(s.whatsapp.is_none() && s.twilio.is_none() && s.api_key.is_none());
    }

    #[test]
    fn the_admin_token_comes_from_the_named_variable_and_must_be_long() {
        let config = ServerConfig {
            admin_token_env: "MI_TOKEN".into(),
            ..ServerConfig::default()
        };
        let s = Settings::load(&config, env(&[("MI_TOKEN", "0123456789abcdef")])).unwrap();
        assert!(s.admin_token.as_ref().unwrap().matches("0123456789abcdef"));
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
        let e = Settings::load(&config, env(&[("MI_TOKEN", "corto")])).unwrap_err();
        assert_eq!(e.variable, "MI_TOKEN");
        assert!(!e.to_string().contains("corto"), "{e}");
        let s = Settings::load(
            &config,
            env(&[("RAYMUNDO_ADMIN_TOKEN", "0123456789abcdef")]),
        );
        assert!(s.unwrap().admin_token.is_none());
    }

    #[test]
    fn a_partial_whatsapp_setup_names_what_is_missing_and_hides_values() {
        let e = Settings::load(
            &ServerConfig::default(),
            env(&[("VERIFY_TOKEN", "v"), ("WHATSAPP_TOKEN", "EAAG-secret")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("APP_SECRET, PHONE_NUMBER_ID"), "{e}");
        assert!(!e.contains("EAAG-secret"), "{e}");
    }

    #[test]
    fn full_whatsapp_setup_with_graph_url_override() {
        let s = Settings::load(
            &ServerConfig::default(),
            env(&[
                ("VERIFY_TOKEN", "v"),
                ("APP_SECRET", "s"),
                ("WHATSAPP_TOKEN", "t"),
                ("PHONE_NUMBER_ID", "1122334455667"),
                ("GRAPH_URL", "http://127.0.0.1:9/"),
                ("RAYMUNDO_API_KEY", "k"),
            ]),
        )
        .unwrap();
        let w = s.whatsapp.unwrap();
        assert_eq!(w.graph_url, "http://127.0.0.1:9");
        assert!(format!("{w:?}").contains("[redacted]"));
        assert!(s.api_key.unwrap().matches("k"));
        let e = Settings::load(
            &ServerConfig::default(),
            env(&[
                ("VERIFY_TOKEN", "v"),
                ("APP_SECRET", "s"),
                ("WHATSAPP_TOKEN", "t"),
                ("PHONE_NUMBER_ID", "1122334455667"),
                ("GRAPH_URL", "graph.facebook.com"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.variable, "GRAPH_URL");
    }
}

//! Whose conversation an HTTP API request continues (`/chat`, `/v1/chat/completions`,
//! `/clear_history`), and under which key it is rate-limited.
//!
//! An id a caller sends names a conversation only inside that caller's namespace, so naming
//! someone else's id reaches a conversation of one's own:
//!
//! - With an API key configured, every caller holds the key, and the key holder is the
//!   namespace (`chat:key/<id>`): a bot that speaks for many people names them, and only
//!   holders of the key reach those conversations.
//! - With the API open, the caller is its address ([`crate::peer::Peer::client`]: the TCP
//!   peer, or the client a reverse proxy on this machine names), the namespace
//!   `chat:ip/<address>/<id>`.
//!
//! Either way the user string starts with the channel (`chat:`, `openai:`), so it cannot be
//! a WhatsApp or Twilio user (`whatsapp:<key>`, `twilio:<key>`).
//!
//! A caller that sends no id gets a new conversation with an unguessable id (128 random
//! bits), which the response carries (`user_id` / `user` and `X-Raymundo-User`) to send back.
//!
//! The rate limit is counted per address, whatever ids the caller sends. A caller the server
//! can vouch for speaks for the people it names and gets the limit per person (and
//! address): a key holder, or, with the API open, a process on this machine (an
//! unforwarded loopback request, such as the existing WhatsApp bot on the same host).

use crate::error::ApiError;
use crate::responder::Channel;
use std::net::IpAddr;

/// The response header carrying the conversation's id.
pub(crate) const USER_HEADER: &str = "x-raymundo-user";

/// The longest id a caller may send, in characters.
const MAX_ID_CHARS: usize = 128;

/// Who is calling, as far as the server can vouch for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// Holds the configured API key; from `client`.
    KeyHolder {
        /// The peer's client address.
        client: IpAddr,
    },
    /// The API is open and the request comes from this machine itself, not through a proxy.
    Local {
        /// The peer's address.
        client: IpAddr,
    },
    /// The API is open: nothing but the address.
    Anonymous {
        /// The peer's client address.
        client: IpAddr,
    },
}

/// The conversation a request continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conversation {
    /// The id as the caller knows it (sent, or given by the server).
    pub id: String,
    /// The responder's user (`chat:key/<id>`, `openai:ip/<address>/<id>` ...).
    pub user: String,
}

impl Caller {
    fn namespace(&self) -> String {
        match self {
            Caller::KeyHolder { .. } => "key".into(),
            Caller::Local { client } | Caller::Anonymous { client } => format!("ip/{client}"),
        }
    }

    /// The conversation named by `id` on `channel`, or a new one when `id` is `None`.
    pub fn conversation(
        &self,
        channel: Channel,
        id: Option<&str>,
    ) -> Result<Conversation, ApiError> {
        let id = match id.map(str::trim) {
            Some(id) if id.chars().count() > MAX_ID_CHARS => {
                return Err(ApiError::BadRequest(format!(
                    "the user id is longer than {MAX_ID_CHARS} characters"
                )))
            }
            Some(id) if id.chars().any(char::is_control) => {
                return Err(ApiError::BadRequest(
                    "the user id has control characters".into(),
                ))
            }
            Some(id) if !id.is_empty() => id.to_string(),
            _ => crate::secret::random_hex(16),
        };
        Ok(Conversation {
            user: format!("{}:{}/{id}", channel.as_str(), self.namespace()),
            id,
        })
    }

    /// The rate limiter's key for a request on `conversation`.
    pub fn rate_key(&self, conversation: &Conversation) -> String {
        match self {
            Caller::KeyHolder { client } | Caller::Local { client } => {
                format!("{client}|{}", conversation.user)
            }
            Caller::Anonymous { client } => client.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_namespaced_by_the_caller_and_minted_when_missing() {
        let here: IpAddr = "203.0.113.5".parse().unwrap();
        let there: IpAddr = "198.51.100.7".parse().unwrap();
        let open = |client| Caller::Anonymous { client };
        let c = open(here)
            .conversation(Channel::Chat, Some(" 55 "))
            .unwrap();
        assert_eq!(
            (c.id.as_str(), c.user.as_str()),
            ("55", "chat:ip/203.0.113.5/55")
        );
        assert_ne!(
            open(there)
                .conversation(Channel::Chat, Some("55"))
                .unwrap()
                .user,
            c.user
        );
        let keyed = Caller::KeyHolder { client: here };
        let k = keyed.conversation(Channel::OpenAi, Some("55")).unwrap();
        assert_eq!(k.user, "openai:key/55");
        // Minted: 128 bits, new each time.
        let a = open(here).conversation(Channel::Chat, None).unwrap();
        let b = open(here).conversation(Channel::Chat, Some("  ")).unwrap();
        assert_eq!(a.id.len(), 32);
        assert_ne!(a.id, b.id);
        // Refused ids.
        assert!(open(here)
            .conversation(Channel::Chat, Some(&"x".repeat(129)))
            .is_err());
        assert!(open(here)
            .conversation(Channel::Chat, Some("a\nb"))
            .is_err());
        // The rate key: the address, or the address and the key holder's user.
        assert_eq!(open(here).rate_key(&c), "203.0.113.5");
        assert_eq!(open(here).rate_key(&a), open(here).rate_key(&b));
        assert_eq!(keyed.rate_key(&k), "203.0.113.5|openai:key/55");
        let local = Caller::Local {
            client: "127.0.0.1".parse().unwrap(),
        };
        let l = local.conversation(Channel::Chat, Some("55")).unwrap();
        assert_eq!(l.user, "chat:ip/127.0.0.1/55");
        assert_eq!(local.rate_key(&l), "127.0.0.1|chat:ip/127.0.0.1/55");
    }
}

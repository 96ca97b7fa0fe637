//! WhatsApp Cloud API webhook bodies, parsed into the events Raymundo acts on.
//!
//! The body is read as loose JSON and every field Raymundo needs is looked up by name, so
//! a field Meta adds tomorrow changes nothing; a message without what its kind needs (a text
//! without a body, an interactive reply without its choice) becomes `Unsupported`, never an
//! error.

use serde_json::Value;

/// One thing a webhook body tells.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message from a person.
    Message(InboundMessage),
    /// A delivery status of a message Raymundo sent.
    Status(StatusEvent),
    /// A reaction to a message (an empty emoji withdraws it).
    Reaction(ReactionEvent),
    /// Something Raymundo does not answer (a system notice, a deleted or edited message,
    /// a change outside `messages`); the word says what.
    Ignored(String),
}

/// A person's message.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    /// `wamid`.
    pub id: String,
    /// The sender's WhatsApp number.
    pub from: String,
    /// The sender's profile name, if given.
    pub name: Option<String>,
    /// The message it replies to (`context.id`), if any.
    pub reply_to: Option<String>,
    /// What it says.
    pub content: Content,
}

/// What a message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Text (also forwarded text and text from an ad referral).
    Text(String),
    /// A tapped button (`button_reply`), list row (`list_reply`) or quick-reply button:
    /// its id (payload) and its title.
    Choice {
        /// The id or payload Raymundo gave it.
        id: String,
        /// What the person saw and tapped.
        title: String,
    },
    /// Something Raymundo cannot read: `image`, `audio`, `video`, `document`, `sticker`,
    /// `location`, `contacts`, `order`, `unsupported`, an `interactive` without a choice ...
    Unsupported(String),
}

/// A delivery status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// The id of the message Raymundo sent.
    pub id: String,
    /// `sent`, `delivered`, `read`, `played`, `failed` ...
    pub status: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The recipient (a number, or a group id).
    pub recipient: String,
    /// The first error of a failure: code and title.
    pub error: Option<(i64, String)>,
}

/// A reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionEvent {
    /// The reaction's own `wamid`.
    pub id: String,
    /// Who reacted.
    pub from: String,
    /// The message reacted to.
    pub target: String,
    /// The emoji; `None` when the reaction was withdrawn.
    pub emoji: Option<String>,
}

/// Why a body cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON.
    #[error("the body is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not a WhatsApp webhook.
    #[error("not a WhatsApp Cloud API webhook: {0}")]
    Shape(&'static str),
}

/// Parses a webhook body.
pub fn parse(body: &[u8]) -> Result<Vec<Event>, ParseError> {
    let root: Value = serde_json::from_slice(body)?;
    let root = root
        .as_object()
        .ok_or(ParseError::Shape("expected a JSON object"))?;
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(ParseError::Shape("expected an \"entry\" array"))?;
    let mut events = Vec::new();
    for entry in entries {
        let changes = entry.get("changes").and_then(Value::as_array);
        for change in changes.into_iter().flatten() {
            let field = str_at(change, &["field"]).unwrap_or("messages");
            if field != "messages" {
                events.push(Event::Ignored(format!("field:{field}")));
                continue;
            }
            let Some(value) = change.get("value") else {
                continue;
            };
            read_value(value, &mut events);
        }
    }
    Ok(events)
}

fn read_value(value: &Value, events: &mut Vec<Event>) {
    let name_of = |wa_id: &str| {
        value
            .get("contacts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| str_at(c, &["wa_id"]) == Some(wa_id))
            .and_then(|c| str_at(c, &["profile", "name"]))
            .map(str::to_string)
    };
    for m in array(value, "messages") {
        let (Some(id), Some(from)) = (str_at(m, &["id"]), str_at(m, &["from"])) else {
            events.push(Event::Ignored("message without id or sender".into()));
            continue;
        };
        let kind = str_at(m, &["type"]).unwrap_or("unsupported");
        let content = match kind {
            "reaction" => {
                events.push(Event::Reaction(ReactionEvent {
                    id: id.into(),
                    from: from.into(),
                    target: str_at(m, &["reaction", "message_id"])
                        .unwrap_or_default()
                        .into(),
                    emoji: str_at(m, &["reaction", "emoji"])
                        .filter(|e| !e.is_empty())
                        .map(str::to_string),
                }));
                continue;
            }
            "system" | "revoke" | "edit" | "ephemeral" | "request_welcome" => {
                events.push(Event::Ignored(kind.into()));
                continue;
            }
            "text" => match str_at(m, &["text", "body"]).map(str::trim) {
                Some(body) if !body.is_empty() => Content::Text(body.into()),
                _ => Content::Unsupported("text without body".into()),
            },
            "interactive" => {
                let sub = str_at(m, &["interactive", "type"]).unwrap_or_default();
                match choice(m.get("interactive").and_then(|i| i.get(sub))) {
                    Some((id, title)) => Content::Choice { id, title },
                    None => Content::Unsupported("interactive".into()),
                }
            }
            "button" => {
                let payload = str_at(m, &["button", "payload"]).unwrap_or_default();
                let text = str_at(m, &["button", "text"]).unwrap_or_default();
                if payload.is_empty() && text.is_empty() {
                    Content::Unsupported("button".into())
                } else {
                    Content::Choice {
                        id: if payload.is_empty() { text } else { payload }.into(),
                        title: if text.is_empty() { payload } else { text }.into(),
                    }
                }
            }
            other => Content::Unsupported(other.into()),
        };
        events.push(Event::Message(InboundMessage {
            id: id.into(),
            from: from.into(),
            name: name_of(from),
            reply_to: str_at(m, &["context", "id"]).map(str::to_string),
            content,
        }));
    }
    for s in array(value, "statuses") {
        let Some(id) = str_at(s, &["id"]) else {
            events.push(Event::Ignored("status without id".into()));
            continue;
        };
        let error = s
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
            .map(|e| {
                (
                    e.get("code").and_then(Value::as_i64).unwrap_or(0),
                    str_at(e, &["title"])
                        .or(str_at(e, &["message"]))
                        .unwrap_or_default()
                        .to_string(),
                )
            });
        events.push(Event::Status(StatusEvent {
            id: id.into(),
            status: str_at(s, &["status"]).unwrap_or("unknown").into(),
            timestamp: s
                .get("timestamp")
                .and_then(|t| t.as_str().and_then(|t| t.parse().ok()).or(t.as_i64()))
                .unwrap_or(0),
            recipient: str_at(s, &["recipient_id"]).unwrap_or_default().into(),
            error,
        }));
    }
}

fn choice(reply: Option<&Value>) -> Option<(String, String)> {
    let reply = reply?;
    let id = str_at(reply, &["id"]).unwrap_or_default();
    let title = str_at(reply, &["title"]).unwrap_or_default();
    if id.is_empty() && title.is_empty() {
        return None;
    }
    Some((
        if id.is_empty() { title } else { id }.into(),
        if title.is_empty() { id } else { title }.into(),
    ))
}

fn array<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = value;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str()
}

#[cfg(test)]
mod tests;

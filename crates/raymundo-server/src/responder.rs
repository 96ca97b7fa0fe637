//! The seam between the server and the assistant.

use std::path::PathBuf;

/// Where a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// WhatsApp Cloud API webhook.
    WhatsApp,
    /// Twilio's WhatsApp webhook.
    Twilio,
    /// Raymundo's own `POST /chat`.
    Chat,
    /// The OpenAI-compatible `POST /v1/chat/completions`.
    OpenAi,
}

impl Channel {
    /// Short lowercase name (used in user ids, store keys and metrics).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WhatsApp => "whatsapp",
            Channel::Twilio => "twilio",
            Channel::Chat => "chat",
            Channel::OpenAi => "openai",
        }
    }
}

/// A message for the assistant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The channel.
    pub channel: Channel,
    /// Who is talking, stable per person and channel (`whatsapp:<pseudonymous key>`,
    /// `chat:<user_id>` ...); never a phone number.
    pub user: String,
    /// The display name the channel gives, if any.
    pub user_name: Option<String>,
    /// What the person wrote (for a tapped button or list row, its title).
    pub text: String,
    /// The id of a tapped button or list row (its payload for quick replies).
    pub choice: Option<String>,
    /// The channel's id of the message this one replies to, if any.
    pub reply_to: Option<String>,
    /// The channel's id of this message (WhatsApp `wamid`, Twilio `MessageSid`), if it has
    /// one: feedback on the reply is linked to the turn through it.
    pub message_id: Option<String>,
}

/// The assistant's reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    /// The text (Markdown; each channel reshapes it).
    pub text: String,
    /// Files the reply sends (a `.pptx` written by an action).
    pub files: Vec<PathBuf>,
    /// The documents the answer was taken from.
    pub sources: Vec<String>,
    /// Who wrote the answer (`extractive`, `local`, a provider's name), if known.
    pub provider: Option<String>,
    /// False when the question was declined as outside the documents.
    pub in_scope: bool,
}

/// The assistant as the server sees it.
pub trait Responder: Send + Sync + 'static {
    /// Replies to `msg`. Blocking: the server calls it from worker threads, never on the
    /// async runtime. `on_text` receives pieces of the text as they are written, when the
    /// assistant streams; the full text is in the returned [`Reply`] either way.
    fn reply(&self, msg: &Incoming, on_text: &mut dyn FnMut(&str)) -> anyhow::Result<Reply>;

    /// Forgets what `user` said before (history and pending requests).
    fn clear_history(&self, user: &str) -> anyhow::Result<()>;
}

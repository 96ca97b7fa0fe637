//! The contract every language-model provider fulfils: chat messages in, streamed text out.

use std::time::Duration;

/// Who wrote a message of the conversation sent to a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person asking.
    User,
    /// The model's earlier replies.
    Assistant,
}

impl Role {
    /// The role's name in the OpenAI and Ollama wire formats.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One message of a chat request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// Its text.
    pub content: String,
}

impl ChatMessage {
    /// A message with this role and text.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// What is asked of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The conversation, system message first.
    pub messages: Vec<ChatMessage>,
    /// Longest answer in tokens.
    pub max_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    pub temperature: f32,
}

/// A finished answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The whole text the model wrote (what was streamed, concatenated).
    pub text: String,
    /// The provider's configured name (`local`, `groq`, ...).
    pub provider: String,
    /// The model that answered, as the provider reports it.
    pub model: String,
    /// Tokens of the prompt, when the provider reports them.
    pub prompt_tokens: Option<usize>,
    /// Tokens of the answer, when the provider reports them.
    pub completion_tokens: Option<usize>,
    /// Time from the request to the first streamed text.
    pub first_token: Option<Duration>,
    /// Time from the request to the end of the answer.
    pub total: Duration,
    /// Whether the answer was cut at `max_tokens` (or the provider's own length limit).
    pub truncated: bool,
}

/// Why a provider gave no answer. [`LlmError::retryable`] tells a retry loop or a fallback
/// chain whether trying again (here or with the next provider) can help.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No response within the configured time.
    #[error("{provider}: no response within {after:?}")]
    Timeout {
        /// Provider name.
        provider: String,
        /// The limit that passed.
        after: Duration,
    },
    /// The server could not be reached.
    #[error("{provider}: cannot connect to {url}: {message}")]
    Connection {
        /// Provider name.
        provider: String,
        /// The URL tried.
        url: String,
        /// The cause in words.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{provider}: HTTP {status} from {url}: {body}")]
    Status {
        /// Provider name.
        provider: String,
        /// The URL tried.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The start of the response body (the server's explanation).
        body: String,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The response was not in the expected wire format.
    #[error("{provider}: malformed response: {message}")]
    Malformed {
        /// Provider name.
        provider: String,
        /// What was wrong, with the offending text.
        message: String,
    },
    /// The provider is not usable as configured (missing key, missing model file ...).
    #[error("{provider}: {message}")]
    Config {
        /// Provider name.
        provider: String,
        /// What is missing or wrong.
        message: String,
    },
    /// The model ran and failed.
    #[error("{provider}: {message}")]
    Model {
        /// Provider name.
        provider: String,
        /// The cause in words.
        message: String,
    },
}

impl LlmError {
    /// Whether the same request may succeed later: timeouts, refused connections, HTTP 408,
    /// 409, 429 and 5xx. Wrong keys (401/403), bad requests and malformed answers are not
    /// retried against the same provider (a fallback chain still moves on to the next one).
    pub fn retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Connection { .. } => true,
            Self::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            Self::Malformed { .. } | Self::Config { .. } | Self::Model { .. } => false,
        }
    }

    /// The provider that failed.
    pub fn provider(&self) -> &str {
        match self {
            Self::Timeout { provider, .. }
            | Self::Connection { provider, .. }
            | Self::Status { provider, .. }
            | Self::Malformed { provider, .. }
            | Self::Config { provider, .. }
            | Self::Model { provider, .. } => provider,
        }
    }
}

/// A language model that answers chat requests.
///
/// `on_text` receives the answer piece by piece as it is written (a provider that cannot
/// stream calls it once with the whole text); the returned [`Completion`] holds it all.
pub trait ChatProvider: Send + Sync {
    /// The configured name, recorded with every answer (`local`, `groq`, `ollama` ...).
    fn name(&self) -> &str;
    /// The model's context window in tokens: prompt and answer together must fit.
    fn context_tokens(&self) -> usize;
    /// Roughly how many tokens `text` takes for this model (prompt budgeting). The default
    /// assumes about four characters per token, which over-counts for English and is close
    /// for Spanish; providers with a real tokenizer override it.
    fn count_tokens(&self, text: &str) -> usize {
        text.chars().count().div_ceil(4)
    }
    /// Tokens of snippet text this provider should read, when it is a small model whose
    /// reading is the slow part: the passages are then cut to their most relevant sentences
    /// ([`crate::focus`]) in a plain numbered layout, and its answer is shown a sentence at
    /// a time, ending before a sentence with a number the snippets do not have
    /// ([`crate::grounding`]). `None` (the default) sends whole passages, as many as the
    /// context holds.
    fn snippet_budget(&self) -> Option<usize> {
        None
    }
    /// A small model's own system text, used instead of the project's personality (a
    /// 0.5B model follows a short plain text and misreads rule lists). `None`: the project's.
    fn system_text(&self) -> Option<&str> {
        None
    }
    /// Answers `request`, streaming text to `on_text`.
    fn chat(
        &self,
        request: &ChatRequest,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError>;
}

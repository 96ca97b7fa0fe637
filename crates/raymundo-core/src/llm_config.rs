//! Language-model settings (`[llm]`, `[llm.local]`, `[[llm.providers]]`).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How answers are written: the fallback chain, the prompt and the conversation memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Providers tried in order until one answers: `local`, `extractive` or the `name` of a
    /// `[[llm.providers]]` entry. `extractive` is always appended as the last resort.
    pub chain: Vec<String>,
    /// The system text (the assistant's personality and rules), relative to the project
    /// root; a Spanish default is used when the file does not exist.
    pub personality: PathBuf,
    /// Longest answer in tokens.
    pub max_answer_tokens: usize,
    /// Sampling temperature (0 is greedy, the most faithful to the documents).
    pub temperature: f32,
    /// Earlier turns of the conversation sent with a question.
    pub history_turns: usize,
    /// Turns older than this many minutes are forgotten.
    pub history_minutes: u64,
    /// The in-process model.
    pub local: LocalModelConfig,
    /// Remote providers (OpenAI-compatible servers and Ollama).
    pub providers: Vec<ProviderConfig>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            chain: vec!["extractive".into()],
            personality: "data/personalidad.md".into(),
            max_answer_tokens: 200,
            temperature: 0.0,
            history_turns: 6,
            history_minutes: 30,
            local: LocalModelConfig::default(),
            providers: Vec::new(),
        }
    }
}

/// The in-process model (`[llm.local]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalModelConfig {
    /// A catalogue name (`qwen2.5-coder-0.5b-instruct`) or the path of a Qwen2-family GGUF
    /// file; a path needs `tokenizer` too.
    pub model: String,
    /// `tokenizer.json` for a model given by path.
    pub tokenizer: Option<PathBuf>,
    /// Context window in tokens (prompt and answer together).
    pub context_tokens: usize,
    /// The model's own system text (a file, relative to the project); default a short
    /// Spanish text written for small models, which misread the project's rule list.
    pub personality: Option<PathBuf>,
    /// Tokens of document text the model reads per question: the retrieved passages are cut
    /// to their sentences most relevant to the question. On a CPU every prompt token costs
    /// time before the first word (about 4 ms each on two cores with AVX-512 VNNI, 8 ms with
    /// AVX2, measured); 0 sends whole passages.
    pub snippet_tokens: usize,
}

impl Default for LocalModelConfig {
    fn default() -> Self {
        Self {
            model: "qwen2.5-coder-0.5b-instruct".into(),
            tokenizer: None,
            context_tokens: 2048,
            personality: None,
            snippet_tokens: 120,
        }
    }
}

/// The wire format a remote provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible `POST {base_url}/chat/completions` (OpenAI, Groq, Mistral, GitHub
    /// Models, vLLM, llama.cpp server, LM Studio, Ollama's `/v1`).
    Openai,
    /// Ollama's native `POST {base_url}/api/chat`.
    Ollama,
}

/// One remote provider (`[[llm.providers]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The name used in `chain` and recorded with every answer.
    pub name: String,
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL, e.g. `https://api.groq.com/openai/v1` or `http://127.0.0.1:11434`.
    pub base_url: String,
    /// Model name sent to the server.
    pub model: String,
    /// Environment variable (or `.env` entry) holding the API key; none for local servers.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Sampling temperature (default: `[llm] temperature`).
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Longest answer in tokens (default: `[llm] max_answer_tokens`).
    #[serde(default)]
    pub max_tokens: Option<usize>,
    /// Stream the answer (server-sent events or JSON lines).
    #[serde(default = "yes")]
    pub stream: bool,
    /// Seconds to wait for the connection and for each piece of the response.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// Retries after a retryable failure (timeout, refused connection, 429, 5xx).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The model's context window in tokens.
    #[serde(default = "default_context")]
    pub context_tokens: usize,
}

fn yes() -> bool {
    true
}

fn default_timeout() -> f64 {
    30.0
}

fn default_retries() -> u32 {
    2
}

fn default_context() -> usize {
    8192
}

impl LlmConfig {
    /// Checks the chain against the providers; the error is `(field, message)`.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        let mut names = std::collections::HashSet::new();
        for (i, p) in self.providers.iter().enumerate() {
            let field = format!("llm.providers[{i}]");
            if ["local", "extractive"].contains(&p.name.as_str()) {
                return Err((
                    format!("{field}.name"),
                    format!("{:?} is reserved for the built-in provider", p.name),
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err((
                    format!("{field}.name"),
                    format!("{:?} is used by two providers", p.name),
                ));
            }
            if !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://")) {
                return Err((
                    format!("{field}.base_url"),
                    format!("expected an http:// or https:// URL, got {:?}", p.base_url),
                ));
            }
            if p.timeout_secs.is_nan() || p.timeout_secs <= 0.0 {
                return Err((
                    format!("{field}.timeout_secs"),
                    format!("must be positive, got {}", p.timeout_secs),
                ));
            }
        }
        for name in &self.chain {
            if !["local", "extractive"].contains(&name.as_str()) && !names.contains(name.as_str()) {
                let mut known: Vec<&str> = vec!["local", "extractive"];
                known.extend(self.providers.iter().map(|p| p.name.as_str()));
                return Err((
                    "llm.chain".into(),
                    format!(
                        "unknown provider {name:?}; expected one of {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        if self.max_answer_tokens == 0 {
            return Err(("llm.max_answer_tokens".into(), "must be at least 1".into()));
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err((
                "llm.temperature".into(),
                format!("must be in [0, 2], got {}", self.temperature),
            ));
        }
        Ok(())
    }
}

//! The in-process model as a [`ChatProvider`]: no key, no network.
//!
//! The model is loaded on first use (about a second from the converted cache, longer the
//! very first time), so commands that never need it (an out-of-scope question, a search)
//! do not pay for it.

use crate::chat::{ChatProvider, ChatRequest, Completion, LlmError};
use raymundo_qwen::{ChatModel, Options};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

/// Finds the model files when first needed (fetching them if the cache lacks them).
pub type Locator = Box<dyn Fn() -> Result<(PathBuf, PathBuf), String> + Send + Sync>;

/// A Qwen2-family GGUF model run in this process.
pub struct LocalProvider {
    locate: Locator,
    context: usize,
    snippet_budget: Option<usize>,
    system: String,
    model: OnceLock<Result<ChatModel, String>>,
}

const NAME: &str = "local";

impl LocalProvider {
    /// A provider whose files `locate` returns as `(gguf, tokenizer.json)`; `context` caps
    /// prompt plus answer in tokens.
    pub fn new(locate: Locator, context: usize) -> Self {
        Self {
            locate,
            context,
            snippet_budget: None,
            system: crate::prompt::SMALL_MODEL_PERSONALITY.to_string(),
            model: OnceLock::new(),
        }
    }

    /// Uses `system` as the system text instead of [`crate::prompt::SMALL_MODEL_PERSONALITY`].
    pub fn with_system(mut self, system: String) -> Self {
        self.system = system;
        self
    }

    /// Cuts the snippets to their best sentences, `tokens` in all (0: whole passages).
    pub fn with_snippet_budget(mut self, tokens: usize) -> Self {
        self.snippet_budget = (tokens > 0).then_some(tokens);
        self
    }

    /// The loaded model, loading it now if needed.
    pub fn model(&self) -> Result<&ChatModel, LlmError> {
        self.model
            .get_or_init(|| {
                let started = Instant::now();
                let (gguf, tokenizer) = (self.locate)()?;
                let m =
                    ChatModel::load(&gguf, &tokenizer, self.context).map_err(|e| e.to_string())?;
                tracing::info!(
                    "local model loaded in {:.2} s ({} kernel)",
                    started.elapsed().as_secs_f64(),
                    m.model().kernel().name()
                );
                Ok(m)
            })
            .as_ref()
            .map_err(|message| LlmError::Config {
                provider: NAME.into(),
                message: message.clone(),
            })
    }
}

impl ChatProvider for LocalProvider {
    fn name(&self) -> &str {
        NAME
    }

    fn context_tokens(&self) -> usize {
        self.context
    }

    fn snippet_budget(&self) -> Option<usize> {
        self.snippet_budget
    }

    fn system_text(&self) -> Option<&str> {
        Some(&self.system)
    }

    fn count_tokens(&self, text: &str) -> usize {
        match self.model() {
            Ok(m) => m.count_tokens(text),
            Err(_) => text.chars().count().div_ceil(3),
        }
    }

    fn chat(
        &self,
        request: &ChatRequest,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError> {
        let model = self.model()?;
        let messages: Vec<(&str, &str)> = request
            .messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        let options = Options {
            max_tokens: request.max_tokens,
            temperature: request.temperature,
            ..Options::default()
        };
        let g = model
            .chat(&messages, &options, on_text)
            .map_err(|e| LlmError::Model {
                provider: NAME.into(),
                message: e.to_string(),
            })?;
        Ok(Completion {
            text: g.text,
            provider: NAME.into(),
            model: model.model().name.clone(),
            prompt_tokens: Some(g.prompt_tokens),
            completion_tokens: Some(g.answer_tokens),
            first_token: Some(g.first_token),
            total: g.total,
            truncated: g.truncated,
        })
    }
}

//! Builds the answer chain a project asks for: `[llm] chain` (or `--llm NAME`), the local
//! model's files, remote providers with their keys from the environment or `.env`, and the
//! system text from `data/personalidad.md`.

use anyhow::{bail, Context, Result};
use raymundo_core::{Config, Embedder, ProviderKind};
use raymundo_llm::chain::{AnswerChain, ChainSettings};
use raymundo_llm::local::LocalProvider;
use raymundo_llm::prompt::DEFAULT_PERSONALITY;
use raymundo_llm::{ChatProvider, ExtractiveAnswerer, OllamaProvider, OpenAiProvider};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads `KEY=VALUE` lines of the project's `.env` (comments, `export` and quotes allowed).
pub fn dotenv(root: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(root.join(".env")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// The local model's files: a catalogue name (fetched and verified into the cache on first
/// use) or a GGUF path with its tokenizer.
fn local_files(config: &Config) -> Result<(PathBuf, PathBuf), String> {
    let local = &config.llm.local;
    if let Some(spec) = raymundo_qwen::local_model(&local.model) {
        let source = raymundo_embed::fetch::Source::from_env();
        let files = raymundo_qwen::catalog::ensure(spec, source, &mut |l| {
            tracing::info!("{l}");
        })
        .map_err(|e| e.to_string())?;
        return Ok((files.gguf, files.tokenizer));
    }
    let gguf = config.root.join(&local.model);
    if !gguf.is_file() {
        let known: Vec<&str> = raymundo_qwen::LOCAL_MODELS.iter().map(|m| m.name).collect();
        return Err(format!(
            "[llm.local] model {:?} is neither a known model ({}) nor a GGUF file",
            local.model,
            known.join(", ")
        ));
    }
    let tokenizer = local
        .tokenizer
        .as_ref()
        .map(|t| config.root.join(t))
        .ok_or("[llm.local] tokenizer is required when model is a GGUF path")?;
    Ok((gguf, tokenizer))
}

/// The chain for `config`, or just `only` (a provider name, `local` or `extractive`).
pub fn build(
    config: &Config,
    only: Option<&str>,
    embedder: Arc<dyn Embedder>,
) -> Result<AnswerChain> {
    let names: Vec<String> = match only {
        Some(n) => vec![n.to_string()],
        None => config.llm.chain.clone(),
    };
    let env = dotenv(&config.root);
    let lookup = |k: &str| {
        std::env::var(k)
            .ok()
            .or_else(|| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
    };
    let mut providers: Vec<Arc<dyn ChatProvider>> = Vec::new();
    for name in &names {
        match name.as_str() {
            "extractive" => {}
            "local" => {
                let cfg = config.clone();
                let mut local = LocalProvider::new(
                    Box::new(move || local_files(&cfg)),
                    config.llm.local.context_tokens,
                )
                .with_snippet_budget(config.llm.local.snippet_tokens);
                if let Some(file) = &config.llm.local.personality {
                    let path = config.root.join(file);
                    let text = std::fs::read_to_string(&path).with_context(|| {
                        format!("reading [llm.local] personality {}", path.display())
                    })?;
                    local = local.with_system(text.trim().to_string());
                }
                providers.push(Arc::new(local));
            }
            other => {
                let Some(p) = config.llm.providers.iter().find(|p| p.name == other) else {
                    let mut known = vec!["local".to_string(), "extractive".to_string()];
                    known.extend(config.llm.providers.iter().map(|p| p.name.clone()));
                    bail!(
                        "unknown LLM provider {other:?}; expected one of {}",
                        known.join(", ")
                    );
                };
                let provider: Arc<dyn ChatProvider> = match p.kind {
                    ProviderKind::Openai => Arc::new(OpenAiProvider::from_config(p, lookup)?),
                    ProviderKind::Ollama => Arc::new(OllamaProvider::from_config(p, lookup)?),
                };
                providers.push(provider);
            }
        }
    }
    let system = personality(config)?;
    Ok(AnswerChain::new(
        providers,
        ExtractiveAnswerer::new(Some(embedder), config.answer.max_sentences)
            .with_max_words(config.answer.max_words),
        ChainSettings {
            system,
            max_answer_tokens: config.llm.max_answer_tokens,
            temperature: config.llm.temperature,
            not_found_reply: config.answer.out_of_scope.clone(),
        },
    ))
}

/// The system text of the project: its personality file (`[llm] personality`), or the
/// built-in one when the file does not exist.
pub(crate) fn personality(config: &Config) -> Result<String> {
    let path = config.root.join(&config.llm.personality);
    if path.is_file() {
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    } else {
        Ok(DEFAULT_PERSONALITY.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_reads_keys_with_quotes_comments_and_export() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "# claves\nGROQ_API_KEY=\"gsk_123\"\nexport MISTRAL_API_KEY='m-456'\nVACIA=\n",
        )
        .unwrap();
        let env = dotenv(dir.path());
        assert_eq!(
            env,
            vec![
                ("GROQ_API_KEY".to_string(), "gsk_123".to_string()),
                ("MISTRAL_API_KEY".to_string(), "m-456".to_string()),
                ("VACIA".to_string(), String::new()),
            ]
        );
    }
}

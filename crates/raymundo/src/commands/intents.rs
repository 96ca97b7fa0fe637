//! `raymundo intents check` and `raymundo intents classify "mensaje"`.

use crate::intent_engine::{method_of, IntentEngine};
use crate::project::{load_config, Assistant};
use anyhow::{bail, Result};
use raymundo_core::Embedder;
use raymundo_intents::extract::extract;
use raymundo_intents::{IntentSet, ParamType};
use std::path::Path;

/// Flags of `intents`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Validate the intents file; with a built index, also warn about examples closer to
    /// another intent than to their own, and train the classifier.
    Check,
    /// Show the intent of a message, the confidence, the runner-up and the parameters found.
    Classify {
        /// The message.
        message: String,
        /// Classification method (default: the configured one).
        #[arg(long)]
        method: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `intents`.
pub fn run(root: &Path, args: Args) -> Result<()> {
    match args.what {
        What::Check => check(root),
        What::Classify {
            message,
            method,
            json,
        } => classify(root, &message, method.as_deref(), json),
    }
}

fn describe(kind: &ParamType) -> String {
    match kind {
        ParamType::Integer { min, max } => match (min, max) {
            (Some(a), Some(b)) => format!("integer {a}..={b}"),
            (Some(a), None) => format!("integer >= {a}"),
            (None, Some(b)) => format!("integer <= {b}"),
            (None, None) => "integer".into(),
        },
        ParamType::OneOf(v) => format!("one of {}", v.join("|")),
        other => other.name().into(),
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn check(root: &Path) -> Result<()> {
    let config = load_config(root)?;
    let path = config.intents_file();
    let set = IntentSet::load(&path)?;
    println!("{}: {} intents", path.display(), set.intents.len());
    let mut warnings = 0;
    for i in &set.intents {
        let params: Vec<String> = i
            .parameters
            .iter()
            .map(|p| {
                format!(
                    "{} ({}{})",
                    p.name,
                    describe(&p.kind),
                    if p.required { ", asked" } else { "" }
                )
            })
            .collect();
        println!(
            "  {:<22} {:>2} examples  action {:<18} {}",
            i.name,
            i.examples.len(),
            i.action_name(),
            if params.is_empty() {
                "no parameters".to_string()
            } else {
                params.join(", ")
            }
        );
        if i.examples.len() < 5 {
            println!(
                "    warning: only {} examples; 8 or more make recognition reliable",
                i.examples.len()
            );
            warnings += 1;
        }
    }
    if !config.index_dir().join("index.rmx").exists() {
        println!("The file is valid. Run `raymundo build` to check the examples against each other with the model.");
        return Ok(());
    }
    let assistant = Assistant::open(root)?;
    // Each example against the centroid of its own intent (without itself) and of the others.
    let mut vectors: Vec<Vec<Vec<f32>>> = Vec::new();
    for i in &set.intents {
        let mut v = Vec::new();
        for e in &i.examples {
            v.push(assistant.embedder.embed_query(e)?);
        }
        vectors.push(v);
    }
    let dim = assistant.embedder.dim();
    let sum = |vs: &[Vec<f32>]| {
        let mut s = vec![0.0f32; dim];
        for v in vs {
            s.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        }
        s
    };
    let sums: Vec<Vec<f32>> = vectors.iter().map(|v| sum(v)).collect();
    let unit = |mut v: Vec<f32>| {
        let n = dot(&v, &v).sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= n);
        v
    };
    for (ci, intent) in set.intents.iter().enumerate() {
        for (ei, example) in intent.examples.iter().enumerate() {
            let v = &vectors[ci][ei];
            if vectors[ci].len() < 2 {
                continue;
            }
            let own: Vec<f32> = sums[ci].iter().zip(v).map(|(s, x)| s - x).collect();
            let own_score = dot(v, &unit(own));
            let closest = set
                .intents
                .iter()
                .enumerate()
                .filter(|(cj, _)| *cj != ci)
                .map(|(cj, other)| (other, dot(v, &unit(sums[cj].clone()))))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((other, score)) = closest {
                if score > own_score {
                    println!(
                        "  warning: {}: {example:?} is closer to {} ({score:.3}) than to its own intent ({own_score:.3})",
                        intent.name, other.name
                    );
                    warnings += 1;
                }
            }
        }
    }
    let method = method_of(&assistant, None)?;
    let Some(engine) = IntentEngine::load(&assistant, method)? else {
        bail!("no intents to train on");
    };
    if engine.trained_now {
        println!(
            "Trained the {} classifier in {:.0} ms (cached in {}).",
            method.as_str(),
            engine.train_ms,
            engine.cache.display()
        );
    } else {
        println!(
            "The {} classifier in {} is up to date.",
            method.as_str(),
            engine.cache.display()
        );
    }
    println!(
        "{warnings} warning{}.",
        if warnings == 1 { "" } else { "s" }
    );
    Ok(())
}

fn classify(root: &Path, message: &str, method: Option<&str>, json: bool) -> Result<()> {
    let assistant = Assistant::open(root)?;
    let method = method_of(&assistant, method)?;
    let Some(engine) = IntentEngine::load(&assistant, method)? else {
        bail!(
            "no intents: {} does not exist or is empty",
            assistant.config.intents_file().display()
        );
    };
    let (c, embed_ms, score_ms) = engine.classify(&assistant, message)?;
    let today = chrono::Local::now().date_naive();
    let found = c
        .intent
        .as_deref()
        .and_then(|name| engine.set.get(name))
        .map(|spec| extract(message, &spec.parameters, today));
    if json {
        let out = serde_json::json!({
            "message": message,
            "intent": c.intent,
            "best": c.best,
            "confidence": c.confidence,
            "margin": c.margin,
            "no_intent": c.no_intent,
            "ranking": c.ranking,
            "method": method.as_str(),
            "min_confidence": engine.classifier.thresholds.min_confidence,
            "min_margin": engine.classifier.thresholds.min_margin,
            "parameters": found.as_ref().map(|f| &f.values),
            "problems": found.as_ref().map(|f| f.problems.iter().map(|p| serde_json::json!({"param": p.param, "message": p.message})).collect::<Vec<_>>()),
            "embed_ms": embed_ms,
            "classify_ms": score_ms,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    match &c.intent {
        Some(i) => println!(
            "{i} (confidence {:.3}, margin {:.3})",
            c.confidence, c.margin
        ),
        None => println!(
            "no intent (best {} at {:.3}, margin {:.3}; needs {:.2} and {:.2}) -> answered from the documents",
            c.best,
            c.confidence,
            c.margin,
            engine.classifier.thresholds.min_confidence,
            engine.classifier.thresholds.min_margin
        ),
    }
    for (name, score) in c.ranking.iter().take(3) {
        println!("  {name:<22} {score:.3}");
    }
    if let Some(p) = c.no_intent {
        println!("  {:<22} {p:.3}", "(no intent)");
    }
    if let Some(f) = found {
        for (k, v) in &f.values {
            println!("  parameter {k} = {v}");
        }
        for p in &f.problems {
            println!("  problem with {}: {}", p.param, p.message);
        }
    }
    eprintln!(
        "(embedding {embed_ms:.1} ms, classification {:.0} µs)",
        score_ms * 1000.0
    );
    Ok(())
}

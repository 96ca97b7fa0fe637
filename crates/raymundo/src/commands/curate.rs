//! `raymundo curate`: closes the loop from reviews to the assistant.
//!
//! 1. Every reviewed turn with a corrected answer becomes a curated FAQ entry,
//!    `data/docs/curadas/interaccion-<id>.md` (front matter `source: faq`, the question as
//!    heading, the corrected answer as body), which the next `raymundo build` indexes. The
//!    name comes from the interaction's id, so running again rewrites rather than
//!    duplicates (and removes the entry if the corrected answer is withdrawn); the question
//!    is the message as stored (already scrubbed of personal data).
//! 2. Every corrected intent becomes an example of that intent in `data/intents.json`
//!    (duplicates skipped; `none` adds nothing: the file has no list of negative examples).
//!    The change is shown as a unified diff and applied after confirmation (`--yes` applies
//!    without asking; without a terminal and without `--yes` nothing is written), atomically.

use crate::intents_edit::{add_example, unified_diff, write_atomically};
use anyhow::{bail, Context, Result};
use raymundo_intents::IntentSet;
use raymundo_store::{Interaction, InteractionFilter};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Flags of `curate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Apply the changes to the intents file without asking.
    #[arg(long, short = 'y')]
    yes: bool,
}

/// The folder of curated entries, under `data/docs/`.
pub const CURATED_FOLDER: &str = "curadas";

/// The curated entry of a turn: its file name and content, or `None` without a corrected
/// answer.
pub fn curated_entry(i: &Interaction) -> Option<(String, String)> {
    let answer = i.review.as_ref()?.corrected_answer.as_deref()?.trim();
    if answer.is_empty() {
        return None;
    }
    let question = i
        .turn
        .message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let title = question.replace('"', "'");
    let text = format!("---\ntitle: \"{title}\"\nsource: faq\n---\n\n# {question}\n\n{answer}\n",);
    Some((format!("interaccion-{}.md", i.id), text))
}

/// What writing the curated entries did.
#[derive(Debug, Default, PartialEq)]
pub struct DocsReport {
    /// Files created.
    pub created: Vec<PathBuf>,
    /// Files rewritten because the review changed.
    pub updated: Vec<PathBuf>,
    /// Files already up to date.
    pub unchanged: usize,
    /// Files removed because their review no longer has a corrected answer.
    pub removed: Vec<PathBuf>,
}

/// Writes the curated entries of `reviewed` into `folder`.
pub fn write_curated(reviewed: &[Interaction], folder: &Path) -> Result<DocsReport> {
    let mut report = DocsReport::default();
    for i in reviewed {
        let Some((name, text)) = curated_entry(i) else {
            let stale = folder.join(format!("interaccion-{}.md", i.id));
            if stale.exists() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("removing {}", stale.display()))?;
                report.removed.push(stale);
            }
            continue;
        };
        let path = folder.join(name);
        match std::fs::read_to_string(&path) {
            Ok(old) if old == text => report.unchanged += 1,
            Ok(_) => {
                write_atomically(&path, text.as_bytes())?;
                report.updated.push(path);
            }
            Err(_) => {
                write_atomically(&path, text.as_bytes())?;
                report.created.push(path);
            }
        }
    }
    Ok(report)
}

fn normalised(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The examples to add: (intent, message) for every corrected intent of the file not
/// already among its examples, oldest review first; and the labels that name no intent.
pub fn new_examples(
    reviewed: &[Interaction],
    set: &IntentSet,
) -> (Vec<(String, String)>, Vec<String>) {
    let mut add: Vec<(String, String)> = Vec::new();
    let mut unknown = Vec::new();
    for i in reviewed.iter().rev() {
        let Some(intent) = i
            .review
            .as_ref()
            .and_then(|r| r.corrected_intent.as_deref())
        else {
            continue;
        };
        if intent == "none" {
            continue;
        }
        let Some(spec) = set.get(intent) else {
            unknown.push(format!("#{} {intent}", i.id));
            continue;
        };
        let message = i.turn.message.trim();
        let key = normalised(message);
        let known = spec.examples.iter().any(|e| normalised(e) == key)
            || add.iter().any(|(n, e)| n == intent && normalised(e) == key);
        if !known && !message.is_empty() {
            add.push((intent.to_string(), message.to_string()));
        }
    }
    (add, unknown)
}

fn confirm(question: &str) -> Result<bool> {
    print!("{question} [s/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_lowercase().as_str(),
        "s" | "si" | "sí" | "y" | "yes"
    ))
}

/// Runs `curate`.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let config = crate::project::load_config(root)?;
    let store = crate::interaction_log::open_recorded(&config)?;
    let reviewed: Vec<Interaction> = store
        .interactions(&InteractionFilter::default())?
        .into_iter()
        .filter(|i| i.review.is_some())
        .collect();

    let folder = config.docs_dir().join(CURATED_FOLDER);
    let docs = write_curated(&reviewed, &folder)?;
    let rel = |p: &Path| {
        p.strip_prefix(&config.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    for p in &docs.created {
        println!("new curated entry: {}", rel(p));
    }
    for p in &docs.updated {
        println!("updated curated entry: {}", rel(p));
    }
    for p in &docs.removed {
        println!(
            "removed curated entry (its corrected answer was withdrawn): {}",
            rel(p)
        );
    }
    println!(
        "curated entries: {} new, {} updated, {} unchanged, {} removed{}",
        docs.created.len(),
        docs.updated.len(),
        docs.unchanged,
        docs.removed.len(),
        if docs.created.is_empty() && docs.updated.is_empty() && docs.removed.is_empty() {
            ""
        } else {
            " (run `raymundo build` to index them)"
        }
    );

    let path = config.intents_file();
    if !path.exists() {
        println!("no {}: no intent examples to add", rel(&path));
        return Ok(());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let set = IntentSet::parse(&text, &path)?;
    let (add, unknown) = new_examples(&reviewed, &set);
    for u in &unknown {
        eprintln!(
            "warning: corrected intent {u} is not in {}; skipped",
            rel(&path)
        );
    }
    if add.is_empty() {
        println!("intent examples: nothing new for {}", rel(&path));
        return Ok(());
    }
    let mut new_text = text.clone();
    for (intent, example) in &add {
        new_text = add_example(&new_text, intent, example)
            .with_context(|| format!("adding an example to {intent} in {}", path.display()))?;
    }
    // Never write a file the assistant could not load.
    let check = IntentSet::parse(&new_text, &path)?;
    for (intent, example) in &add {
        let ok = check
            .get(intent)
            .is_some_and(|s| s.examples.iter().any(|e| e == example.trim()));
        if !ok {
            bail!("internal error: the edited intents file lacks {example:?} in {intent}");
        }
    }
    print!("{}", unified_diff(&text, &new_text, &rel(&path)));
    let apply = if args.yes {
        true
    } else if std::io::stdin().is_terminal() {
        confirm(&format!(
            "¿Añadir {} ejemplo(s) a {}?",
            add.len(),
            rel(&path)
        ))?
    } else {
        bail!(
            "{} not changed: there is no terminal to confirm on; run `raymundo curate --yes` to apply",
            rel(&path)
        );
    };
    if !apply {
        println!("{} not changed", rel(&path));
        return Ok(());
    }
    write_atomically(&path, new_text.as_bytes())?;
    println!(
        "intent examples: {} added to {} (the classifier retrains at the next start)",
        add.len(),
        rel(&path)
    );
    Ok(())
}

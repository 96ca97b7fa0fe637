//! `raymundo review`: the review pages' job in the terminal. Walks the unreviewed turns of
//! the interaction log (newest first, with the same filters as `/admin`), shows each one
//! compactly and asks for a verdict, then optionally the corrected answer and intent.
//!
//! It reads plain lines from stdin, so it can be driven by a pipe as well as by a person.

use anyhow::{Context, Result};
use raymundo_intents::IntentSet;
use raymundo_store::{Interaction, InteractionFilter, Interactions, Review, Verdict};
use std::io::{BufRead, Write};
use std::path::Path;

/// Flags of `review`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only turns declined as outside the documents.
    #[arg(long)]
    out_of_scope: bool,
    /// Only turns whose reply got a 👎.
    #[arg(long)]
    thumbs_down: bool,
    /// Only turns about this intent.
    #[arg(long, value_name = "NAME")]
    intent: Option<String>,
    /// Only turns from this channel (`whatsapp`, `twilio`, `chat_api`, `openai_api`, `cli`).
    #[arg(long, value_name = "NAME")]
    channel: Option<String>,
    /// At most this many turns (0: all).
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Who is reviewing (default: $USER).
    #[arg(long, value_name = "NAME")]
    reviewer: Option<String>,
}

/// What the reviewer answered for one turn.
#[derive(Debug, PartialEq)]
enum Choice {
    Verdict(Verdict),
    Skip,
    Quit,
}

fn parse_choice(line: &str) -> Option<Choice> {
    match line.trim().to_lowercase().as_str() {
        "c" | "correct" | "correcta" => Some(Choice::Verdict(Verdict::Correct)),
        "i" | "incorrect" | "incorrecta" => Some(Choice::Verdict(Verdict::Incorrect)),
        "o" | "out_of_scope" | "fuera" => Some(Choice::Verdict(Verdict::OutOfScope)),
        "s" | "skip" | "saltar" | "" => Some(Choice::Skip),
        "q" | "quit" | "salir" => Some(Choice::Quit),
        _ => None,
    }
}

/// The next line of input without its newline; `None` at the end of input.
fn read_line(input: &mut dyn BufRead) -> Result<Option<String>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\n', '\r']).to_string()))
}

fn short(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s: String = one_line.chars().take(max).collect();
    if one_line.chars().count() > max {
        s.push('…');
    }
    s
}

/// One turn in a few lines.
fn show(i: &Interaction) -> String {
    let t = &i.turn;
    let when = chrono::DateTime::from_timestamp(t.at, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let intent = match (&t.intent, t.confidence) {
        (Some(name), Some(c)) => format!("intención {name} ({c:.2})"),
        (Some(name), None) => format!("intención {name}"),
        (None, _) => "sin intención".into(),
    };
    let scope = match t.in_scope {
        Some(true) => "dentro del alcance",
        Some(false) => "fuera de alcance",
        None => "sin pregunta",
    };
    let mut s = format!(
        "#{} · {when} · {} · {intent} · {} · {scope}{}{}\n",
        i.id,
        t.channel,
        t.provider.as_deref().unwrap_or("—"),
        if t.handed_off { " · derivada" } else { "" },
        match i.feedback {
            Some(x) if x < 0 => " · 👎",
            Some(_) => " · 👍",
            None => "",
        }
    );
    s.push_str(&format!("  Mensaje:   {}\n", short(&t.message, 300)));
    if let Some(q) = &t.query {
        s.push_str(&format!("  Consulta:  {}\n", short(q, 300)));
    }
    s.push_str(&format!("  Respuesta: {}\n", short(&t.answer, 600)));
    if !t.chunks.is_empty() {
        let chunks: Vec<String> = t
            .chunks
            .iter()
            .take(4)
            .map(|c| format!("{}#{} ({:.2})", c.doc, c.position, c.score))
            .collect();
        s.push_str(&format!("  Fuentes:   {}\n", chunks.join(", ")));
    }
    s
}

/// Asks for the corrected intent until it is empty, `none` or one of `intents`.
fn ask_intent(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    intents: &[String],
) -> Result<Option<Option<String>>> {
    loop {
        write!(
            out,
            "Intención corregida (Enter: ninguna corrección; none; {}): ",
            intents.join(", ")
        )?;
        out.flush()?;
        let Some(line) = read_line(input)? else {
            return Ok(None);
        };
        let name = line.trim();
        if name.is_empty() {
            return Ok(Some(None));
        }
        if name == "none" || intents.iter().any(|i| i == name) {
            return Ok(Some(Some(name.to_string())));
        }
        writeln!(out, "No existe la intención {name:?}.")?;
    }
}

/// Counts of what happened.
#[derive(Debug, Default)]
struct Tally {
    reviewed: usize,
    skipped: usize,
}

/// Walks `turns`, saving each verdict in `store`.
fn walk(
    turns: &[Interaction],
    store: &dyn Interactions,
    intents: &[String],
    reviewer: &str,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Tally> {
    let mut tally = Tally::default();
    for (n, turn) in turns.iter().enumerate() {
        writeln!(
            out,
            "\n[{}/{}] {}",
            n + 1,
            turns.len(),
            show(turn).trim_end()
        )?;
        let choice = loop {
            write!(
                out,
                "c correcta / i incorrecta / o fuera de alcance / s saltar / q salir: "
            )?;
            out.flush()?;
            let Some(line) = read_line(input)? else {
                break Choice::Quit;
            };
            match parse_choice(&line) {
                Some(c) => break c,
                None => writeln!(out, "Escribe c, i, o, s o q.")?,
            }
        };
        let verdict = match choice {
            Choice::Quit => break,
            Choice::Skip => {
                tally.skipped += 1;
                continue;
            }
            Choice::Verdict(v) => v,
        };
        let (mut corrected_answer, mut corrected_intent) = (None, None);
        if verdict.is_wrong() {
            write!(out, "Respuesta corregida (Enter: ninguna): ")?;
            out.flush()?;
            let Some(answer) = read_line(input)? else {
                break;
            };
            let answer = answer.trim();
            corrected_answer = (!answer.is_empty()).then(|| answer.to_string());
            match ask_intent(input, out, intents)? {
                Some(i) => corrected_intent = i,
                None => break,
            }
        }
        let review = Review {
            verdict,
            corrected_answer,
            corrected_intent,
            reviewer: reviewer.to_string(),
            at: chrono::Utc::now().timestamp(),
        };
        store
            .review(turn.id, &review)
            .with_context(|| format!("saving the review of #{}", turn.id))?;
        writeln!(out, "Guardada: #{} {}.", turn.id, verdict.as_str())?;
        tally.reviewed += 1;
    }
    Ok(tally)
}

/// Runs `review`.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let config = crate::project::load_config(root)?;
    let store = crate::interaction_log::open_recorded(&config)?;
    let intents_file = config.intents_file();
    let intents = if intents_file.exists() {
        IntentSet::load(&intents_file)?.names()
    } else {
        Vec::new()
    };
    let turns = store.interactions(&InteractionFilter {
        unreviewed: true,
        out_of_scope: args.out_of_scope,
        thumbs_down: args.thumbs_down,
        intent: args.intent,
        channel: args.channel,
        since: None,
        limit: args.limit,
    })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if turns.is_empty() {
        writeln!(out, "No hay interacciones sin revisar con estos filtros.")?;
        return Ok(());
    }
    let reviewer = args
        .reviewer
        .or_else(|| std::env::var("USER").ok())
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "terminal".into());
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let tally = walk(&turns, &*store, &intents, &reviewer, &mut input, &mut out)?;
    writeln!(
        out,
        "\nRevisadas: {}; saltadas: {}; sin ver: {}.",
        tally.reviewed,
        tally.skipped,
        turns.len() - tally.reviewed - tally.skipped
    )?;
    if tally.reviewed > 0 {
        writeln!(
            out,
            "`raymundo curate` convierte las respuestas e intenciones corregidas en documentos y ejemplos."
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_accept_letters_and_words_and_refuse_anything_else() {
        assert_eq!(
            parse_choice(" I\n"),
            Some(Choice::Verdict(Verdict::Incorrect))
        );
        assert_eq!(
            parse_choice("o"),
            Some(Choice::Verdict(Verdict::OutOfScope))
        );
        assert_eq!(
            parse_choice("correcta"),
            Some(Choice::Verdict(Verdict::Correct))
        );
        assert_eq!(parse_choice(""), Some(Choice::Skip));
        assert_eq!(parse_choice("q"), Some(Choice::Quit));
        assert_eq!(parse_choice("x"), None);
    }
}

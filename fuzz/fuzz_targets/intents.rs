//! The intents file parser and parameter extraction on any file and message: a clear error
//! or intents, never a panic; every value extracted is of its parameter's type and range,
//! and an answer to a parameter's question parses to the same kind of value.
#![no_main]

use arbitrary::Arbitrary;
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use raymundo_intents::extract::{extract, parse_answer};
use raymundo_intents::{IntentSet, ParamSpec, ParamType};
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Arbitrary)]
struct Input {
    /// An intents file (JSON); when it does not parse, `kinds` gives the parameters.
    file: String,
    kinds: Vec<(u8, i8, i8)>,
    message: String,
    day: u16,
}

fn param(i: usize, (kind, a, b): (u8, i8, i8)) -> ParamSpec {
    let kind = match kind % 5 {
        0 => ParamType::Text,
        1 => ParamType::Integer {
            min: (a != 0).then_some(a as i64),
            max: (b != 0).then_some(b as i64),
        },
        2 => ParamType::Boolean,
        3 => ParamType::Date,
        _ => ParamType::OneOf(vec!["rojo".into(), "azul marino".into(), "sí".into()]),
    };
    ParamSpec {
        name: format!("p{i}"),
        kind,
        required: a % 2 == 0,
        question: "¿Cuál?".into(),
        default: None,
    }
}

/// Whether `value` fits `spec`'s type.
fn fits(value: &Value, spec: &ParamSpec) -> bool {
    match &spec.kind {
        ParamType::Text => value.as_str().is_some_and(|s| !s.trim().is_empty()),
        ParamType::Integer { min, max } => value
            .as_i64()
            .is_some_and(|n| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)),
        ParamType::Boolean => value.is_boolean(),
        ParamType::Date => value
            .as_str()
            .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        ParamType::OneOf(values) => value
            .as_str()
            .is_some_and(|s| values.iter().any(|v| v == s)),
    }
}

fuzz_target!(|input: Input| {
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date")
        + chrono::Days::new(input.day as u64 % 3000);
    let params: Vec<ParamSpec> = match IntentSet::parse(&input.file, Path::new("intents.json")) {
        Ok(set) => set.intents.into_iter().flat_map(|i| i.parameters).collect(),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            input
                .kinds
                .into_iter()
                .take(8)
                .enumerate()
                .map(|(i, k)| param(i, k))
                .collect()
        }
    };
    let found = extract(&input.message, &params, today);
    for (name, value) in &found.values {
        let spec = params
            .iter()
            .find(|p| &p.name == name)
            .expect("a known parameter");
        assert!(
            fits(value, spec),
            "{name} = {value} does not fit {:?}",
            spec.kind
        );
    }
    for spec in &params {
        if let Ok(value) = parse_answer(&input.message, spec, today) {
            assert!(
                fits(&value, spec),
                "answer {value} does not fit {:?}",
                spec.kind
            );
        }
    }
});

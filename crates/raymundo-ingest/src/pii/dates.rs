//! Dates of birth: a date in the same sentence shortly after `nací`, `fecha de nacimiento`,
//! `date of birth`, `DOB`, `born` ... Every other date (deliveries, invoices, opening hours)
//! is left alone.

use super::context::AFTER;
use super::{char_after, char_before, regex, step, valid_day_month};
use regex::{Captures, Regex};
use std::ops::Range;
use std::sync::OnceLock;

const MONTHS_ES: &str =
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre";
const MONTHS_EN: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";

fn month_number(name: &str) -> Option<u32> {
    let name = name.to_lowercase();
    let es = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    let en = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if name == "setiembre" {
        return Some(9);
    }
    es.iter()
        .position(|m| *m == name)
        .or_else(|| en.iter().position(|m| name.starts_with(m)))
        .map(|i| i as u32 + 1)
}

/// The first date in `text[at..]` before the sentence ends (at most [`AFTER`] bytes).
fn date_after(text: &str, at: usize) -> Option<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        &format!(
            r"(?ix)
            (?-u:\b)(?:
              (?P<a>[0-9]{{1,2}})[/.\-](?P<b>[0-9]{{1,2}})[/.\-](?:[0-9]{{4}}|[0-9]{{2}})
            | [0-9]{{4}}-(?P<ym>[0-9]{{1,2}})-(?P<yd>[0-9]{{1,2}})
            | (?P<ed>[0-9]{{1,2}})\s+de\s+(?P<em>{MONTHS_ES})(?:\s+(?:de|del)\s+[0-9]{{4}})?
            | (?P<nd>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<nm>{MONTHS_EN})\.?,?(?:\s+[0-9]{{4}})?
            | (?P<mm>{MONTHS_EN})\.?\s+(?P<md>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s+[0-9]{{4}})?
            )(?-u:\b)"
        ),
    );
    let mut limit = (at + AFTER).min(text.len());
    while !text.is_char_boundary(limit) {
        limit -= 1;
    }
    // The same sentence: up to a line break, `;`, `?`, `!` or a period and a space.
    let window = &text[at..limit];
    let sentence = ["\n", ";", "?", "!", ". "]
        .iter()
        .filter_map(|end| window.find(end))
        .min()
        .unwrap_or(window.len());
    step(limit - at);
    re.captures_iter(&window[..sentence])
        .filter(plausible)
        .map(|c| {
            let r = c.get(0).expect("whole match").range();
            at + r.start..at + r.end
        })
        .find(|r| !matches!(char_after(text, r.end), Some('/' | '-')))
}

fn plausible(c: &Captures<'_>) -> bool {
    let num = |name: &str| c.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let month = |name: &str| c.name(name).and_then(|m| month_number(m.as_str()));
    if let (Some(a), Some(b)) = (num("a"), num("b")) {
        // Day first or month first.
        return valid_day_month(b, a) || valid_day_month(a, b);
    }
    if let (Some(m), Some(d)) = (num("ym"), num("yd")) {
        return valid_day_month(m, d);
    }
    for (d, m) in [("ed", "em"), ("nd", "nm"), ("md", "mm")] {
        if let (Some(d), Some(m)) = (num(d), month(m)) {
            return valid_day_month(m, d);
        }
    }
    false
}

/// Dates right after a birth keyword.
pub(super) fn find_birth_dates(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        // Longer spellings first: the first alternative that matches at a position wins.
        r"(?i)(?-u:\b)(?:fecha\s+de\s+nacimiento|fecha\s+nac\.?|f\.\s*(?:de\s+)?nac\.?|nacimiento|nacid[oa]s?|naci[oó]|nac[ií]|date\s+of\s+birth|birth\s*date|birthday|d\.o\.b\.?|dob|born)",
    );
    let mut out: Vec<Range<usize>> = Vec::new();
    for m in re.find_iter(text) {
        let end = m.end();
        if char_before(text, m.start()).is_some_and(char::is_alphanumeric)
            || (!m.as_str().ends_with('.')
                && char_after(text, end).is_some_and(char::is_alphanumeric))
        {
            continue;
        }
        if let Some(r) = date_after(text, end) {
            if out.last().is_none_or(|last| last.end <= r.start) {
                out.push(r);
            }
        }
    }
    out
}

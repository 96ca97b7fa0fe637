//! Dates relative to today: `hoy`, `mañana`, `el lunes`, `la próxima semana`, `en 3 días`,
//! `15 de marzo`, `25/03/2027`, `2027-03-25`, `March 15`, `tomorrow`.
//!
//! Choices: a weekday (`el lunes`, `este sábado`, `el próximo lunes`) is its next occurrence
//! strictly after today, so `el lunes` said on a Monday is the Monday of next week (`hoy` is
//! the word for today); `el lunes de la próxima semana` is the Monday-to-Sunday week after this
//! one. `la próxima semana` is next Monday, `el próximo mes` the first of next month, `el fin
//! de semana` the next Saturday. A day and month without a year is the next time it comes,
//! today included; a year given explicitly is kept even when the date is past. Numeric dates
//! are day first (`05/03` is 5 March) unless only the other reading is possible (`03/25`).

use super::norm::Tokens;
use super::numbers::word_number;
use super::text::is_street_word;
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// A date written in a message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DateMention {
    /// First token, including words like `para el`, `este`.
    pub start: usize,
    /// Token after the last.
    pub end: usize,
    /// The date, or the text of a date that does not exist (`31 de febrero`).
    pub value: Result<NaiveDate, String>,
    /// Said about the past (`la cita que tenía para el jueves`, `compré el lunes`).
    pub past: bool,
}

/// Words that may precede a date and belong to it.
const PREFIX: &[&str] = &[
    "para",
    "el",
    "la",
    "este",
    "esta",
    "proximo",
    "proxima",
    "siguiente",
    "next",
    "this",
    "on",
    "the",
    "for",
    "by",
    "dia",
    "day",
];

/// Words that, just before a date, say it is a past one.
const PAST: &[&str] = &[
    "tenia", "tenias", "teniamos", "era", "estaba", "fue", "habia", "compre", "hice", "pague",
    "pedi", "llego", "envie", "mande", "vinieron", "desde", "pasado",
];

fn weekday(w: &str) -> Option<Weekday> {
    Some(match w {
        "lunes" | "monday" => Weekday::Mon,
        "martes" | "tuesday" => Weekday::Tue,
        "miercoles" | "wednesday" => Weekday::Wed,
        "jueves" | "thursday" => Weekday::Thu,
        "viernes" | "friday" => Weekday::Fri,
        "sabado" | "saturday" => Weekday::Sat,
        "domingo" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// A month's number from its name; abbreviations only when `abbrev` (after a day number).
fn month(w: &str, abbrev: bool) -> Option<u32> {
    let full = match w {
        "enero" | "january" => 1,
        "febrero" | "february" => 2,
        "marzo" | "march" => 3,
        "abril" | "april" => 4,
        "mayo" | "may" => 5,
        "junio" | "june" => 6,
        "julio" | "july" => 7,
        "agosto" | "august" => 8,
        "septiembre" | "setiembre" | "september" => 9,
        "octubre" | "october" => 10,
        "noviembre" | "november" => 11,
        "diciembre" | "december" => 12,
        _ => 0,
    };
    if full > 0 {
        return Some(full);
    }
    if !abbrev {
        return None;
    }
    Some(match w {
        "ene" | "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "abr" | "apr" => 4,
        "jun" => 6,
        "jul" => 7,
        "ago" | "aug" => 8,
        "sep" | "sept" => 9,
        "oct" => 10,
        "nov" => 11,
        "dic" | "dec" => 12,
        _ => return None,
    })
}

/// Whether `w` (folded) is the full name of a month.
pub(crate) fn is_month(w: &str) -> bool {
    month(w, false).is_some()
}

/// The next `wd` strictly after `today`.
fn next_weekday(today: NaiveDate, wd: Weekday) -> NaiveDate {
    let diff = (wd.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    today + Days::new(if diff == 0 { 7 } else { u64::from(diff) })
}

fn add_days(today: NaiveDate, n: i64) -> Option<NaiveDate> {
    if n >= 0 {
        today.checked_add_days(Days::new(n.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(n.unsigned_abs()))
    }
}

fn max_day(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A day and month (and maybe a year) as a date: without a year, the next time it comes.
fn resolve(
    day: u32,
    month: u32,
    year: Option<i32>,
    today: NaiveDate,
    text: &str,
) -> Result<NaiveDate, String> {
    if !(1..=12).contains(&month) || day == 0 || day > max_day(month) {
        return Err(text.to_string());
    }
    if let Some(y) = year {
        return NaiveDate::from_ymd_opt(y, month, day).ok_or_else(|| text.to_string());
    }
    // 29 February waits for the next leap year.
    (0..9)
        .filter_map(|k| NaiveDate::from_ymd_opt(today.year() + k, month, day))
        .find(|d| *d >= today)
        .ok_or_else(|| text.to_string())
}

/// A day of the month (`15`, `1ro`, `quince`, `primero`) at `j`: its value and the index after.
fn day_number(t: &Tokens, j: usize) -> Option<(u32, usize)> {
    if t.is_num(j) && t.norm(j).len() <= 2 {
        let d = t.num(j)? as u32;
        let mut k = j + 1;
        if t.glued(k) && t.is_in(k, &["ro", "o", "er", "do", "st", "nd", "rd", "th"]) {
            k += 1;
        }
        return (1..=31).contains(&d).then_some((d, k));
    }
    if t.is_in(j, &["primero", "first"]) {
        return Some((1, j + 1));
    }
    let (v, k) = word_number(t, j)?;
    if (k == j + 1 && t.is_in(j, &["un", "una", "uno"])) || !(1..=31).contains(&v) {
        return None;
    }
    Some((v as u32, k))
}

/// An explicit year after a date (`de 2027`, `del 2027`, `, 2027`): its value and the index
/// after it.
fn year_after(t: &Tokens, k: usize) -> (Option<i32>, usize) {
    let j = if t.is_in(k, &["de", "del", ","]) {
        k + 1
    } else {
        k
    };
    match t.num(j) {
        Some(y) if t.norm(j).len() == 4 && (1900..=2200).contains(&y) => (Some(y as i32), j + 1),
        _ => (None, k),
    }
}

/// A numeric date at `j`: `25/03`, `25/03/2027`, `25-03-2027`, `2027-03-25`.
fn numeric(t: &Tokens, j: usize, today: NaiveDate) -> Option<(usize, Result<NaiveDate, String>)> {
    let glued_num = |k: usize| t.is_num(k) && t.glued(k);
    let sep = |k: usize, s: &[&str]| t.is_in(k, s) && t.glued(k);
    if !t.is_num(j) {
        return None;
    }
    let a = t.num(j)?;
    let la = t.norm(j).len();
    // ISO: 2027-03-25 or 2027/03/25.
    if la == 4 && sep(j + 1, &["-", "/"]) && glued_num(j + 2) && sep(j + 3, &["-", "/"]) {
        if glued_num(j + 4) {
            let (m, d) = (t.num(j + 2)? as u32, t.num(j + 4)? as u32);
            let text = t.slice(j, j + 5);
            return Some((j + 5, resolve(d, m, Some(a as i32), today, text)));
        }
        return None;
    }
    if la > 2 || !glued_num(j + 2) || t.norm(j + 2).len() > 2 {
        return None;
    }
    let b = t.num(j + 2)?;
    let three =
        |s: &str| sep(j + 3, &[s]) && glued_num(j + 4) && matches!(t.norm(j + 4).len(), 2 | 4);
    let (end, year) = if sep(j + 1, &["/"]) {
        if three("/") {
            (j + 5, Some(t.num(j + 4)?))
        } else {
            (j + 3, None)
        }
    } else if (sep(j + 1, &["-"]) && three("-")) || (sep(j + 1, &["."]) && three(".")) {
        (j + 5, Some(t.num(j + 4)?))
    } else {
        return None;
    };
    let year = year.map(|y| if y < 100 { 2000 + y as i32 } else { y as i32 });
    let (d, m) = if a > 12 && b <= 12 {
        (a, b)
    } else if a <= 12 && b > 12 {
        (b, a)
    } else if a <= 12 && b <= 12 {
        (a, b)
    } else {
        return None;
    };
    let text = t.slice(j, end);
    Some((end, resolve(d as u32, m as u32, year, today, text)))
}

/// A date whose words start exactly at `j`. `cued`: a bare day of the month (`el 15`) counts
/// (in an answer, or after `para el`/`el día`).
fn core(
    t: &Tokens,
    j: usize,
    today: NaiveDate,
    cued: bool,
) -> Option<(usize, Result<NaiveDate, String>)> {
    let w = t.norm(j);
    let rel = |e: usize, n: i64| add_days(today, n).map(|d| (e, Ok(d)));
    if let Some(e) = t.any_phrase(j, &["pasado manana", "day after tomorrow"]) {
        return rel(e, 2);
    }
    if let Some(e) = t.any_phrase(j, &["antes de ayer", "antier", "anteayer"]) {
        return rel(e, -2);
    }
    if let Some(e) = t.phrase(j, "de hoy en ocho") {
        return rel(e, 7);
    }
    if let Some(e) = t.phrase(j, "de hoy en quince") {
        return rel(e, 14);
    }
    match w {
        "hoy" | "today" => return rel(j + 1, 0),
        "tomorrow" => return rel(j + 1, 1),
        "ayer" | "yesterday" => return rel(j + 1, -1),
        // "por la mañana", "en las mañanas", "esta mañana" are times of day.
        "manana"
            if !t.is_in(
                j.wrapping_sub(1),
                &["la", "las", "esta", "una", "toda", "cada"],
            ) =>
        {
            return rel(j + 1, 1)
        }
        _ => {}
    }
    const NEXT_WEEK: &[&str] = &[
        "proxima semana",
        "siguiente semana",
        "otra semana",
        "semana que entra",
        "semana que viene",
        "semana proxima",
        "next week",
    ];
    if let Some(e) = t.any_phrase(j, NEXT_WEEK) {
        return Some((e, Ok(next_weekday(today, Weekday::Mon))));
    }
    if let Some(e) = t.any_phrase(j, &["fin de semana", "weekend"]) {
        return Some((e, Ok(next_weekday(today, Weekday::Sat))));
    }
    const NEXT_MONTH: &[&str] = &[
        "proximo mes",
        "siguiente mes",
        "mes que entra",
        "mes que viene",
        "next month",
    ];
    if let Some(e) = t.any_phrase(j, NEXT_MONTH) {
        let first = today.with_day(1)?.checked_add_months(Months::new(1))?;
        return Some((e, Ok(first)));
    }
    // "en 3 días", "dentro de una semana", "in 2 weeks"
    if t.is_in(j, &["en", "dentro", "in"]) {
        let k = if t.is(j, "dentro") && t.is(j + 1, "de") {
            j + 2
        } else {
            j + 1
        };
        let (n, e) = match t.num(k) {
            Some(n) if t.norm(k).len() <= 3 => (n, k + 1),
            _ => word_number(t, k)?,
        };
        return match t.norm(e) {
            "dia" | "dias" | "day" | "days" => rel(e + 1, n),
            "semana" | "semanas" | "week" | "weeks" => rel(e + 1, n * 7),
            "mes" | "meses" | "month" | "months" => {
                let d = today.checked_add_months(Months::new(u32::try_from(n).ok()?))?;
                Some((e + 1, Ok(d)))
            }
            _ => None,
        };
    }
    if let Some(wd) = weekday(w) {
        let mut e = j + 1;
        let mut date = next_weekday(today, wd);
        const WEEK_AFTER: &[&str] = &[
            "de la proxima semana",
            "de la siguiente semana",
            "de la otra semana",
            "de la semana que entra",
            "de la semana que viene",
            "next week",
        ];
        if let Some(k) = t.any_phrase(e, WEEK_AFTER) {
            let monday = next_weekday(today, Weekday::Mon);
            date = monday + Days::new(u64::from(wd.num_days_from_monday()));
            e = k;
        } else if let Some(k) = t.any_phrase(e, &["de esta semana", "this week"]) {
            let monday = add_days(today, -i64::from(today.weekday().num_days_from_monday()))?;
            date = monday + Days::new(u64::from(wd.num_days_from_monday()));
            e = k;
        } else if let Some(k) = t.any_phrase(e, &["que viene", "que entra", "proximo"]) {
            e = k;
        }
        return Some((e, Ok(date)));
    }
    if let Some(r) = numeric(t, j, today) {
        return Some(r);
    }
    // "15 de marzo", "el 2 de abril de 2027", "15th of March", "1ro de mayo"
    if let Some((day, k)) = day_number(t, j) {
        let k2 = if t.is_in(k, &["de", "of"]) { k + 1 } else { k };
        if let Some(m) = month(t.norm(k2), true) {
            let (year, e) = year_after(t, k2 + 1);
            let text = t.slice(j, e);
            return Some((e, resolve(day, m, year, today, text)));
        }
        let time_after = t.is_in(k, &[":", "am", "pm", "hrs", "horas"])
            || t.phrase(k, "de la").is_some()
            || t.is(j.wrapping_sub(1), "las");
        if cued && !time_after {
            // A day of the month alone: its next occurrence, today included.
            let text = t.slice(j, k);
            let mut first = today.with_day(1)?;
            for _ in 0..13 {
                if let Some(d) = first.with_day(day).filter(|d| *d >= today) {
                    return Some((k, Ok(d)));
                }
                first = first.checked_add_months(Months::new(1))?;
            }
            return Some((k, Err(text.to_string())));
        }
    }
    // "March 15", "marzo 15", "March 15th, 2027"
    if let Some(m) = month(w, false).or_else(|| month(w, true).filter(|_| t.upper_at(j))) {
        if let Some((day, k)) = day_number(t, j + 1).filter(|_| t.is_num(j + 1)) {
            let (year, e) = year_after(t, k);
            let text = t.slice(j, e);
            return Some((e, resolve(day, m, year, today, text)));
        }
    }
    None
}

/// Every date in a message, in order. `answer`: the message answers a question about a date,
/// so a bare day of the month (`15`, `el 15`) counts. Tokens marked in `skip` (codes) are
/// not dates.
pub(crate) fn mentions(
    t: &Tokens,
    today: NaiveDate,
    answer: bool,
    skip: &[bool],
) -> Vec<DateMention> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if skip[i] {
            i += 1;
            continue;
        }
        let mut starts = vec![i];
        let mut k = i;
        while t.is_in(k, PREFIX) && k < i + 4 {
            k += 1;
            starts.push(k);
        }
        let found = starts.iter().find_map(|&j| {
            if j < t.len() && skip[j] {
                return None;
            }
            let cued = answer
                || (i..j).any(|x| t.is_in(x, &["dia", "day"]))
                || (i..j).any(|x| t.is(x, "para") && t.is(x + 1, "el"));
            core(t, j, today, cued).map(|(end, v)| (j, end, v))
        });
        match found {
            Some((j, end, value)) => {
                // "Av. 16 de Septiembre" is a street.
                let street = j > 0
                    && (is_street_word(t.prev(j))
                        || (t.is(j - 1, ".") && j > 1 && is_street_word(t.prev(j - 1))));
                if !street {
                    let past = (i.saturating_sub(4)..i).any(|x| t.is_in(x, PAST));
                    out.push(DateMention {
                        start: i,
                        end,
                        value,
                        past,
                    });
                }
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// A date in a short text, relative to `today` (see the module documentation for the rules):
/// `hoy`, `mañana`, `pasado mañana`, `el lunes`, `la próxima semana`, `en 3 días`, `15 de
/// marzo`, `25/03/2027`, `2027-03-25`, `March 15`, `tomorrow`, or a bare day of the month
/// (`el 15`). `None` when there is none or it does not exist (`31 de febrero`).
/// Several different dates give `None` unless the text corrects itself (`el lunes, no, mejor
/// el martes`).
pub fn parse_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    date_answer(text, today).ok()
}

/// Why a text gives no date.
pub(crate) enum DateError {
    /// No date in it.
    Missing,
    /// A date that does not exist, as written.
    Invalid(String),
    /// Different dates, and no correction saying which (`el lunes o el martes`).
    Several,
}

/// The date an answer gives: the one that exists (the last one when the answer corrects
/// itself: `el lunes, no, mejor el martes`); an error naming a date that does not exist when
/// that is all there is.
pub(crate) fn date_answer(text: &str, today: NaiveDate) -> Result<NaiveDate, DateError> {
    let scan = super::Scan::new(text, today);
    let ms = mentions(&scan.t, today, true, &scan.codes_mask());
    let mut valid: Vec<NaiveDate> = ms.iter().filter_map(|m| m.value.clone().ok()).collect();
    valid.dedup();
    match valid.as_slice() {
        [d] => return Ok(*d),
        [.., last] if super::control::is_correction(text) => return Ok(*last),
        [] => {}
        _ => return Err(DateError::Several),
    }
    match ms.into_iter().find_map(|m| m.value.err()) {
        Some(bad) => Err(DateError::Invalid(bad)),
        None => Err(DateError::Missing),
    }
}

//! Identifiers with letters or a fixed format: IBAN, CURP, RFC, INE (clave de elector and
//! CIC), passport, DNI, NIE, RUT and CPF. Letters may be in any case; a lowercase match that
//! has spaces inside (where ordinary words could line up by chance) needs its keyword.

use super::context::{skip_fillers, word_before, Keyword};
use super::{
    alnum_bounded, char_after, char_before, compact_upper, left_boundary_ok, regex,
    right_boundary_ok, valid_date,
};
use regex::{Captures, Regex};
use std::ops::Range;
use std::sync::OnceLock;

const RFC_WORDS: &[Keyword] = &[("rfc", true), ("r.f.c", true)];
const DNI_WORDS: &[Keyword] = &[
    ("dni", true),
    ("nif", true),
    ("d.n.i", false),
    ("documento", false),
];
const NIE_WORDS: &[Keyword] = &[("nie", true), ("n.i.e", false), ("extranjero", false)];
const CPF_WORDS: &[Keyword] = &[("cpf", true), ("c.p.f", false)];
const RUT_WORDS: &[Keyword] = &[
    ("rut", true),
    ("run", true),
    ("r.u.t", false),
    ("rol único", false),
    ("rol unico", false),
];

fn whole(c: &Captures<'_>) -> Range<usize> {
    c.get(0).expect("whole match").range()
}

/// Whether a match needs its keyword: it has a space inside and is not all upper case.
fn spaced_lowercase(matched: &str) -> bool {
    matched.contains(' ') && matched.chars().any(char::is_lowercase)
}

// ----------------------------------------------------------------------------------------
// IBAN

/// The IBAN length of each country of the IBAN registry.
fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "NO" => 15,
        "BE" => 16,
        "DK" | "FI" | "FO" | "GL" | "NL" => 18,
        "MK" | "SI" => 19,
        "AT" | "BA" | "EE" | "KZ" | "LT" | "LU" | "XK" => 20,
        "CH" | "HR" | "LI" | "LV" => 21,
        "BG" | "BH" | "CR" | "DE" | "GB" | "GE" | "IE" | "ME" | "RS" | "VA" => 22,
        "AE" | "GI" | "IL" | "IQ" | "TL" => 23,
        "AD" | "CZ" | "ES" | "MD" | "PK" | "RO" | "SA" | "SE" | "SK" | "TN" | "VG" => 24,
        "PT" | "ST" => 25,
        "IS" | "TR" => 26,
        "FR" | "GR" | "IT" | "MC" | "MR" | "SM" => 27,
        "AL" | "AZ" | "BY" | "CY" | "DO" | "GT" | "HU" | "LB" | "PL" | "SV" => 28,
        "BR" | "EG" | "PS" | "QA" | "UA" => 29,
        "JO" | "KW" | "MU" => 30,
        "MT" | "SC" => 31,
        "LC" => 32,
        _ => return None,
    })
}

pub(super) fn find_ibans(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?i)(?-u:\b)[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}",
    );
    let mut out = Vec::new();
    for m in re.find_iter(text) {
        if char_before(text, m.start()).is_some_and(char::is_alphanumeric) {
            continue;
        }
        // The greedy match may have swallowed a following word; drop trailing groups until
        // the checksum holds.
        let mut end = m.end();
        loop {
            let candidate = &text[m.start()..end];
            let compact: String = candidate
                .chars()
                .filter(|c| *c != ' ')
                .map(|c| c.to_ascii_uppercase())
                .collect();
            if compact.get(..2).and_then(iban_length) == Some(compact.len())
                && !char_after(text, end).is_some_and(char::is_alphanumeric)
                && iban_valid(&compact)
            {
                out.push(m.start()..end);
                break;
            }
            match candidate.rfind(' ') {
                Some(space) => end = m.start() + space,
                None => break,
            }
        }
    }
    out
}

/// ISO 13616 mod-97 check (upper-case input).
fn iban_valid(iban: &str) -> bool {
    if iban.len() < 15 || !iban.is_ascii() {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut remainder: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

// ----------------------------------------------------------------------------------------
// CURP, RFC and INE (Mexico)

pub(super) fn find_curps(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?i)(?-u:\b)[A-Z][AEIOUX][A-Z]{2}([0-9]{2})([0-9]{2})([0-9]{2})[HMX](?:AS|BC|BS|CC|CL|CM|CS|CH|DF|DG|GT|GR|HG|JC|MC|MN|MS|NT|NL|OC|PL|QT|QR|SP|SL|SR|TC|TS|TL|VZ|YN|ZS|NE)[B-DF-HJ-NP-TV-Z]{3}[A-Z0-9][0-9](?-u:\b)",
    );
    re.captures_iter(text)
        .filter(|c| valid_date(&c[1], &c[2], &c[3]))
        .map(|c| whole(&c))
        .filter(|r| alnum_bounded(text, r))
        .collect()
}

/// RFC: 3 letters (persona moral) or 4 (persona física), `YYMMDD` and a homoclave of two
/// characters plus a check character (digit or `A`; any letter after the word `RFC`).
/// Separators `-` or ` ` are tolerated.
pub(super) fn find_rfcs(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?i)[A-ZÑ&]{3,4}[- ]?([0-9]{2})([0-9]{2})([0-9]{2})[- ]?[A-Z0-9]{2}([A-Z0-9])(?-u:\b)",
    );
    re.captures_iter(text)
        .filter(|c| valid_date(&c[1], &c[2], &c[3]))
        .filter(|c| {
            let r = whole(c);
            if !alnum_bounded(text, &r) || char_before(text, r.start) == Some('&') {
                return false;
            }
            // The generic RFCs for the general public and foreigners are not personal data.
            let compact = compact_upper(&text[r.clone()]);
            if compact == "XAXX010101000" || compact == "XEXX010101000" {
                return false;
            }
            let check_ok = c[4]
                .chars()
                .all(|ch| ch.is_ascii_digit() || ch == 'A' || ch == 'a');
            (check_ok && !spaced_lowercase(&c[0])) || word_before(text, r.start, RFC_WORDS)
        })
        .map(|c| whole(&c))
        .collect()
}

/// INE clave de elector: 6 letters, the birth date `YYMMDD`, the state (01-32), `H`/`M` and
/// 3 digits.
pub(super) fn find_ine_claves(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?i)(?-u:\b)[A-Z]{6}([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})[HM][0-9]{3}(?-u:\b)",
    );
    re.captures_iter(text)
        .filter(|c| {
            valid_date(&c[1], &c[2], &c[3])
                && c[4].parse::<u32>().is_ok_and(|s| (1..=32).contains(&s))
        })
        .map(|c| whole(&c))
        .filter(|r| alnum_bounded(text, r))
        .collect()
}

/// INE CIC: 9-10 digits after `CIC` or `IDMEX` (the machine-readable line on the back).
pub(super) fn find_ine_cics(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?i)(?-u:\b)(?:cic|idmex)[ \t]*(?:[:#=]|no\.?|n[º°]|es)?[ \t]*([0-9]{9,10})(?-u:\b)",
    );
    re.captures_iter(text)
        .filter(|c| !char_before(text, whole(c).start).is_some_and(char::is_alphabetic))
        .map(|c| c.get(1).expect("group").range())
        .filter(|r| !followed_by_digit_group(text, r.end))
        .collect()
}

/// `1234567890-12` or `1234567890.5`: the digits go on.
fn followed_by_digit_group(text: &str, at: usize) -> bool {
    let mut it = text[at..].chars();
    matches!((it.next(), it.next()), (Some('.' | ',' | '-'), Some(d)) if d.is_ascii_digit())
}

// ----------------------------------------------------------------------------------------
// Passport

/// Words that may sit between `pasaporte` and the number.
const PASSPORT_FILLERS: &[&str] = &[
    "no", "nº", "n°", "núm", "num", "número", "numero", "number", "nr", "es", "is", "de", "del",
    "mi", "my", "su", "your", "id",
];

/// A passport number: 6-12 letters and digits, at least 5 of them digits (`G12345678`,
/// `AAA123456`, `533123456`), right after `pasaporte`/`passport` (and filler words).
pub(super) fn find_passports(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"(?i)(?-u:\b)(?:pasaporte|passport)s?(?-u:\b)");
    let mut out: Vec<Range<usize>> = Vec::new();
    for m in re.find_iter(text) {
        if !alnum_bounded(text, &m.range()) {
            continue;
        }
        let start = skip_fillers(text, m.end(), PASSPORT_FILLERS, 3);
        let len = text[start..]
            .bytes()
            .take(13)
            .take_while(u8::is_ascii_alphanumeric)
            .count();
        let token = &text[start..start + len];
        let digits = token.bytes().filter(u8::is_ascii_digit).count();
        if (6..=12).contains(&len)
            && digits >= 5
            && !char_after(text, start + len).is_some_and(char::is_alphanumeric)
            && !followed_by_digit_group(text, start + len)
            && out.last().is_none_or(|r| r.end <= start)
        {
            out.push(start..start + len);
        }
    }
    out
}

// ----------------------------------------------------------------------------------------
// DNI and NIE (Spain)

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn dni_letter(number: u32) -> char {
    DNI_LETTERS[(number % 23) as usize] as char
}

pub(super) fn find_dnis(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?-u:\b)([0-9]{8}|[0-9]{2}\.[0-9]{3}\.[0-9]{3})[- ]?([A-Za-z])(?-u:\b)",
    );
    re.captures_iter(text)
        .filter(|c| {
            let digits: String = c[1].chars().filter(char::is_ascii_digit).collect();
            let number: u32 = digits.parse().unwrap_or(u32::MAX);
            number != u32::MAX && c[2].to_ascii_uppercase().starts_with(dni_letter(number))
        })
        .filter(|c| {
            let r = whole(c);
            alnum_bounded(text, &r)
                && !matches!(char_before(text, r.start), Some('.' | '-' | '/'))
                && (!spaced_lowercase(&c[0]) || word_before(text, r.start, DNI_WORDS))
        })
        .map(|c| whole(&c))
        .collect()
}

pub(super) fn find_nies(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?-u:\b)([XYZxyz])[- ]?([0-9]{7})[- ]?([A-Za-z])(?-u:\b)",
    );
    re.captures_iter(text)
        .filter(|c| {
            let prefix = match c[1].to_ascii_uppercase().as_str() {
                "X" => 0,
                "Y" => 1,
                _ => 2,
            };
            let number: u32 = c[2].parse().unwrap_or(0) + prefix * 10_000_000;
            c[3].to_ascii_uppercase().starts_with(dni_letter(number))
        })
        .filter(|c| {
            let r = whole(c);
            alnum_bounded(text, &r)
                && (!spaced_lowercase(&c[0]) || word_before(text, r.start, NIE_WORDS))
        })
        .map(|c| whole(&c))
        .collect()
}

// ----------------------------------------------------------------------------------------
// RUT (Chile) and CPF (Brazil)

/// RUT check digit: the body's digits from the right times 2, 3, 4, 5, 6, 7, 2, 3 ...;
/// `11 - sum % 11`, where 11 is `0` and 10 is `K`.
fn rut_check(body: &str) -> char {
    let sum: u32 = body
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .zip([2, 3, 4, 5, 6, 7].iter().cycle())
        .map(|(d, w)| d * w)
        .sum();
    match 11 - sum % 11 {
        11 => '0',
        10 => 'K',
        d => char::from_digit(d, 10).expect("a digit"),
    }
}

/// `12.345.678-5` (dots: no keyword needed) or `12345678-K` after `RUT`/`RUN`.
pub(super) fn find_ruts(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?-u:\b)([0-9]{1,2}\.[0-9]{3}\.[0-9]{3}|[0-9]{7,8})-([0-9Kk])(?-u:\b)",
    );
    re.captures_iter(text)
        .filter(|c| {
            let r = whole(c);
            let body: String = c[1].chars().filter(char::is_ascii_digit).collect();
            c[2].to_ascii_uppercase().starts_with(rut_check(&body))
                && left_boundary_ok(text, r.start)
                && right_boundary_ok(text, r.end)
                && (c[1].contains('.') || word_before(text, r.start, RUT_WORDS))
        })
        .map(|c| whole(&c))
        .collect()
}

/// CPF check digits: weights 10..2 (then 11..2) over the digits, `sum * 10 % 11`, 10 is 0.
fn cpf_valid(digits: &[u32]) -> bool {
    let check = |n: usize| {
        let sum: u32 = digits[..n]
            .iter()
            .zip((2..=n as u32 + 1).rev())
            .map(|(d, w)| d * w)
            .sum();
        (sum * 10 % 11) % 10
    };
    digits.len() == 11
        && !digits.iter().all(|&d| d == digits[0])
        && check(9) == digits[9]
        && check(10) == digits[10]
}

/// `123.456.789-09` (formatted: no keyword needed), or 11 digits after `CPF`.
pub(super) fn find_cpfs(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?-u:\b)[0-9]{3}(\.?)[0-9]{3}(\.?)[0-9]{3}(-?)[0-9]{2}(?-u:\b)",
    );
    re.captures_iter(text)
        .filter(|c| {
            let r = whole(c);
            let digits: Vec<u32> = c[0].chars().filter_map(|ch| ch.to_digit(10)).collect();
            let formatted = !c[1].is_empty() && !c[2].is_empty() && !c[3].is_empty();
            cpf_valid(&digits)
                && left_boundary_ok(text, r.start)
                && right_boundary_ok(text, r.end)
                && (formatted || word_before(text, r.start, CPF_WORDS))
        })
        .map(|c| whole(&c))
        .collect()
}

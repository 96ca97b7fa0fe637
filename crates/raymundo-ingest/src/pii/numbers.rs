//! Numbers written as runs of digit groups: CLABE, NSS, cards (with their CVV and expiry) and
//! phones. Each starting group tries a bounded number of ends (a card has at most 19 digits,
//! a phone 6 groups), and each start asks for its context once, so a run of `n` groups costs
//! `O(n)`.

use super::context::{
    amount_after, context_before, Context, ACCOUNT_WORDS, AMOUNT_WORDS, CARD_WORDS, CLABE_WORDS,
    IDENTIFIER_WORDS, NSS_WORDS, PHONE_WORDS,
};
use super::{alnum_bounded, char_after, left_boundary_ok, regex, right_boundary_ok, step, PiiKind};
use regex::Regex;
use std::ops::Range;
use std::sync::OnceLock;

/// A run of digit groups separated by short separators (`33 1234-5678`, `(55) 1234 5678`):
/// a view into [`DigitRuns`].
struct DigitRun<'a> {
    /// Byte ranges of each group of digits.
    groups: &'a [Range<usize>],
    /// Length of each group.
    lens: &'a [usize],
    /// The first byte of the separator after each group but the last.
    seps: &'a [u8],
    /// Whether the run is introduced by `+` (international prefix).
    plus: bool,
    /// Byte offset where the run starts (at `+` or `(` if present).
    start: usize,
}

impl DigitRun<'_> {
    /// The digits of groups `s..e`.
    fn digits(&self, text: &str, s: usize, e: usize) -> String {
        self.groups[s..e].iter().map(|g| &text[g.clone()]).collect()
    }

    /// Byte range from the start of group `s` to the end of group `e - 1`.
    fn span(&self, s: usize, e: usize) -> Range<usize> {
        self.groups[s].start..self.groups[e - 1].end
    }
}

/// Every digit run of a text, in flat vectors (one allocation for all runs, not per run).
#[derive(Default)]
struct DigitRuns {
    groups: Vec<Range<usize>>,
    lens: Vec<usize>,
    /// Separator after each group (`0` after the last group of a run).
    seps: Vec<u8>,
    /// Per run: its groups (indexes into the vectors above), `plus` and start offset.
    runs: Vec<(Range<usize>, bool, usize)>,
}

impl DigitRuns {
    fn iter(&self) -> impl Iterator<Item = DigitRun<'_>> {
        self.runs.iter().map(|(g, plus, start)| DigitRun {
            groups: &self.groups[g.clone()],
            lens: &self.lens[g.clone()],
            seps: &self.seps[g.start..g.end - 1],
            plus: *plus,
            start: *start,
        })
    }
}

/// Finds digit runs whose separators are made of `seps` (at most `max_sep` bytes each).
fn digit_runs(text: &str, seps: &[u8], max_sep: usize, allow_parens: bool) -> DigitRuns {
    let bytes = text.as_bytes();
    let is_sep = |b: u8| seps.contains(&b) || (allow_parens && (b == b'(' || b == b')'));
    let mut all = DigitRuns::default();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // Run start: digits preceded by an optional `(` and `+`.
        let mut start = i;
        let mut plus = false;
        if allow_parens && start > 0 && bytes[start - 1] == b'(' {
            start -= 1;
        }
        if start > 0 && bytes[start - 1] == b'+' {
            start -= 1;
            plus = true;
        }
        let first = all.groups.len();
        let mut j = i;
        loop {
            let g_start = j;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            step(1);
            all.groups.push(g_start..j);
            all.lens.push(j - g_start);
            let mut k = j;
            while k < bytes.len() && k - j <= max_sep && is_sep(bytes[k]) {
                k += 1;
            }
            let sep_len = k - j;
            if sep_len == 0 || sep_len > max_sep || k >= bytes.len() || !bytes[k].is_ascii_digit() {
                all.seps.push(0);
                break;
            }
            all.seps.push(bytes[j]);
            j = k;
        }
        i = j;
        all.runs.push((first..all.groups.len(), plus, start));
    }
    all
}

/// Scans the groups of every run: `at(run, s)` returns the end group and range of a match
/// starting at group `s`, if any; matches do not overlap.
fn scan_runs(
    runs: DigitRuns,
    mut at: impl FnMut(&DigitRun<'_>, usize) -> Option<(usize, Range<usize>)>,
) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for run in runs.iter() {
        let mut s = 0;
        while s < run.groups.len() {
            match at(&run, s) {
                Some((e, range)) => {
                    out.push(range);
                    s = e;
                }
                None => s += 1,
            }
        }
    }
    out
}

fn all_same(digits: &str) -> bool {
    digits.bytes().all(|b| b == digits.as_bytes()[0])
}

/// Ends `e` (exclusive, longest first) such that groups `s..e` hold at most `max_digits`
/// digits.
fn ends_within(run: &DigitRun<'_>, s: usize, max_digits: usize) -> impl Iterator<Item = usize> {
    let mut e = s;
    let mut total = 0;
    while e < run.lens.len() && total + run.lens[e] <= max_digits {
        total += run.lens[e];
        e += 1;
        step(1);
    }
    (s + 1..=e).rev()
}

/// A fixed-length number whose groups have at least `min_group` digits (but the last): the
/// end group if groups `s..` hold exactly `len` digits.
fn exact_length_end(run: &DigitRun<'_>, s: usize, len: usize, min_group: usize) -> Option<usize> {
    let mut total = 0;
    for e in s + 1..=run.lens.len() {
        step(1);
        total += run.lens[e - 1];
        if total == len {
            return Some(e);
        }
        if total > len || run.lens[e - 1] < min_group {
            return None;
        }
    }
    None
}

// ----------------------------------------------------------------------------------------
// CLABE and NSS (Mexico)

/// CLABE check digit: weights 3, 7, 1 over the first 17 digits, each product mod 10.
fn clabe_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 18 {
        return false;
    }
    let sum: u32 = d[..17]
        .iter()
        .zip([3, 7, 1].iter().cycle())
        .map(|(x, w)| (x * w) % 10)
        .sum();
    (10 - sum % 10) % 10 == d[17]
}

/// 18 digits, as one block or in groups of 3 or more (`072 320 00123456789 3`), with a valid
/// check digit and no identifier word before.
pub(super) fn find_clabes(text: &str) -> Vec<Range<usize>> {
    scan_runs(digit_runs(text, b" -", 1, false), |run, s| {
        let e = exact_length_end(run, s, 18, 3)?;
        let range = run.span(s, e);
        let digits = run.digits(text, s, e);
        let ok = left_boundary_ok(text, range.start)
            && right_boundary_ok(text, range.end)
            && !all_same(&digits)
            && clabe_valid(&digits)
            && context_before(text, range.start, &[CLABE_WORDS], &[IDENTIFIER_WORDS])
                != Context::No;
        ok.then_some((e, range))
    })
}

/// 11 digits (`12345678903`, `42 01 98 7654 1`) with a Luhn check digit, after a
/// social-security word: the check digit alone lets one number in ten through.
pub(super) fn find_nss(text: &str) -> Vec<Range<usize>> {
    scan_runs(digit_runs(text, b" -", 1, false), |run, s| {
        let e = exact_length_end(run, s, 11, 2)?;
        let range = run.span(s, e);
        let digits = run.digits(text, s, e);
        let ok = left_boundary_ok(text, range.start)
            && right_boundary_ok(text, range.end)
            && !all_same(&digits)
            && luhn_valid(&digits)
            && context_before(text, range.start, &[NSS_WORDS], &[IDENTIFIER_WORDS]) == Context::Yes;
        ok.then_some((e, range))
    })
}

// ----------------------------------------------------------------------------------------
// Cards

pub(super) fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Card numbers are written as one block or in groups of four (Amex: 4-6-5).
fn card_grouping(lens: &[usize]) -> bool {
    let total: usize = lens.iter().sum();
    if !(13..=19).contains(&total) {
        return false;
    }
    match lens {
        [_] => true,
        [4, 6, 5] | [4, 6, 4] => true,
        [init @ .., last] => init.iter().all(|&l| l == 4) && (1..=4).contains(last),
        [] => false,
    }
}

fn card_context(text: &str, at: usize) -> Context {
    context_before(text, at, &[CARD_WORDS], &[IDENTIFIER_WORDS, ACCOUNT_WORDS])
}

/// Luhn-valid card numbers (13-19 digits, separated by spaces, dashes or dots), unless an
/// identifier word precedes; 4-4-4-4 groups right after a card word even without Luhn.
pub(super) fn find_cards(text: &str) -> Vec<Range<usize>> {
    scan_runs(digit_runs(text, b" -.", 1, false), |run, s| {
        let start = run.groups[s].start;
        if !left_boundary_ok(text, start) {
            return None;
        }
        let mut ctx = None;
        for e in ends_within(run, s, 19) {
            step(1);
            let lens = &run.lens[s..e];
            // Dots separate a card's groups only when they separate all of them.
            let seps = &run.seps[s..e - 1];
            if !card_grouping(lens) || (seps.contains(&b'.') && seps.iter().any(|&b| b != b'.')) {
                continue;
            }
            let end = run.groups[e - 1].end;
            let digits = run.digits(text, s, e);
            if !right_boundary_ok(text, end) || all_same(&digits) {
                continue;
            }
            let ctx = *ctx.get_or_insert_with(|| card_context(text, start));
            let accept = if luhn_valid(&digits) {
                ctx != Context::No
            } else {
                lens == [4, 4, 4, 4] && ctx == Context::Yes
            };
            if accept {
                return Some((e, start..end));
            }
        }
        None
    })
}

/// A CVV/CVC (`CVV: 123`) anywhere, and an expiry date (`Vence: 08/28`, `exp 08/2028`) in a
/// text that also holds a card number (already replaced by `[TARJETA]`).
pub(super) fn find_card_codes(text: &str) -> Vec<Range<usize>> {
    static CVV: OnceLock<Regex> = OnceLock::new();
    static EXPIRY: OnceLock<Regex> = OnceLock::new();
    let cvv = regex(
        &CVV,
        r"(?i)(?-u:\b)(?:cvv2?|cvc2?|c[oó]digo de seguridad|security code)\s*(?::|es|=)?\s*([0-9]{3,4})(?-u:\b)",
    );
    let mut out: Vec<Range<usize>> = cvv
        .captures_iter(text)
        .map(|c| c.get(1).expect("group").range())
        .filter(|r| alnum_bounded(text, r))
        .collect();
    if text.contains(PiiKind::Card.placeholder()) {
        let expiry = regex(
            &EXPIRY,
            r"(?i)(?-u:\b)(?:vence|vencimiento|venc\.?|expira|expiración|expiracion|exp\.?|caducidad|valid thru|expires?)\s*(?::|el|en)?\s*((?:0[1-9]|1[0-2])\s*/\s*(?:[0-9]{4}|[0-9]{2}))(?-u:\b)",
        );
        out.extend(
            expiry
                .captures_iter(text)
                .map(|c| c.get(1).expect("group").range())
                .filter(|r| !matches!(char_after(text, r.end), Some('/' | '-'))),
        );
    }
    out.sort_by_key(|r| r.start);
    out.dedup_by(|a, b| a.start < b.end);
    out
}

// ----------------------------------------------------------------------------------------
// Phones

/// Groupings of a 10-digit Mexican number: `33 1234 5678`, `333 123 4567`, `55 12 34 56 78`,
/// `333 123 45 67`, `55 1234-5678`.
fn mexican_grouping(lens: &[usize], digits: &str) -> bool {
    let first = digits.as_bytes().first().copied().unwrap_or(b'0');
    (b'2'..=b'9').contains(&first)
        && matches!(
            lens,
            [2, 4, 4] | [3, 3, 4] | [2, 2, 2, 2, 2] | [3, 3, 2, 2] | [2, 8]
        )
}

/// Groupings of a 9-digit Spanish number starting with 6, 7, 8 or 9: `612 345 678`,
/// `612 34 56 78`, `91 234 56 78`, `91 123 4567`.
fn spanish_grouping(lens: &[usize], digits: &str) -> bool {
    matches!(digits.as_bytes().first(), Some(b'6'..=b'9'))
        && matches!(lens, [3, 3, 3] | [3, 2, 2, 2] | [2, 3, 2, 2] | [2, 3, 4])
}

enum PhoneMatch {
    /// Recognised by its shape alone (unless an identifier word precedes it).
    Shape,
    /// Needs a telephone word before it.
    NeedsContext,
}

fn national_phone(lens: &[usize], digits: &str) -> Option<PhoneMatch> {
    if mexican_grouping(lens, digits) || spanish_grouping(lens, digits) {
        return Some(PhoneMatch::Shape);
    }
    // Old Mexican long-distance / mobile prefixes: 01 33 1234 5678, 044 55 1234 5678,
    // 01 800 123 4567.
    if lens.len() > 1 {
        let first_len = lens[0];
        let prefix = &digits[..first_len];
        if matches!(prefix, "01" | "044" | "045")
            && mexican_grouping(&lens[1..], &digits[first_len..])
        {
            return Some(PhoneMatch::Shape);
        }
    }
    match lens {
        // A bare Spanish number: 9 digits starting with 6-9 (unless an identifier word
        // precedes it).
        [9] if matches!(digits.as_bytes()[0], b'6'..=b'9') => Some(PhoneMatch::Shape),
        // Bare 10 digits, or a local 8-digit number, only next to a telephone word.
        [10] | [4, 4] | [8] => Some(PhoneMatch::NeedsContext),
        _ => None,
    }
}

fn phone_context(text: &str, at: usize) -> Context {
    context_before(
        text,
        at,
        &[PHONE_WORDS],
        &[IDENTIFIER_WORDS, ACCOUNT_WORDS, AMOUNT_WORDS],
    )
}

/// `+CC` and 7-14 more digits; national numbers by grouping, or bare after a phone word.
pub(super) fn find_phones(text: &str) -> Vec<Range<usize>> {
    scan_runs(digit_runs(text, b" -.", 3, true), |run, s| {
        if run.plus {
            return (s == 0).then(|| international_phone(text, run)).flatten();
        }
        // Include an opening parenthesis right before the first group.
        let mut start = run.groups[s].start;
        if start > 0 && text.as_bytes()[start - 1] == b'(' {
            start -= 1;
        }
        if !left_boundary_ok(text, start) {
            return None;
        }
        let mut ctx = None;
        for e in (s + 1..=run.groups.len().min(s + 6)).rev() {
            step(1);
            // 8 (local) to 13 (044 and 10 digits) digits, or it cannot be a national number.
            if !(8..=13).contains(&run.lens[s..e].iter().sum::<usize>()) {
                continue;
            }
            let digits = run.digits(text, s, e);
            let Some(kind) = national_phone(&run.lens[s..e], &digits) else {
                continue;
            };
            let end = run.groups[e - 1].end;
            if !right_boundary_ok(text, end) || amount_after(text, end) {
                continue;
            }
            let ctx = *ctx.get_or_insert_with(|| phone_context(text, start));
            let accept = match kind {
                PhoneMatch::Shape => ctx != Context::No,
                PhoneMatch::NeedsContext => ctx == Context::Yes,
            };
            if accept {
                return Some((e, start..end));
            }
        }
        None
    })
}

/// `+CC` and 7-14 more digits: extends while it stays plausible; the whole run is consumed.
fn international_phone(text: &str, run: &DigitRun<'_>) -> Option<(usize, Range<usize>)> {
    let mut best = None;
    let mut total = 0;
    for e in 1..=run.groups.len().min(7) {
        step(1);
        total += run.lens[e - 1];
        if total > 15 {
            break;
        }
        if total >= 8 && run.lens[e - 1] >= 2 {
            best = Some(e);
        }
    }
    let e = best?;
    let end = run.groups[e - 1].end;
    (left_boundary_ok(text, run.start) && right_boundary_ok(text, end))
        .then_some((run.groups.len(), run.start..end))
}

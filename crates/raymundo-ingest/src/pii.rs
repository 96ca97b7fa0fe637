//! PII scrubbing: personal data is replaced by typed placeholders before anything is embedded
//! or stored.
//!
//! The scrubber prefers precision: every kind with a checksum (DNI, NIE, IBAN, cards) is
//! verified, structured identifiers (CURP, RFC) must carry a valid date, and phone numbers
//! must have a known grouping or a phone word nearby, so prices, dates, times, order numbers,
//! postal codes and product codes survive. Passes run from the most specific pattern to the
//! least (emails and IBANs before cards and phones, IPs before phones) and never look inside
//! a placeholder left by an earlier pass. Judgement calls: a dotted quad right after
//! `versión`/`v` is a version; netmasks, `0.0.0.0` and loopback are kept; the generic RFCs
//! `XAXX010101000`/`XEXX010101000` are kept; a card's CVV and expiry date go with the card; a
//! bare 10-digit number is a phone only after a phone word, a bare 9-digit number starting
//! with 6-9 unless an identifier word (`pedido`, `folio` ...) precedes it. A
//! [`PiiAllowlist`] keeps the company's own public contacts.

use regex::Regex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

/// A kind of personal data the scrubber recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PiiKind {
    /// E-mail address.
    Email,
    /// Telephone number (Mexican, Spanish or international with `+CC`).
    Phone,
    /// Mexican CURP (Clave Única de Registro de Población).
    Curp,
    /// Mexican RFC (tax id), persona física or moral.
    Rfc,
    /// Spanish DNI (8 digits and a verified control letter).
    Dni,
    /// Spanish NIE (X/Y/Z, 7 digits and a verified control letter).
    Nie,
    /// Payment card number (13-19 digits, Luhn-valid).
    Card,
    /// IBAN (mod-97 verified).
    Iban,
    /// IPv4 or IPv6 address.
    Ip,
}

impl PiiKind {
    /// Every kind, in scrubbing-report order.
    pub const ALL: [PiiKind; 9] = [
        Self::Email,
        Self::Phone,
        Self::Curp,
        Self::Rfc,
        Self::Dni,
        Self::Nie,
        Self::Card,
        Self::Iban,
        Self::Ip,
    ];

    /// The placeholder that replaces a match in the text, e.g. `[TELEFONO]`.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Email => "[EMAIL]",
            Self::Phone => "[TELEFONO]",
            Self::Curp => "[CURP]",
            Self::Rfc => "[RFC]",
            Self::Dni => "[DNI]",
            Self::Nie => "[NIE]",
            Self::Card => "[TARJETA]",
            Self::Iban => "[IBAN]",
            Self::Ip => "[IP]",
        }
    }

    /// Short lowercase name used in reports (`email`, `phone`, `curp` ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Curp => "curp",
            Self::Rfc => "rfc",
            Self::Dni => "dni",
            Self::Nie => "nie",
            Self::Card => "card",
            Self::Iban => "iban",
            Self::Ip => "ip",
        }
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many items of each kind were replaced. Kinds with zero are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PiiCounts(pub BTreeMap<PiiKind, usize>);

impl PiiCounts {
    /// Adds `n` replacements of `kind`.
    pub fn add(&mut self, kind: PiiKind, n: usize) {
        if n > 0 {
            *self.0.entry(kind).or_insert(0) += n;
        }
    }

    /// Adds every count of `other` to these.
    pub fn merge(&mut self, other: &PiiCounts) {
        for (&kind, &n) in &other.0 {
            self.add(kind, n);
        }
    }

    /// Total replacements of every kind.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// Replacements of one kind.
    pub fn get(&self, kind: PiiKind) -> usize {
        self.0.get(&kind).copied().unwrap_or(0)
    }

    /// Whether nothing was replaced.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// `(kind, count)` pairs with a non-zero count, in [`PiiKind`] order.
    pub fn iter(&self) -> impl Iterator<Item = (PiiKind, usize)> + '_ {
        self.0.iter().map(|(&k, &n)| (k, n))
    }
}

/// `email 2, phone 1`, or `none`.
impl fmt::Display for PiiCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, (kind, n)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{kind} {n}")?;
        }
        Ok(())
    }
}

/// Values the scrubber leaves in place: the company's own public contacts (its WhatsApp
/// line, its support address ...), which the assistant must be able to quote.
///
/// Entries are written as people write them: a phone number in any format (`33 3616 2020`
/// also allows `+52 33 3616 2020`), an e-mail address, or `@domain` to allow every address of
/// a domain. Other entries allow any match with the same letters and digits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PiiAllowlist {
    digits: Vec<String>,
    emails: Vec<String>,
    domains: Vec<String>,
    others: Vec<String>,
}

impl PiiAllowlist {
    /// Builds an allowlist from written entries (blank entries are ignored).
    pub fn new<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Self::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            if let Some(domain) = entry.strip_prefix('@') {
                list.domains.push(domain.to_lowercase());
            } else if entry.contains('@') {
                list.emails.push(entry.to_lowercase());
            } else if entry
                .chars()
                .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
            {
                list.digits
                    .push(entry.chars().filter(char::is_ascii_digit).collect());
            } else {
                list.others.push(compact_upper(entry));
            }
        }
        list
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
            && self.emails.is_empty()
            && self.domains.is_empty()
            && self.others.is_empty()
    }

    /// Whether `matched` (found as `kind`) is on the list.
    pub fn allows(&self, kind: PiiKind, matched: &str) -> bool {
        match kind {
            PiiKind::Email => {
                let lower = matched.to_lowercase();
                self.emails.contains(&lower)
                    || lower
                        .rsplit_once('@')
                        .is_some_and(|(_, domain)| self.domains.iter().any(|d| d == domain))
            }
            PiiKind::Phone => {
                let digits: String = matched.chars().filter(char::is_ascii_digit).collect();
                // Equal, or equal but for a country / long-distance prefix on either side.
                self.digits.iter().any(|allowed| {
                    (allowed.len() >= 7 && digits.ends_with(allowed.as_str()))
                        || (digits.len() >= 9 && allowed.ends_with(digits.as_str()))
                })
            }
            _ => {
                let key = compact_upper(matched);
                self.others.contains(&key)
                    || (key.chars().all(|c| c.is_ascii_digit()) && self.digits.contains(&key))
            }
        }
    }
}

fn compact_upper(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Replaces personal data in `text` by typed placeholders (`[EMAIL]`, `[TELEFONO]`, `[CURP]`,
/// `[RFC]`, `[DNI]`, `[NIE]`, `[TARJETA]`, `[IBAN]`, `[IP]`) and counts the replacements.
///
/// A card's CVV and expiry date written next to it are replaced by `[TARJETA]` too (and
/// counted as card data).
pub fn scrub_pii(text: &str) -> (String, PiiCounts) {
    scrub_pii_with(text, &PiiAllowlist::default())
}

/// A scrubbing pass: the byte ranges of one kind of PII in a text, in order.
type Finder = fn(&str) -> Vec<Range<usize>>;

/// [`scrub_pii`], leaving the values of `allow` in place.
pub fn scrub_pii_with(text: &str, allow: &PiiAllowlist) -> (String, PiiCounts) {
    let mut counts = PiiCounts::default();
    let mut text = text.to_string();
    let passes: [(PiiKind, Finder); 11] = [
        (PiiKind::Email, find_emails),
        (PiiKind::Iban, find_ibans),
        (PiiKind::Curp, find_curps),
        (PiiKind::Rfc, find_rfcs),
        (PiiKind::Nie, find_nies),
        (PiiKind::Dni, find_dnis),
        (PiiKind::Ip, find_ipv6),
        (PiiKind::Ip, find_ipv4),
        (PiiKind::Card, find_cards),
        (PiiKind::Card, find_card_codes),
        (PiiKind::Phone, find_phones),
    ];
    for (kind, find) in passes {
        let ranges: Vec<Range<usize>> = find(&text)
            .into_iter()
            .filter(|r| allow.is_empty() || !allow.allows(kind, &text[r.clone()]))
            .collect();
        if ranges.is_empty() {
            continue;
        }
        counts.add(kind, ranges.len());
        text = replace_ranges(&text, &ranges, kind.placeholder());
    }
    (text, counts)
}

fn replace_ranges(text: &str, ranges: &[Range<usize>], placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in ranges {
        out.push_str(&text[last..r.start]);
        out.push_str(placeholder);
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid PII regex"))
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// True when the match is not glued to letters or digits on either side.
fn alnum_bounded(text: &str, r: &Range<usize>) -> bool {
    !char_before(text, r.start).is_some_and(char::is_alphanumeric)
        && !char_after(text, r.end).is_some_and(char::is_alphanumeric)
}

/// A number followed by a decimal part (`,50` / `.5`) is an amount, not an identifier.
fn followed_by_decimal(text: &str, at: usize) -> bool {
    let mut it = text[at..].chars();
    matches!(
        (it.next(), it.next()),
        (Some('.' | ','), Some(d)) if d.is_ascii_digit()
    )
}

// ----------------------------------------------------------------------------------------
// E-mail

fn find_emails(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.[A-Za-z]{2,}",
    );
    re.find_iter(text).map(|m| m.range()).collect()
}

// ----------------------------------------------------------------------------------------
// IBAN

fn find_ibans(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}");
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
            let compact: String = candidate.chars().filter(|c| *c != ' ').collect();
            if (15..=34).contains(&compact.len())
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

/// ISO 13616 mod-97 check.
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
// CURP and RFC (Mexico)

fn valid_date(yy: &str, mm: &str, dd: &str) -> bool {
    let (Ok(_), Ok(m), Ok(d)) = (yy.parse::<u32>(), mm.parse::<u32>(), dd.parse::<u32>()) else {
        return false;
    };
    let max_day = match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return false,
    };
    (1..=max_day).contains(&d)
}

fn find_curps(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?i)\b[A-Z][AEIOUX][A-Z]{2}([0-9]{2})([0-9]{2})([0-9]{2})[HMX](?:AS|BC|BS|CC|CL|CM|CS|CH|DF|DG|GT|GR|HG|JC|MC|MN|MS|NT|NL|OC|PL|QT|QR|SP|SL|SR|TC|TS|TL|VZ|YN|ZS|NE)[B-DF-HJ-NP-TV-Z]{3}[A-Z0-9][0-9]\b",
    );
    re.captures_iter(text)
        .filter(|c| valid_date(&c[1], &c[2], &c[3]))
        .map(|c| c.get(0).expect("whole match").range())
        .filter(|r| alnum_bounded(text, r))
        .collect()
}

fn find_rfcs(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Persona moral: 3 letters; persona física: 4 letters; then YYMMDD and a homoclave of two
    // characters plus a check character (digit or A). Separators `-` or ` ` are tolerated.
    let re = regex(
        &RE,
        r"\b[A-ZÑ&]{3,4}[- ]?([0-9]{2})([0-9]{2})([0-9]{2})[- ]?[A-Z0-9]{2}[0-9A]\b",
    );
    re.captures_iter(text)
        .filter(|c| valid_date(&c[1], &c[2], &c[3]))
        .map(|c| c.get(0).expect("whole match").range())
        .filter(|r| alnum_bounded(text, r) && char_before(text, r.start) != Some('&'))
        .filter(|r| {
            // The generic RFCs for the general public and foreigners are not personal data.
            let compact: String = text[r.clone()]
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            compact != "XAXX010101000" && compact != "XEXX010101000"
        })
        .collect()
}

// ----------------------------------------------------------------------------------------
// DNI and NIE (Spain)

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn dni_letter(number: u32) -> char {
    DNI_LETTERS[(number % 23) as usize] as char
}

fn find_dnis(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"\b([0-9]{8}|[0-9]{2}\.[0-9]{3}\.[0-9]{3})[- ]?([A-Z])\b",
    );
    re.captures_iter(text)
        .filter(|c| {
            let digits: String = c[1].chars().filter(char::is_ascii_digit).collect();
            let number: u32 = digits.parse().unwrap_or(u32::MAX);
            number != u32::MAX && c[2].starts_with(dni_letter(number))
        })
        .map(|c| c.get(0).expect("whole match").range())
        .filter(|r| {
            alnum_bounded(text, r) && !matches!(char_before(text, r.start), Some('.' | '-' | '/'))
        })
        .collect()
}

fn find_nies(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"\b([XYZ])[- ]?([0-9]{7})[- ]?([A-Z])\b");
    re.captures_iter(text)
        .filter(|c| {
            let prefix = match &c[1] {
                "X" => 0,
                "Y" => 1,
                _ => 2,
            };
            let number: u32 = c[2].parse().unwrap_or(0) + prefix * 10_000_000;
            c[3].starts_with(dni_letter(number))
        })
        .map(|c| c.get(0).expect("whole match").range())
        .filter(|r| alnum_bounded(text, r))
        .collect()
}

// ----------------------------------------------------------------------------------------
// IP addresses

/// A dotted number right after `versión`, `version`, `v`, `build` ... (one short word may sit
/// in between: `versión es 10.2.3.4`) is a version, not an address.
fn version_context(text: &str, start: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
    let before = text[line_start..start].to_lowercase();
    const WORDS: &[&str] = &[
        "versión",
        "version",
        "versiones",
        "ver",
        "ver.",
        "v",
        "v.",
        "build",
        "release",
        "firmware",
        "actualización",
        "actualizacion",
        "update",
    ];
    before
        .split_whitespace()
        .rev()
        .take(2)
        .any(|w| WORDS.contains(&w.trim_end_matches(':')))
}

fn find_ipv4(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"\b([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\b",
    );
    re.captures_iter(text)
        .filter(|c| (1..=4).all(|i| c[i].parse::<u32>().is_ok_and(|n| n <= 255)))
        .map(|c| c.get(0).expect("whole match").range())
        .filter(|r| {
            !matches!(char_before(text, r.start), Some(c) if c.is_alphanumeric() || c == '.')
                && !char_after(text, r.end).is_some_and(char::is_alphanumeric)
                && !followed_by_decimal(text, r.end)
                && !version_context(text, r.start)
                && !not_an_address(&text[r.clone()])
        })
        .collect()
}

/// Netmasks (`255.255.255.0`), the unspecified address and loopback say nothing about anyone
/// and matter in network instructions, so they are kept.
fn not_an_address(ip: &str) -> bool {
    let octets: Vec<u32> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
    let netmask = octets.first() == Some(&255)
        && octets
            .iter()
            .all(|o| [0, 128, 192, 224, 240, 248, 252, 254, 255].contains(o));
    netmask || octets.iter().all(|&o| o == 0) || octets.first() == Some(&127)
}

fn find_ipv6(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?i)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?|::[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}",
    );
    re.find_iter(text)
        .map(|m| m.range())
        .filter(|r| {
            let s = &text[r.clone()];
            let hex_digits = s.chars().filter(char::is_ascii_hexdigit).count();
            let groups = s.split(':').filter(|g| !g.is_empty()).count();
            let before_ok =
                !matches!(char_before(text, r.start), Some(c) if c.is_alphanumeric() || c == ':');
            let after_ok =
                !matches!(char_after(text, r.end), Some(c) if c.is_alphanumeric() || c == ':');
            before_ok
                && after_ok
                && !followed_by_decimal(text, r.end)
                && groups >= 2
                && hex_digits >= 5
                && s.matches("::").count() <= 1
        })
        .collect()
}

// ----------------------------------------------------------------------------------------
// Digit runs shared by cards and phones

/// A run of digit groups separated by short separators (`33 1234-5678`, `(55) 1234 5678`).
struct DigitRun {
    /// Byte ranges of each group of digits.
    groups: Vec<Range<usize>>,
    /// Whether the run is introduced by `+` (international prefix).
    plus: bool,
    /// Byte offset where the run starts (at `+` or `(` if present).
    start: usize,
}

impl DigitRun {
    fn lens(&self, range: Range<usize>) -> Vec<usize> {
        self.groups[range].iter().map(|g| g.len()).collect()
    }
}

/// Finds digit runs whose separators are made of `seps` (at most `max_sep` characters each).
fn digit_runs(text: &str, seps: &[char], max_sep: usize, allow_parens: bool) -> Vec<DigitRun> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
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
        let mut groups = Vec::new();
        let mut j = i;
        loop {
            let g_start = j;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            groups.push(g_start..j);
            // Separator?
            let mut k = j;
            let mut sep_len = 0;
            while k < bytes.len()
                && sep_len < max_sep + 1
                && (seps.contains(&(bytes[k] as char))
                    || (allow_parens && (bytes[k] == b'(' || bytes[k] == b')')))
            {
                k += 1;
                sep_len += 1;
            }
            if sep_len == 0 || sep_len > max_sep || k >= bytes.len() || !bytes[k].is_ascii_digit() {
                // A closing parenthesis right after the last group belongs to the run only
                // if it was opened; it does not matter for the ranges we replace.
                break;
            }
            j = k;
        }
        i = j;
        runs.push(DigitRun {
            groups,
            plus,
            start,
        });
    }
    runs
}

fn digits_of(text: &str, groups: &[Range<usize>]) -> String {
    groups.iter().map(|g| &text[g.clone()]).collect()
}

/// Phone and card numbers must not be glued to words, decimals, codes or currency signs.
fn left_boundary_ok(text: &str, at: usize) -> bool {
    !matches!(
        char_before(text, at),
        Some(c) if c.is_alphanumeric() || matches!(c, '.' | ',' | '/' | '-' | '_' | '#' | '$' | '€' | '@' | '+' | '\\')
    )
}

fn right_boundary_ok(text: &str, at: usize) -> bool {
    let after = char_after(text, at);
    !matches!(after, Some(c) if c.is_alphanumeric() || matches!(c, '/' | '_' | '@' | '%' | '€' | '$'))
        && !followed_by_decimal(text, at)
        && !matches!(
            (after, text[at..].chars().nth(1)),
            (Some('-' | ':'), Some(d)) if d.is_ascii_digit()
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// A word that introduces this kind of number (`tel.`, `llámanos`, `tarjeta` ...).
    Yes,
    /// A word that introduces something else (`pedido`, `folio`, `factura`, `$` ...).
    No,
    /// Neither.
    Unknown,
}

/// A context keyword: `(text, whole_word)`. Keywords that are not whole words match the start
/// of a word (`llam` matches `llámanos` only through `lláma`, so both spellings are listed).
type Keyword = (&'static str, bool);

const PHONE_WORDS: &[Keyword] = &[
    ("tel", false),
    ("tél", true),
    ("tlf", true),
    ("tfno", true),
    ("fono", true),
    ("cel", false),
    ("móvil", false),
    ("movil", false),
    ("whats", false),
    ("llam", false),
    ("lláma", false),
    ("llame", false),
    ("marca", false),
    ("márca", false),
    ("fax", true),
    ("contact", false),
    ("phone", false),
    ("call", false),
    ("mobile", false),
    ("lada", true),
    ("extensión", false),
];

/// Words that introduce identifiers, codes and amounts; shared by phones and cards.
const IDENTIFIER_WORDS: &[Keyword] = &[
    ("pedido", false),
    ("orden", false),
    ("order", false),
    ("folio", false),
    ("factura", false),
    ("ticket", false),
    ("guía", false),
    ("guia", false),
    ("rastreo", false),
    ("seguimiento", false),
    ("tracking", false),
    ("referencia", false),
    ("ref", true),
    ("sku", true),
    ("código", false),
    ("codigo", false),
    ("clave", false),
    ("clabe", true),
    ("contrato", false),
    ("póliza", false),
    ("poliza", false),
    ("lote", false),
    ("serie", false),
    ("modelo", false),
    ("cp", true),
    ("c.p", true),
    ("postal", false),
    ("nº", true),
    ("n°", true),
    ("no.", true),
    ("núm", true),
    ("num", true),
    ("id", true),
    ("expediente", false),
    ("transacción", false),
    ("transaccion", false),
    ("operación", false),
    ("operacion", false),
    ("autorización", false),
    ("autorizacion", false),
    ("convenio", false),
    ("isbn", true),
    ("invoice", false),
];

/// Amount words: a number after them is money, not a phone.
const AMOUNT_WORDS: &[Keyword] = &[
    ("precio", false),
    ("total", true),
    ("importe", false),
    ("monto", false),
    ("pago", true),
];

const CARD_WORDS: &[Keyword] = &[
    ("tarjeta", false),
    ("card", false),
    ("visa", true),
    ("master", false),
    ("amex", true),
    ("crédito", false),
    ("credito", false),
    ("débito", false),
    ("debito", false),
];

/// Looks at the words just before `at` (same line, up to 40 bytes): the nearest keyword of
/// `yes` or of the `no` lists decides; `#`, `$` or `€` right before means an identifier or an
/// amount.
fn context_before(text: &str, at: usize, yes: &[&[Keyword]], no: &[&[Keyword]]) -> Context {
    let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let mut window_start = line_start.max(at.saturating_sub(40));
    while !text.is_char_boundary(window_start) {
        window_start += 1;
    }
    let window = text[window_start..at].to_lowercase();
    let trimmed = window.trim_end();
    if trimmed.ends_with('#') || trimmed.ends_with('$') || trimmed.ends_with('€') {
        return Context::No;
    }
    let mut best: Option<(usize, Context)> = None;
    let mut consider = |lists: &[&[Keyword]], ctx: Context| {
        for &(word, whole) in lists.iter().flat_map(|l| l.iter()) {
            for (pos, _) in window.match_indices(word) {
                let starts_word = window[..pos]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                let ends_word = window[pos + word.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
                if starts_word && (!whole || ends_word) && best.is_none_or(|(b, _)| pos >= b) {
                    best = Some((pos, ctx));
                }
            }
        }
    };
    consider(yes, Context::Yes);
    consider(no, Context::No);
    best.map_or(Context::Unknown, |(_, ctx)| ctx)
}

fn phone_context(text: &str, at: usize) -> Context {
    context_before(text, at, &[PHONE_WORDS], &[IDENTIFIER_WORDS, AMOUNT_WORDS])
}

fn card_context(text: &str, at: usize) -> Context {
    context_before(text, at, &[CARD_WORDS], &[IDENTIFIER_WORDS])
}

/// Currency or unit right after a number makes it an amount or a quantity.
fn amount_after(text: &str, at: usize) -> bool {
    let rest: String = text[at..]
        .trim_start()
        .chars()
        .take(10)
        .flat_map(char::to_lowercase)
        .collect();
    [
        "€", "$", "mxn", "eur", "usd", "pesos", "euros", "dólares", "dolares", "%", "kg", "km",
        "unidades", "piezas", "pzas",
    ]
    .iter()
    .any(|w| rest.starts_with(w))
}

// ----------------------------------------------------------------------------------------
// Cards

fn luhn_valid(digits: &str) -> bool {
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

fn find_cards(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for run in digit_runs(text, &[' ', '-'], 1, false) {
        let n = run.groups.len();
        let mut s = 0;
        while s < n {
            let mut found = None;
            for e in (s + 1..=n).rev() {
                let lens = run.lens(s..e);
                if !card_grouping(&lens) {
                    continue;
                }
                let start = run.groups[s].start;
                let end = run.groups[e - 1].end;
                let digits = digits_of(text, &run.groups[s..e]);
                let all_same = digits.chars().all(|c| digits.starts_with(c));
                if left_boundary_ok(text, start)
                    && right_boundary_ok(text, end)
                    && !all_same
                    && luhn_valid(&digits)
                    && card_context(text, start) != Context::No
                {
                    found = Some((e, start..end));
                    break;
                }
            }
            match found {
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

/// A CVV/CVC (`CVV: 123`) anywhere, and an expiry date (`Vence: 08/28`, `exp 08/2028`) in a
/// text that also holds a card number (already replaced by `[TARJETA]`).
fn find_card_codes(text: &str) -> Vec<Range<usize>> {
    static CVV: OnceLock<Regex> = OnceLock::new();
    static EXPIRY: OnceLock<Regex> = OnceLock::new();
    let cvv = regex(
        &CVV,
        r"(?i)\b(?:cvv2?|cvc2?|c[oó]digo de seguridad|security code)\s*(?::|es|=)?\s*([0-9]{3,4})\b",
    );
    let mut out: Vec<Range<usize>> = cvv
        .captures_iter(text)
        .map(|c| c.get(1).expect("group").range())
        .filter(|r| alnum_bounded(text, r))
        .collect();
    if text.contains(PiiKind::Card.placeholder()) {
        let expiry = regex(
            &EXPIRY,
            r"(?i)\b(?:vence|vencimiento|venc\.?|expira|expiración|expiracion|exp\.?|caducidad|valid thru|expires?)\s*(?::|el|en)?\s*((?:0[1-9]|1[0-2])\s*/\s*(?:[0-9]{4}|[0-9]{2}))\b",
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

fn find_phones(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for run in digit_runs(text, &[' ', '-', '.'], 3, true) {
        let n = run.groups.len();
        if run.plus {
            // +CC and 7-14 more digits: extend while it stays plausible.
            let mut best = None;
            let mut total = 0;
            for e in 1..=n.min(7) {
                total += run.groups[e - 1].len();
                if total > 15 {
                    break;
                }
                if total >= 8 && run.groups[e - 1].len() >= 2 {
                    best = Some(e);
                }
            }
            if let Some(e) = best {
                let end = run.groups[e - 1].end;
                if left_boundary_ok(text, run.start) && right_boundary_ok(text, end) {
                    out.push(run.start..end);
                }
            }
            continue;
        }
        let mut s = 0;
        while s < n {
            let mut found = None;
            for e in (s + 1..=n.min(s + 6)).rev() {
                let lens = run.lens(s..e);
                let digits = digits_of(text, &run.groups[s..e]);
                let Some(kind) = national_phone(&lens, &digits) else {
                    continue;
                };
                // Include an opening parenthesis right before the first group.
                let mut start = run.groups[s].start;
                if start > 0 && text.as_bytes()[start - 1] == b'(' {
                    start -= 1;
                }
                let end = run.groups[e - 1].end;
                if !left_boundary_ok(text, start)
                    || !right_boundary_ok(text, end)
                    || amount_after(text, end)
                {
                    continue;
                }
                let ctx = phone_context(text, start);
                let accept = match kind {
                    PhoneMatch::Shape => ctx != Context::No,
                    PhoneMatch::NeedsContext => ctx == Context::Yes,
                };
                if accept {
                    found = Some((e, start..end));
                    break;
                }
            }
            match found {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub(text: &str) -> String {
        scrub_pii(text).0
    }

    #[track_caller]
    fn unchanged(text: &str) {
        let (out, counts) = scrub_pii(text);
        assert_eq!(out, text, "should not scrub ({counts})");
    }

    #[test]
    fn emails() {
        assert_eq!(
            scrub("Escríbenos a soporte.mx@ejemplo.com.mx o a ana_lópez+1@correo.es."),
            "Escríbenos a [EMAIL] o a [EMAIL]."
        );
    }

    #[test]
    fn mexican_phones() {
        for (input, expected) in [
            (
                "Llámanos al +52 33 1234 5678 hoy.",
                "Llámanos al [TELEFONO] hoy.",
            ),
            ("Celular: +52 1 55 1234 5678", "Celular: [TELEFONO]"),
            (
                "Oficina (33) 1234-5678 ext. 12",
                "Oficina [TELEFONO] ext. 12",
            ),
            (
                "Marca al 33 1234 5678 de 9 a 6.",
                "Marca al [TELEFONO] de 9 a 6.",
            ),
            ("o al 55-1234-5678.", "o al [TELEFONO]."),
            ("Tel. 3312345678", "Tel. [TELEFONO]"),
            ("WhatsApp 3312345678", "WhatsApp [TELEFONO]"),
            ("Sin costo: 01 800 123 4567", "Sin costo: [TELEFONO]"),
            ("Atención: 333 123 4567", "Atención: [TELEFONO]"),
        ] {
            assert_eq!(scrub(input), expected, "{input}");
        }
    }

    #[test]
    fn spanish_and_international_phones() {
        for (input, expected) in [
            ("Móvil +34 612 345 678.", "Móvil [TELEFONO]."),
            (
                "Llame al 612 34 56 78 o al 91 234 56 78.",
                "Llame al [TELEFONO] o al [TELEFONO].",
            ),
            ("Teléfono 912345678", "Teléfono [TELEFONO]"),
            (
                "La oficina atiende en el 912345678.",
                "La oficina atiende en el [TELEFONO].",
            ),
            ("US office: +1 415 555 0132", "US office: [TELEFONO]"),
            ("Londres +44 20 7946 0958.", "Londres [TELEFONO]."),
            ("+5213312345678", "[TELEFONO]"),
        ] {
            assert_eq!(scrub(input), expected, "{input}");
        }
    }

    #[test]
    fn mexican_ids() {
        assert_eq!(
            scrub("Mi CURP es GODE561231HJCRRN07 y mi RFC GODE561231GR8."),
            "Mi CURP es [CURP] y mi RFC [RFC]."
        );
        assert_eq!(
            scrub("RFC de la empresa: ABC-150101-1A3"),
            "RFC de la empresa: [RFC]"
        );
        // Generic RFCs (público en general / extranjeros) are not personal.
        unchanged("Factura al RFC genérico XAXX010101000 para público en general.");
        // Impossible date: month 34.
        unchanged("El código ABC123456XY1 es de inventario.");
    }

    #[test]
    fn spanish_ids_are_verified() {
        assert_eq!(
            scrub("DNI 12345678Z, NIE X1234567L."),
            "DNI [DNI], NIE [NIE]."
        );
        assert_eq!(scrub("Con DNI 12.345.678-Z"), "Con DNI [DNI]");
        // Wrong control letters.
        unchanged("DNI 12345678A y NIE X1234567A");
    }

    #[test]
    fn cards_need_luhn() {
        assert_eq!(
            scrub("Pagó con la tarjeta 4111 1111 1111 1111 ayer."),
            "Pagó con la tarjeta [TARJETA] ayer."
        );
        assert_eq!(scrub("Visa 4111-1111-1111-1111"), "Visa [TARJETA]");
        assert_eq!(scrub("Amex 3782 822463 10005"), "Amex [TARJETA]");
        assert_eq!(scrub("n: 5555555555554444"), "n: [TARJETA]");
        unchanged("Referencia 4111 1111 1111 1112 (no pasa Luhn).");
        unchanged("Número 1234567812345678");
    }

    #[test]
    fn card_security_code_and_expiry_go_with_the_card() {
        assert_eq!(
            scrub("Tarjeta: 4111 1111 1111 1111\nVence: 08/28\nCVV: 123"),
            "Tarjeta: [TARJETA]\nVence: [TARJETA]\nCVV: [TARJETA]"
        );
        // Without a card, a due date stays.
        unchanged("La factura vence el 15/03/2026 y la cuota vence: 08/28.");
        unchanged("Atendemos 365 días; el código de error es E-104.");
    }

    #[test]
    fn ibans_are_verified() {
        assert_eq!(
            scrub("Transfiere a ES91 2100 0418 4502 0005 1332 BBVA por favor."),
            "Transfiere a [IBAN] BBVA por favor."
        );
        assert_eq!(scrub("IBAN: DE89370400440532013000."), "IBAN: [IBAN].");
        unchanged("Cuenta ES91 2100 0418 4502 0005 1333 (dígito erróneo).");
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(
            scrub("El servidor 192.168.1.20 responde."),
            "El servidor [IP] responde."
        );
        assert_eq!(
            scrub("IPv6 2001:db8:85a3::8a2e:370:7334 y fe80::1ff:fe23:4567:890a"),
            "IPv6 [IP] y [IP]"
        );
        assert_eq!(
            scrub("Completa: 2001:0db8:85a3:0000:0000:8a2e:0370:7334."),
            "Completa: [IP]."
        );
        // Decision: a dotted quad right after "versión"/"v" is a version number.
        unchanged("Instala la versión 10.2.3.4 o la v2.4.1.");
        unchanged("Actualiza a v10.2.3.4 hoy.");
        unchanged("Octetos inválidos 300.1.2.3");
        // Decision: netmasks, 0.0.0.0 and loopback are not about anyone.
        assert_eq!(
            scrub("IP 192.168.10.45, máscara 255.255.255.0, local 127.0.0.1"),
            "IP [IP], máscara 255.255.255.0, local 127.0.0.1"
        );
    }

    #[test]
    fn things_that_are_not_pii_survive() {
        for text in [
            "El precio es $1,299.00 MXN o $ 12 500 en efectivo.",
            "En España cuesta 1.299,00 € con IVA.",
            "Entrega el 15/03/2026, el 2026-03-15 o el 15-03-2026.",
            "Horario: 09:00-18:00, sábados 10:00 a 14:00.",
            "Pedido #100234 con folio 2026-000123.",
            "Número de pedido: 612345678.",
            "Tu pedido 3312345678 llegará mañana.",
            "Guía de rastreo 4111111111111111.",
            "Modelos AX-200 y E-104, código postal 44100.",
            "Compra 12 500 unidades o 3 000 piezas.",
            "El folio 2026 1234 5678 quedó registrado.",
            "Son 5 cajas de 24 piezas, 120 en total.",
            "Del 1 al 15 de marzo de 2026.",
            "Mide 33 x 12 x 45 cm.",
            "ISBN 978-84-376-0494-7",
            "Llama de 9 a 18 h.",
            "Ventas crecieron 612 345 678 € este año.",
            "El 10 % de 3 500 es 350.",
        ] {
            unchanged(text);
        }
    }

    #[test]
    fn counts_and_placeholders() {
        let (out, counts) = scrub_pii(
            "Juan (juan@ejemplo.com, tel. 33 1234 5678, +34 612 345 678) pagó con 4111111111111111.",
        );
        assert_eq!(
            out,
            "Juan ([EMAIL], tel. [TELEFONO], [TELEFONO]) pagó con [TARJETA]."
        );
        assert_eq!(counts.get(PiiKind::Email), 1);
        assert_eq!(counts.get(PiiKind::Phone), 2);
        assert_eq!(counts.get(PiiKind::Card), 1);
        assert_eq!(counts.total(), 4);
        assert_eq!(counts.to_string(), "email 1, phone 2, card 1");
        let mut all = PiiCounts::default();
        all.merge(&counts);
        all.merge(&counts);
        assert_eq!(all.get(PiiKind::Phone), 4);
        assert_eq!(PiiCounts::default().to_string(), "none");
    }

    #[test]
    fn allowlisted_company_contacts_survive() {
        let allow = PiiAllowlist::new(["33 3616 2020", "800 296 5648", "@axoloit.mx", " "]);
        let text = "WhatsApp +52 33 3616 2020, sin costo 800 296 5648, soporte@axoloit.mx; \
                    cliente 33 1845 2290, lucia@correo.com.mx.";
        let (out, counts) = scrub_pii_with(text, &allow);
        assert_eq!(
            out,
            "WhatsApp +52 33 3616 2020, sin costo 800 296 5648, soporte@axoloit.mx; \
             cliente [TELEFONO], [EMAIL]."
        );
        assert_eq!(counts.total(), 2);
        assert!(
            !allow.allows(PiiKind::Phone, "3616 2020"),
            "too short to identify a line"
        );
        assert!(PiiAllowlist::new(Vec::<String>::new()).is_empty());
    }

    #[test]
    fn realistic_spanish_message() {
        let text =
            "Hola, soy María Pérez (CURP PEGM900215MDFRRR09). Mi correo es maria.perez@gmail.com \
                    y mi celular 55 8765 4321. Deposité a la cuenta ES76 2077 0024 0031 0257 5766 \
                    desde la IP 201.141.22.7. Mi DNI es 00000000T.";
        let (out, counts) = scrub_pii(text);
        assert!(!out.contains("PEGM"), "{out}");
        assert!(!out.contains("maria.perez"), "{out}");
        assert!(!out.contains("8765"), "{out}");
        assert!(!out.contains("2077"), "{out}");
        assert!(!out.contains("201.141"), "{out}");
        assert!(!out.contains("00000000T"), "{out}");
        assert_eq!(counts.total(), 6, "{out} {counts}");
        assert!(
            out.starts_with("Hola, soy María Pérez (CURP [CURP])."),
            "{out}"
        );
    }
}

//! PII scrubbing: personal data is replaced by typed placeholders before anything is embedded
//! or stored.
//!
//! The scrubber prefers precision: every kind with a check digit (DNI, NIE, IBAN, cards,
//! CLABE, NSS, CPF, RUT) is verified, structured identifiers (CURP, RFC, INE clave de
//! elector) must carry a valid date, and phone numbers must have a known grouping or a phone
//! word nearby, so prices, dates, times, order numbers, postal codes and product codes
//! survive. Letters in identifiers may be in any case. Passes run from the most specific
//! pattern to the least (keys and e-mails first, IBANs before cards and phones, IPs before
//! phones) and never look inside a placeholder left by an earlier pass.
//!
//! Judgement calls: a dotted quad right after `versión`/`v` is a version; netmasks, `0.0.0.0`
//! and loopback are kept; the generic RFCs `XAXX010101000`/`XEXX010101000` are kept; a card's
//! CVV and expiry date go with the card; 16 digits grouped 4-4-4-4 right after a card word
//! are a card even when the Luhn check fails (a mistyped card is still a card); a bare 10-digit
//! number is a phone only after a phone word (`tel.`, `mi número` ...), a bare 9-digit number
//! starting with 6-9 unless an identifier word (`pedido`, `folio` ...) precedes it; `No.`,
//! `núm.`, `#` between a word and a number do not change what the word says. Kinds that are
//! only numbers with a weak check need their word: an NSS needs `NSS`/`IMSS`/`seguro social`,
//! an unformatted CPF `CPF`, a RUT without dots `RUT`, a passport `pasaporte`/`passport`, a
//! date of birth `nací`/`fecha de nacimiento`/`DOB`/`born` (other dates stay). A lowercase
//! RFC, DNI or NIE written with spaces inside needs its word too (`casa 250101 001` stays).
//!
//! Every lookup is bounded (a card has at most 19 digits, a phone at most 15, a context
//! window reads at most 48 bytes back), so scrubbing is linear in the input.
//! A round that replaced something is followed by another (a shorter placeholder can bring a
//! phone word into a number's window), until a round finds nothing: scrubbing is idempotent.
//! A [`PiiAllowlist`] keeps the company's own public contacts.

mod context;
mod dates;
mod ids;
mod net;
mod numbers;
mod secrets;

#[cfg(test)]
mod generated;
#[cfg(test)]
mod tests;

use regex::Regex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

/// Work accounting for the complexity tests: every scanning loop reports the steps it takes,
/// and a test can set a budget that panics when exceeded (so a super-linear regression fails
/// at once instead of hanging). Compiled out of builds other than tests and fuzzing.
#[cfg(any(test, fuzzing))]
mod work {
    use std::cell::Cell;

    thread_local! {
        static STEPS: Cell<u64> = const { Cell::new(0) };
        static BUDGET: Cell<u64> = const { Cell::new(u64::MAX) };
    }

    /// Records `n` steps; panics when the thread's budget is exceeded.
    pub(super) fn step(n: usize) {
        STEPS.with(|s| {
            let total = s.get().saturating_add(n as u64);
            s.set(total);
            let budget = BUDGET.with(Cell::get);
            assert!(total <= budget, "work budget of {budget} steps exceeded");
        });
    }

    /// Runs `f` with a budget of `budget` steps; returns its result and the steps taken.
    pub(super) fn with_budget<T>(budget: u64, f: impl FnOnce() -> T) -> (T, u64) {
        STEPS.with(|s| s.set(0));
        BUDGET.with(|b| b.set(budget));
        let out = f();
        BUDGET.with(|b| b.set(u64::MAX));
        (out, STEPS.with(Cell::get))
    }
}

#[cfg(any(test, fuzzing))]
use work::step;

/// Fuzzing only: [`scrub_pii`] under a budget of `budget` scanning steps (it panics past
/// it); returns the result and the steps taken, so a fuzz target can check that the work
/// grows linearly with the input.
#[cfg(fuzzing)]
pub fn scrub_pii_counting(text: &str, budget: u64) -> ((String, PiiCounts), u64) {
    work::with_budget(budget, || scrub_pii(text))
}

/// Records scanning work (see the `work` module); free in other builds.
#[cfg(not(any(test, fuzzing)))]
#[inline(always)]
fn step(_: usize) {}

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
    /// Payment card number (13-19 digits, Luhn-valid; or 4-4-4-4 after a card word).
    Card,
    /// IBAN (mod-97 verified, with its country's length).
    Iban,
    /// IPv4 or IPv6 address.
    Ip,
    /// Mexican CLABE (18-digit bank account, weighted check digit).
    Clabe,
    /// Mexican NSS (IMSS social security number: 11 digits, Luhn check digit).
    Nss,
    /// Mexican INE voter card: clave de elector (18 characters) or CIC (after `CIC`/`IDMEX`).
    Ine,
    /// Passport number (after `pasaporte`/`passport`).
    Passport,
    /// Brazilian CPF (11 digits, two check digits).
    Cpf,
    /// Chilean RUT/RUN (check digit 0-9 or K).
    Rut,
    /// Date of birth (a date after `nací`, `fecha de nacimiento`, `date of birth`, `DOB` ...).
    #[serde(rename = "birth_date")]
    BirthDate,
    /// API key, access token or secret (`sk-...`, `ghp_...`, `AKIA...`, `Bearer ...` ...).
    #[serde(rename = "api_key")]
    ApiKey,
}

impl PiiKind {
    /// Every kind, in scrubbing-report order.
    pub const ALL: [PiiKind; 17] = [
        Self::Email,
        Self::Phone,
        Self::Curp,
        Self::Rfc,
        Self::Dni,
        Self::Nie,
        Self::Card,
        Self::Iban,
        Self::Ip,
        Self::Clabe,
        Self::Nss,
        Self::Ine,
        Self::Passport,
        Self::Cpf,
        Self::Rut,
        Self::BirthDate,
        Self::ApiKey,
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
            Self::Clabe => "[CLABE]",
            Self::Nss => "[NSS]",
            Self::Ine => "[INE]",
            Self::Passport => "[PASAPORTE]",
            Self::Cpf => "[CPF]",
            Self::Rut => "[RUT]",
            Self::BirthDate => "[FECHA_NACIMIENTO]",
            Self::ApiKey => "[CLAVE_API]",
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
            Self::Clabe => "clabe",
            Self::Nss => "nss",
            Self::Ine => "ine",
            Self::Passport => "passport",
            Self::Cpf => "cpf",
            Self::Rut => "rut",
            Self::BirthDate => "birth_date",
            Self::ApiKey => "api_key",
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

/// The letters and digits of `s`, upper-cased (`gode-561231` → `GODE561231`).
fn compact_upper(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Replaces personal data in `text` by typed placeholders (`[EMAIL]`, `[TELEFONO]`, `[CURP]`,
/// `[RFC]`, `[DNI]`, `[NIE]`, `[TARJETA]`, `[IBAN]`, `[IP]`, `[CLABE]`, `[NSS]`, `[INE]`,
/// `[PASAPORTE]`, `[CPF]`, `[RUT]`, `[FECHA_NACIMIENTO]`, `[CLAVE_API]`) and counts the
/// replacements.
///
/// A card's CVV and expiry date written next to it are replaced by `[TARJETA]` too (and
/// counted as card data). Scrubbing its own output changes nothing.
pub fn scrub_pii(text: &str) -> (String, PiiCounts) {
    scrub_pii_with(text, &PiiAllowlist::default())
}

/// A scrubbing pass: the byte ranges of one kind of PII in a text, in order, not overlapping.
type Finder = fn(&str) -> Vec<Range<usize>>;

/// The passes, most specific first.
const PASSES: [(PiiKind, Finder); 20] = [
    (PiiKind::ApiKey, secrets::find_secrets),
    (PiiKind::Email, find_emails),
    (PiiKind::BirthDate, dates::find_birth_dates),
    (PiiKind::Iban, ids::find_ibans),
    (PiiKind::Curp, ids::find_curps),
    (PiiKind::Ine, ids::find_ine_claves),
    (PiiKind::Ine, ids::find_ine_cics),
    (PiiKind::Rfc, ids::find_rfcs),
    (PiiKind::Passport, ids::find_passports),
    (PiiKind::Nie, ids::find_nies),
    (PiiKind::Dni, ids::find_dnis),
    (PiiKind::Rut, ids::find_ruts),
    (PiiKind::Cpf, ids::find_cpfs),
    (PiiKind::Ip, net::find_ipv6),
    (PiiKind::Ip, net::find_ipv4),
    (PiiKind::Clabe, numbers::find_clabes),
    (PiiKind::Nss, numbers::find_nss),
    (PiiKind::Card, numbers::find_cards),
    (PiiKind::Card, numbers::find_card_codes),
    (PiiKind::Phone, numbers::find_phones),
];

/// Rounds of passes at most; the second round almost never finds anything, a third is a
/// safety margin.
const MAX_ROUNDS: usize = 3;

/// [`scrub_pii`], leaving the values of `allow` in place.
pub fn scrub_pii_with(text: &str, allow: &PiiAllowlist) -> (String, PiiCounts) {
    let mut counts = PiiCounts::default();
    let mut text = text.to_string();
    for _ in 0..MAX_ROUNDS {
        let mut replaced = false;
        for (kind, find) in PASSES {
            let ranges: Vec<Range<usize>> = find(&text)
                .into_iter()
                .filter(|r| allow.is_empty() || !allow.allows(kind, &text[r.clone()]))
                .collect();
            if ranges.is_empty() {
                continue;
            }
            replaced = true;
            counts.add(kind, ranges.len());
            text = replace_ranges(&text, &ranges, kind.placeholder());
        }
        if !replaced {
            break;
        }
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

/// Numbers must not be glued to words, decimals, codes or currency signs on the left.
fn left_boundary_ok(text: &str, at: usize) -> bool {
    !matches!(
        char_before(text, at),
        Some(c) if c.is_alphanumeric() || matches!(c, '.' | ',' | '/' | '-' | '_' | '#' | '$' | '€' | '@' | '+' | '\\')
    )
}

/// Numbers must not continue into words, decimals, units, codes or ranges on the right.
fn right_boundary_ok(text: &str, at: usize) -> bool {
    let after = char_after(text, at);
    !matches!(after, Some(c) if c.is_alphanumeric() || matches!(c, '/' | '_' | '@' | '%' | '€' | '$'))
        && !followed_by_decimal(text, at)
        && !matches!(
            (after, text[at..].chars().nth(1)),
            (Some('-' | ':'), Some(d)) if d.is_ascii_digit()
        )
}

/// Month lengths (February may have 29 days: the year is often two digits).
fn valid_day_month(month: u32, day: u32) -> bool {
    let max_day = match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return false,
    };
    (1..=max_day).contains(&day)
}

/// `YYMMDD` as written inside CURP, RFC and the INE clave de elector.
fn valid_date(yy: &str, mm: &str, dd: &str) -> bool {
    let (Ok(_), Ok(m), Ok(d)) = (yy.parse::<u32>(), mm.parse::<u32>(), dd.parse::<u32>()) else {
        return false;
    };
    valid_day_month(m, d)
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

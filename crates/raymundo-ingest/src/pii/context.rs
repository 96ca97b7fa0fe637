//! Keyword context: the few words around a number say what it is (`tel.`, `tarjeta`,
//! `pedido`, `CPF` ...). Every lookup reads a bounded window, so long lines stay linear.

use super::{char_before, step, PiiKind};

/// How many bytes before a number a context lookup reads (about six words).
pub(super) const WINDOW: usize = 48;

/// How many bytes after a keyword a value lookup reads.
pub(super) const AFTER: usize = 48;

/// What the words before a number say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Context {
    /// A word that introduces this kind of number (`tel.`, `llámanos`, `tarjeta` ...).
    Yes,
    /// A word that introduces something else (`pedido`, `folio`, `factura`, `$` ...).
    No,
    /// Neither.
    Unknown,
}

/// A context keyword: `(text, whole_word)`. Keywords that are not whole words match the start
/// of a word (`llam` matches `llámanos` only through `lláma`, so both spellings are listed).
pub(super) type Keyword = (&'static str, bool);

/// Phone words.
pub(super) const PHONE_WORDS: &[Keyword] = &[
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
    ("mi núm", false),
    ("mi num", false),
    ("my number", false),
];

/// Words that introduce identifiers, codes and amounts; shared by phones, cards and CLABEs.
pub(super) const IDENTIFIER_WORDS: &[Keyword] = &[
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
    ("contrato", false),
    ("póliza", false),
    ("poliza", false),
    ("lote", false),
    ("serie", false),
    ("modelo", false),
    ("cp", true),
    ("c.p", true),
    ("postal", false),
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

/// Bank-account words: they introduce a CLABE, so a phone or a card after them is not one.
pub(super) const ACCOUNT_WORDS: &[Keyword] = &[("clave", false), ("clabe", true)];

/// Number abbreviations (`No.`, `núm.`, `nº`): transparent after another keyword
/// (`Tarjeta No. 4111 ...` is a card, `Pedido No. 4111 ...` an order), an identifier alone.
const NUMBER_WORDS: &[Keyword] = &[
    ("nº", true),
    ("n°", true),
    ("no.", true),
    ("núm", true),
    ("num", true),
];

/// Amount words: a number after them is money, not a phone.
pub(super) const AMOUNT_WORDS: &[Keyword] = &[
    ("precio", false),
    ("total", true),
    ("importe", false),
    ("monto", false),
    ("pago", true),
];

/// Card words.
pub(super) const CARD_WORDS: &[Keyword] = &[
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

/// CLABE words (the check digit suffices; these only outweigh an identifier word before).
pub(super) const CLABE_WORDS: &[Keyword] = &[
    ("clabe", true),
    ("interbancaria", false),
    ("cuenta", false),
    ("spei", true),
    ("transfer", false),
    ("transfi", false),
    ("depósito", false),
    ("deposito", false),
    ("deposita", false),
];

/// Social-security words; an NSS needs one.
pub(super) const NSS_WORDS: &[Keyword] = &[
    ("nss", true),
    ("imss", true),
    ("seguro social", false),
    ("seguridad social", false),
    ("afiliación", false),
    ("afiliacion", false),
];

/// Lowercase text of the window before `at`: the same line, at most [`WINDOW`] bytes, without
/// a word cut by the window's start, and with placeholders left by earlier passes made
/// zeros (so `[TELEFONO]` reads like the number it replaced, not like the phone word `tel`).
pub(super) fn window_before(text: &str, at: usize) -> String {
    let mut start = at.saturating_sub(WINDOW);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let mut raw = &text[start..at];
    let mut cut = start > 0;
    if let Some(nl) = raw.rfind('\n') {
        raw = &raw[nl + 1..];
        cut = false;
    }
    if cut && char_before(text, start).is_some_and(char::is_alphanumeric) {
        let word = raw
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(raw.len());
        raw = &raw[word..];
    }
    step(raw.len());
    if raw.contains(']') {
        blank_placeholders(raw).to_lowercase()
    } else {
        raw.to_lowercase()
    }
}

/// `raw` with every placeholder (and a placeholder's tail cut by the window) made zeros.
fn blank_placeholders(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let name_len = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
            .count()
    };
    let mut blank = Vec::new();
    let lead = name_len(0);
    if lead > 0
        && bytes.get(lead) == Some(&b']')
        && PiiKind::ALL
            .iter()
            .any(|k| k.placeholder().ends_with(&raw[..=lead]))
    {
        blank.push(0..lead + 1);
    }
    for (i, _) in raw.match_indices('[') {
        let end = i + 1 + name_len(i + 1);
        if bytes.get(end) == Some(&b']')
            && PiiKind::ALL
                .iter()
                .any(|k| k.placeholder() == &raw[i..=end])
        {
            blank.push(i..end + 1);
        }
    }
    if blank.is_empty() {
        return raw.to_string();
    }
    // A run of zeros: a word like the number it replaced, but never a keyword.
    let mut out = raw.as_bytes().to_vec();
    for r in blank {
        out[r].fill(b'0');
    }
    String::from_utf8(out).expect("ASCII replaced by ASCII")
}

/// Whether one of `lists` matches at the start of `rest` (a lowercase word start).
fn keyword_at(rest: &str, lists: &[&[Keyword]]) -> bool {
    let first = rest.as_bytes()[0];
    lists.iter().flat_map(|l| l.iter()).any(|&(word, whole)| {
        debug_assert!(word.as_bytes()[0].is_ascii_lowercase(), "keyword {word}");
        word.as_bytes()[0] == first
            && rest.starts_with(word)
            && (!whole || !rest[word.len()..].starts_with(char::is_alphanumeric))
    })
}

/// Looks at the words just before `at` (see [`window_before`]): the nearest keyword of the
/// `yes` or of the `no` lists decides (`no` on a tie); `#`, `$` or `€` right before means an
/// identifier or an amount. A number abbreviation (`No.`, `núm.`) after the nearest keyword
/// repeats the word right before it (`Tarjeta No.` is a card, `Pedido No.` an order) and
/// otherwise means an identifier (`No. de cliente`).
pub(super) fn context_before(
    text: &str,
    at: usize,
    yes: &[&[Keyword]],
    no: &[&[Keyword]],
) -> Context {
    let window = window_before(text, at);
    let trimmed = window.trim_end();
    if trimmed.ends_with('#') || trimmed.ends_with('$') || trimmed.ends_with('€') {
        return Context::No;
    }
    // The last keyword, the last number word (with what the word before it said) and what
    // the previous word said; one pass over the window's word starts.
    let mut last: Option<(usize, Context)> = None;
    let mut number: Option<(usize, Context)> = None;
    let mut previous = Context::Unknown;
    let mut prev_alnum = false;
    for (pos, c) in window.char_indices() {
        let starts_word = c.is_alphanumeric() && !prev_alnum;
        prev_alnum = c.is_alphanumeric();
        if !starts_word {
            continue;
        }
        let rest = &window[pos..];
        // Every keyword starts with an ASCII letter.
        let here = if !rest.as_bytes()[0].is_ascii_alphabetic() {
            Context::Unknown
        } else if keyword_at(rest, no) {
            Context::No
        } else if keyword_at(rest, yes) {
            Context::Yes
        } else {
            if keyword_at(rest, &[NUMBER_WORDS]) {
                number = Some((pos, previous));
            }
            Context::Unknown
        };
        if here != Context::Unknown {
            last = Some((pos, here));
        }
        previous = here;
    }
    match (last, number) {
        (Some((k, ctx)), Some((n, _))) if k > n => ctx,
        (_, Some((_, Context::Yes))) => Context::Yes,
        (_, Some(_)) => Context::No,
        (Some((_, ctx)), None) => ctx,
        (None, None) => Context::Unknown,
    }
}

/// Whether a keyword of `words` is among the words just before `at`.
pub(super) fn word_before(text: &str, at: usize, words: &[Keyword]) -> bool {
    context_before(text, at, &[words], &[]) == Context::Yes
}

/// Currency or unit right after a number (on the same line) makes it an amount or a quantity.
pub(super) fn amount_after(text: &str, at: usize) -> bool {
    let mut end = (at + 16).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    // The unit follows on the same line (`33 1234 5678\n$ 500` is a phone, then a price).
    let rest: String = text[at..end]
        .trim_start_matches([' ', '\t', '\u{a0}'])
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

/// Where the value after a keyword starts: skips spaces, `:`, `=`, `#`, quotes and up to
/// `max_fillers` words of `fillers` (lowercase; a filler may end with `.`: `No.`), reading at
/// most [`AFTER`] bytes.
pub(super) fn skip_fillers(text: &str, at: usize, fillers: &[&str], max_fillers: usize) -> usize {
    let mut limit = (at + AFTER).min(text.len());
    while !text.is_char_boundary(limit) {
        limit -= 1;
    }
    step(limit - at);
    let mut pos = at;
    let mut used = 0;
    loop {
        let rest = &text[pos..limit];
        let skipped = rest
            .find(|c: char| !(c.is_whitespace() || ":=#\"'`".contains(c)))
            .unwrap_or(rest.len());
        pos += skipped;
        let rest = &text[pos..limit];
        let word_len = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        if used == max_fillers || word_len == 0 {
            return pos;
        }
        let word = rest[..word_len].to_lowercase();
        if !fillers.contains(&word.as_str()) {
            return pos;
        }
        used += 1;
        pos += word_len;
        if text[pos..limit].starts_with('.') {
            pos += 1;
        }
    }
}

//! API keys and tokens: well-known prefixes (`sk-`, `gsk_`, `ghp_`, `xoxb-`, `AKIA` ...),
//! JSON Web Tokens, `Bearer <token>`, and long high-entropy strings right after `key`,
//! `token` or `secret`.

use super::context::skip_fillers;
use super::{char_after, char_before, regex, step};
use regex::Regex;
use std::ops::Range;
use std::sync::OnceLock;

/// Words that may sit between `token`/`key`/`secret` and the value.
const FILLERS: &[&str] = &[
    "es", "is", "de", "la", "el", "mi", "my", "tu", "your", "su", "the", "api", "was", "era",
];

/// Characters of a token.
fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_-+/=.~".contains(&b)
}

/// Whether `s` looks machine-generated: 16+ characters, letters and digits, several distinct
/// characters, at least 3 bits of entropy per character.
fn high_entropy(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() < 16
        || !bytes.iter().any(u8::is_ascii_digit)
        || !bytes.iter().any(u8::is_ascii_alphabetic)
    {
        return false;
    }
    let mut freq = [0u32; 256];
    for &b in bytes {
        freq[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    let entropy: f64 = freq
        .iter()
        .filter(|&&f| f > 0)
        .map(|&f| {
            let p = f64::from(f) / n;
            -p * p.log2()
        })
        .sum();
    freq.iter().filter(|&&f| f > 0).count() >= 10 && entropy >= 3.0
}

/// Keys with a known shape; the tail must mix letters and digits.
fn find_prefixed(text: &str, out: &mut Vec<Range<usize>>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?x)
          (?-u:\b)(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}
        | (?-u:\b)sk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}
        | (?-u:\b)gsk_[A-Za-z0-9]{20,}
        | (?-u:\b)gh[pousr]_[A-Za-z0-9]{30,}
        | (?-u:\b)github_pat_[A-Za-z0-9_]{30,}
        | (?-u:\b)glpat-[A-Za-z0-9_\-]{20,}
        | (?-u:\b)hf_[A-Za-z0-9]{30,}
        | (?-u:\b)xox[abposre]-[A-Za-z0-9\-]{10,}
        | (?-u:\b)(?:AKIA|ASIA)[0-9A-Z]{16}(?-u:\b)
        | (?-u:\b)AIza[0-9A-Za-z_\-]{35}
        | (?-u:\b)eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}
        ",
    );
    for m in re.find_iter(text) {
        let s = m.as_str();
        if s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic()) {
            out.push(m.range());
        }
    }
}

/// `Bearer <token>`: the token.
fn find_bearer(text: &str, out: &mut Vec<Range<usize>>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, r"(?i)(?-u:\b)bearer[ \t]+([A-Za-z0-9._~+/\-]{16,}=*)");
    for c in re.captures_iter(text) {
        let m = c.get(1).expect("group");
        let s = m.as_str();
        let mixed = s.bytes().any(|b| b.is_ascii_digit())
            || (s.bytes().any(|b| b.is_ascii_lowercase())
                && s.bytes().any(|b| b.is_ascii_uppercase()));
        if mixed && !char_after(text, m.end()).is_some_and(char::is_alphanumeric) {
            out.push(m.range());
        }
    }
}

/// A high-entropy value right after `api key`, `token`, `secret`, `clave de API` ...
fn find_after_keyword(text: &str, out: &mut Vec<Range<usize>>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    // No leading `\b`: `OPENAI_API_KEY` and `MY_TOKEN` count (checked below).
    let re = regex(
        &RE,
        r"(?i)(?:api[\s_\-]?key|apikey|access[\s_\-]?key|secret[\s_\-]?key|client[\s_\-]?secret|auth[\s_\-]?token|access[\s_\-]?token|secret|token|clave\s+(?:de\s+)?(?:la\s+)?api|clave\s+secreta|llave|key)",
    );
    for m in re.find_iter(text) {
        // Not part of a longer word or identifier (`tokens`, `token_type`, `token-de-...`).
        if char_before(text, m.start()).is_some_and(char::is_alphabetic)
            || char_after(text, m.end()).is_some_and(|c| c.is_alphanumeric() || "_-.".contains(c))
        {
            continue;
        }
        let start = skip_fillers(text, m.end(), FILLERS, 2);
        let bytes = text.as_bytes();
        let mut end = start;
        while end < bytes.len() && end - start < 512 && token_char(bytes[end]) {
            end += 1;
        }
        step(end - start);
        while end > start && matches!(bytes[end - 1], b'.' | b',' | b'-') {
            end -= 1;
        }
        let token = &text[start..end];
        if high_entropy(token)
            && !matches!(char_after(text, end), Some(c) if c.is_alphanumeric() || c == '@')
        {
            out.push(start..end);
        }
    }
}

/// Every key or token, as non-overlapping ranges.
pub(super) fn find_secrets(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    find_prefixed(text, &mut found);
    find_bearer(text, &mut found);
    find_after_keyword(text, &mut found);
    found.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in found {
        match out.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

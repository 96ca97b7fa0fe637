//! IP addresses (v4 and v6), except versions, netmasks, loopback and the unspecified address.

use super::context::window_before;
use super::{char_after, char_before, followed_by_decimal, regex};
use regex::Regex;
use std::ops::Range;
use std::sync::OnceLock;

/// A dotted number right after `versión`, `version`, `v`, `build` ... (one short word may sit
/// in between: `versión es 10.2.3.4`) is a version, not an address.
fn version_context(text: &str, start: usize) -> bool {
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
    window_before(text, start)
        .split_whitespace()
        .rev()
        .take(2)
        .any(|w| {
            let w = w.trim_start_matches(|c: char| !c.is_alphanumeric());
            WORDS.contains(&w.trim_end_matches(':'))
        })
}

pub(super) fn find_ipv4(text: &str) -> Vec<Range<usize>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RE,
        r"(?-u:\b)([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?-u:\b)",
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

pub(super) fn find_ipv6(text: &str) -> Vec<Range<usize>> {
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

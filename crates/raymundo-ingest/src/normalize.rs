//! Text normalisation: decoding, mojibake repair, Unicode NFC and whitespace.

use std::collections::HashMap;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

/// Decodes raw file bytes, then normalises the text (see [`normalize_str`]).
///
/// Encoding detection: a UTF-8 BOM is stripped; a UTF-16 LE/BE BOM selects UTF-16 (UTF-16
/// without BOM is recognised by its zero bytes); valid UTF-8 is taken as is; anything else is
/// read as Windows-1252, which also covers Latin-1.
pub fn normalize_text(raw_bytes: &[u8]) -> String {
    normalize_str(&decode(raw_bytes))
}

/// Normalises already-decoded text: repairs mojibake (UTF-8 read as Windows-1252), applies
/// Unicode NFC, turns every line ending into `\n`, turns tabs and exotic spaces into plain
/// spaces, drops invisible characters, collapses runs of spaces, trims lines and keeps at most
/// one blank line between paragraphs.
pub fn normalize_str(text: &str) -> String {
    let repaired = repair_mojibake(text);
    let composed: String = repaired.nfc().collect();
    clean_whitespace(&composed)
}

/// Decodes bytes to text by BOM, UTF-8 validity, then Windows-1252.
pub(crate) fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return text.into_owned();
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return text.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            text.into_owned()
        }
    }
}

/// UTF-16 without a BOM: mostly-ASCII text leaves a zero in every other byte.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if bytes.len() < 8 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let pairs = bytes.len() / 2;
    let zeros_even = bytes.iter().step_by(2).filter(|&&b| b == 0).count();
    let zeros_odd = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if zeros_odd * 10 >= pairs * 7 && zeros_even * 10 <= pairs {
        Some(encoding_rs::UTF_16LE)
    } else if zeros_even * 10 >= pairs * 7 && zeros_odd * 10 <= pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// The Windows-1252 byte each character encodes to (for bytes >= 0x80), plus the Latin-1
/// C1 controls, which appear when the mis-decoding was Latin-1 instead of Windows-1252.
fn cp1252_bytes() -> &'static HashMap<char, u8> {
    static MAP: OnceLock<HashMap<char, u8>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for b in 0x80u8..=0xFF {
            let byte = [b];
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
            if let Some(c) = text.chars().next() {
                map.insert(c, b);
            }
        }
        for b in 0x80u8..=0x9F {
            map.entry(char::from(b)).or_insert(b);
        }
        map
    })
}

/// Characters that mojibake repair may produce. Anything else (Cyrillic, CJK ...) would mean
/// the "mojibake" was legitimate text, so it is left alone.
fn plausible_repair(c: char) -> bool {
    matches!(c,
        '\u{A0}'..='\u{FF}'
        | '\u{100}'..='\u{17F}'
        | '\u{192}' | '\u{2C6}' | '\u{2DC}'
        | '\u{2013}' | '\u{2014}' | '\u{2018}'..='\u{201E}' | '\u{2020}'..='\u{2022}'
        | '\u{2026}' | '\u{2030}' | '\u{2039}' | '\u{203A}' | '\u{20AC}' | '\u{2122}'
        | '\u{FEFF}')
}

/// Repairs UTF-8 text that was decoded as Windows-1252 or Latin-1 (`informaciÃ³n`,
/// `Â¿`, `â€œ`), up to three times for double mis-decoding. Each candidate sequence (a
/// character whose byte is a UTF-8 lead byte followed by characters whose bytes are
/// continuation bytes) is replaced only if it decodes to a plausible Latin/punctuation
/// character, so correct text such as `¿Qué año?` or `SÃO PAULO` is left untouched.
pub(crate) fn repair_mojibake(text: &str) -> String {
    let mut current = text.to_string();
    for _ in 0..3 {
        match repair_once(&current) {
            Some(fixed) => current = fixed,
            None => break,
        }
    }
    current
}

fn repair_once(text: &str) -> Option<String> {
    let map = cp1252_bytes();
    // Fast path: every mojibake sequence starts with a character in U+00C2..U+00F4.
    if !text.chars().any(|c| ('\u{C2}'..='\u{F4}').contains(&c)) {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some((fixed, used)) = repair_at(&chars[i..], map) {
            out.push(fixed);
            i += used;
            changed = true;
            continue;
        }
        out.push(c);
        i += 1;
    }
    changed.then_some(out)
}

fn repair_at(chars: &[char], map: &HashMap<char, u8>) -> Option<(char, usize)> {
    let lead = *map.get(&chars[0])?;
    let continuation = match lead {
        0xC2..=0xDF => 1,
        0xE0..=0xEF => 2,
        0xF0..=0xF4 => 3,
        _ => return None,
    };
    if chars.len() <= continuation {
        return None;
    }
    let mut bytes = vec![lead];
    for &c in &chars[1..=continuation] {
        let b = *map.get(&c)?;
        if !(0x80..=0xBF).contains(&b) {
            return None;
        }
        bytes.push(b);
    }
    let decoded = std::str::from_utf8(&bytes).ok()?.chars().next()?;
    plausible_repair(decoded).then_some((decoded, continuation + 1))
}

/// Line endings, spaces, invisible characters, trimming and blank-line collapsing.
pub(crate) fn clean_whitespace(text: &str) -> String {
    let mut mapped = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                mapped.push('\n');
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\n' | '\u{2028}' => mapped.push('\n'),
            '\u{2029}' | '\u{0C}' => mapped.push_str("\n\n"),
            '\t'
            | '\u{0B}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}' => mapped.push(' '),
            '\u{AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            c if c.is_control() => {}
            c => mapped.push(c),
        }
    }
    let mut out = String::with_capacity(mapped.len());
    let mut blank_pending = false;
    for line in mapped.split('\n') {
        let mut collapsed = String::with_capacity(line.len());
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            if !collapsed.is_empty() {
                collapsed.push(' ');
            }
            collapsed.push_str(word);
        }
        if collapsed.is_empty() {
            blank_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_pending {
                out.push('\n');
            }
        }
        blank_pending = false;
        out.push_str(&collapsed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_with_and_without_bom() {
        assert_eq!(normalize_text("\u{FEFF}Año".as_bytes()), "Año");
        assert_eq!(normalize_text("¿Qué tal?".as_bytes()), "¿Qué tal?");
    }

    #[test]
    fn decodes_utf16_with_bom_and_without() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("Envío ñ".encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(normalize_text(&le), "Envío ñ");
        let mut be = vec![0xFE, 0xFF];
        be.extend("Envío ñ".encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(normalize_text(&be), "Envío ñ");
        let bare: Vec<u8> = "Horario de oficina"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(normalize_text(&bare), "Horario de oficina");
    }

    #[test]
    fn invalid_utf8_is_read_as_windows_1252() {
        // "¿Dónde está el “aviso”? 5 €" in Windows-1252.
        let bytes = b"\xBFD\xF3nde est\xE1 el \x93aviso\x94? 5 \x80";
        assert_eq!(normalize_text(bytes), "¿Dónde está el “aviso”? 5 €");
    }

    #[test]
    fn repairs_mojibake() {
        assert_eq!(normalize_str("informaciÃ³n"), "información");
        assert_eq!(normalize_str("Â¿Dudas? Â¡Hola!"), "¿Dudas? ¡Hola!");
        assert_eq!(normalize_str("â€œAyudaâ€\u{9D}"), "“Ayuda”");
        assert_eq!(
            normalize_str("Precio: 5 â‚¬ â€” oferta"),
            "Precio: 5 € — oferta"
        );
        assert_eq!(normalize_str("MontaÃ±a y camiÃ³n"), "Montaña y camión");
        // Double mis-decoding.
        assert_eq!(normalize_str("informaciÃƒÂ³n"), "información");
    }

    #[test]
    fn correct_text_is_left_alone() {
        let spanish =
            "¿Cuántos años tiene? ¡Él dijo que sí! Ñandú, pingüino, acción — «comillas» 5 €.";
        assert_eq!(normalize_str(spanish), spanish);
        for s in [
            "SÃO PAULO",
            "CAMIÓN» y AQUÍ»",
            "ÉL® CAFÉ©",
            "Ärger über Öl",
            "Â",
            "niño",
        ] {
            assert_eq!(normalize_str(s), s, "{s}");
        }
    }

    #[test]
    fn applies_nfc() {
        // "e" + combining acute accent becomes "é".
        assert_eq!(normalize_str("cafe\u{301}"), "café");
    }

    #[test]
    fn whitespace_is_tidied_and_paragraphs_kept() {
        let raw =
            "  Título\t\tuno  \r\n\r\n\r\n\r\nLínea\u{A0}\u{A0}dos\rtres\u{200B}\n   \n\n\nfin  ";
        assert_eq!(normalize_str(raw), "Título uno\n\nLínea dos\ntres\n\nfin");
        assert_eq!(normalize_str("\n\n  \n"), "");
    }
}

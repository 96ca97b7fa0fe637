//! Generated tests (property tests with a small deterministic generator, no extra crate):
//! valid identifiers in any case and any of their usual formats, inside random Spanish and
//! English sentences, never survive; prices, ordinary dates, order numbers, versions and
//! hours in the same sentences always do; and scrubbing its own output changes nothing.

use super::{scrub_pii, PiiKind};

/// xorshift64*: deterministic, good enough to vary test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi - lo + 1) as usize) as u32
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    fn one_of(&mut self, set: &str, n: usize) -> String {
        let set = set.as_bytes();
        (0..n)
            .map(|_| char::from(set[self.below(set.len())]))
            .collect()
    }

    fn letters(&mut self, n: usize) -> String {
        self.one_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ", n)
    }

    /// `s` in upper, lower or mixed case.
    fn any_case(&mut self, s: &str) -> String {
        match self.below(3) {
            0 => s.to_uppercase(),
            1 => s.to_lowercase(),
            _ => s
                .chars()
                .map(|c| {
                    if self.below(2) == 0 {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_ascii_uppercase()
                    }
                })
                .collect(),
        }
    }

    /// `YYMMDD` of a real date.
    fn yymmdd(&mut self) -> String {
        format!(
            "{:02}{:02}{:02}",
            self.below(100),
            self.range(1, 12),
            self.range(1, 28)
        )
    }

    /// `digits` with a Luhn check digit appended.
    fn luhn(&mut self, prefix: &str, len: usize) -> String {
        let mut body = prefix.to_string();
        body.push_str(&self.digits(len - 1 - prefix.len()));
        let sum: u32 = body
            .chars()
            .rev()
            .enumerate()
            .map(|(i, c)| {
                let d = c.to_digit(10).expect("digit");
                if i % 2 == 0 {
                    let d = d * 2;
                    if d > 9 {
                        d - 9
                    } else {
                        d
                    }
                } else {
                    d
                }
            })
            .sum();
        body.push(char::from_digit((10 - sum % 10) % 10, 10).expect("digit"));
        body
    }
}

/// Joins `groups` of `s` (lengths) with `sep`.
fn grouped(s: &str, lens: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut at = 0;
    for &len in lens {
        out.push(&s[at..at + len]);
        at += len;
    }
    assert_eq!(at, s.len(), "grouping of {s}");
    out.join(sep)
}

const DNI_LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn curp(r: &mut Rng) -> String {
    const STATES: &[&str] = &["AS", "BC", "DF", "JC", "NL", "MC", "VZ", "YN", "NE"];
    let value = format!(
        "{}{}{}{}{}{}{}{}",
        r.letters(1),
        r.one_of("AEIOUX", 1),
        r.letters(2),
        r.yymmdd(),
        r.one_of("HM", 1),
        r.pick(STATES),
        r.one_of("BCDFGHJKLMNPQRSTVWXYZ", 3),
        r.one_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 1) + &r.digits(1),
    );
    r.any_case(&value)
}

fn rfc(r: &mut Rng) -> String {
    let letters = loop {
        let len = 3 + r.below(2);
        let l = r.letters(len);
        if !l.starts_with("XAXX") && !l.starts_with("XEXX") {
            break l;
        }
    };
    let date = r.yymmdd();
    let homoclave =
        r.one_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 2) + &r.one_of("0123456789A", 1);
    match r.below(3) {
        0 => r.any_case(&format!("{letters}{date}{homoclave}")),
        1 => r.any_case(&format!("{letters}-{date}-{homoclave}")),
        _ => format!("{letters} {date} {homoclave}"),
    }
}

fn dni(r: &mut Rng) -> String {
    let n = r.below(100_000_000);
    let letter = char::from(DNI_LETTERS[n % 23]);
    let digits = format!("{n:08}");
    match r.below(4) {
        0 => r.any_case(&format!("{digits}{letter}")),
        1 => r.any_case(&format!("{digits}-{letter}")),
        2 => r.any_case(&format!(
            "{}.{}.{}-{letter}",
            &digits[..2],
            &digits[2..5],
            &digits[5..]
        )),
        _ => format!("{digits} {letter}"),
    }
}

fn nie(r: &mut Rng) -> String {
    let prefix = r.below(3);
    let n = r.below(10_000_000);
    let letter = char::from(DNI_LETTERS[(prefix * 10_000_000 + n) % 23]);
    let p = ["X", "Y", "Z"][prefix];
    match r.below(3) {
        0 => r.any_case(&format!("{p}{n:07}{letter}")),
        1 => r.any_case(&format!("{p}-{n:07}-{letter}")),
        _ => format!("{p} {n:07} {letter}"),
    }
}

fn iban(r: &mut Rng) -> String {
    let (country, bban) = match r.below(6) {
        0 => ("ES", r.digits(20)),
        1 => ("DE", r.digits(18)),
        2 => ("FR", r.digits(23)),
        3 => ("NL", r.letters(4) + &r.digits(10)),
        4 => ("GB", r.letters(4) + &r.digits(14)),
        _ => ("IT", r.letters(1) + &r.digits(22)),
    };
    let rearranged = format!("{bban}{country}00");
    let mut rem = 0u32;
    for c in rearranged.chars() {
        let v = c.to_digit(36).expect("alphanumeric");
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    let compact = format!("{country}{:02}{bban}", 98 - rem);
    let value = if r.below(2) == 0 {
        compact
    } else {
        let chunks: Vec<String> = compact
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8(c.to_vec()).expect("ASCII"))
            .collect();
        chunks.join(" ")
    };
    r.any_case(&value)
}

fn clabe(r: &mut Rng) -> String {
    let body = r.digits(17);
    let sum: u32 = body
        .chars()
        .zip([3, 7, 1].iter().cycle())
        .map(|(c, w)| c.to_digit(10).expect("digit") * w % 10)
        .sum();
    let value = format!("{body}{}", (10 - sum % 10) % 10);
    match r.below(3) {
        0 => value,
        1 => grouped(&value, &[3, 3, 11, 1], " "),
        _ => grouped(&value, &[4, 4, 4, 4, 2], " "),
    }
}

fn card(r: &mut Rng) -> String {
    let (number, lens): (String, &[usize]) = match r.below(3) {
        0 => (r.luhn("4", 16), &[4, 4, 4, 4]),
        1 => {
            let prefix = format!("5{}", r.range(1, 5));
            (r.luhn(&prefix, 16), &[4, 4, 4, 4])
        }
        _ => {
            let prefix = r.pick(&["34", "37"]);
            (r.luhn(prefix, 15), &[4, 6, 5])
        }
    };
    match r.below(4) {
        0 => number,
        1 => grouped(&number, lens, " "),
        2 => grouped(&number, lens, "-"),
        _ if lens.len() == 4 => grouped(&number, lens, "."),
        _ => grouped(&number, lens, " "),
    }
}

fn phone(r: &mut Rng) -> String {
    let mx = format!("{}{}", r.range(2, 9), r.digits(9));
    let es = format!("{}{}", r.range(6, 9), r.digits(8));
    match r.below(12) {
        0 => grouped(&mx, &[2, 4, 4], " "),
        1 => grouped(&mx, &[3, 3, 4], " "),
        2 => grouped(&mx, &[2, 2, 2, 2, 2], " "),
        3 => grouped(&mx, &[2, 4, 4], "-"),
        4 => format!("({}) {} {}", &mx[..2], &mx[2..6], &mx[6..]),
        5 => format!("+52 {}", grouped(&mx, &[2, 4, 4], " ")),
        6 => format!("+52 1 {}", grouped(&mx, &[2, 4, 4], " ")),
        7 => format!("+521{mx}"),
        8 => grouped(&es, &[3, 3, 3], " "),
        9 => grouped(&es, &[3, 2, 2, 2], " "),
        10 => format!("+34 {}", grouped(&es, &[3, 3, 3], " ")),
        _ => format!(
            "{} {mx}",
            r.pick(&["tel.", "Tel:", "mi número es", "cel", "WhatsApp"])
        ),
    }
}

fn cpf(r: &mut Rng) -> String {
    loop {
        let mut d: Vec<u32> = (0..9).map(|_| r.below(10) as u32).collect();
        for n in [9, 10] {
            let sum: u32 = d.iter().zip((2..=n + 1).rev()).map(|(x, w)| x * w).sum();
            d.push(sum * 10 % 11 % 10);
        }
        if d.iter().any(|&x| x != d[0]) {
            let s: String = d.iter().map(|x| x.to_string()).collect();
            return format!("{}.{}.{}-{}", &s[..3], &s[3..6], &s[6..9], &s[9..]);
        }
    }
}

fn rut(r: &mut Rng) -> String {
    let body = r.range(1_000_000, 29_999_999).to_string();
    let sum: u32 = body
        .chars()
        .rev()
        .zip([2, 3, 4, 5, 6, 7].iter().cycle())
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => "0".to_string(),
        10 => r.pick(&["K", "k"]).to_string(),
        d => d.to_string(),
    };
    let dotted = format!(
        "{}.{}.{}",
        &body[..body.len() - 6],
        &body[body.len() - 6..body.len() - 3],
        &body[body.len() - 3..]
    );
    format!("{dotted}-{check}")
}

fn ine(r: &mut Rng) -> String {
    let value = format!(
        "{}{}{:02}{}{}",
        r.letters(6),
        r.yymmdd(),
        r.range(1, 32),
        r.one_of("HM", 1),
        r.digits(3)
    );
    r.any_case(&value)
}

/// Words that say nothing about the number next to them.
const NEUTRAL: &[&str] = &[
    "hola",
    "buenos",
    "días",
    "gracias",
    "por",
    "favor",
    "el",
    "la",
    "cliente",
    "escribió",
    "ayer",
    "hello",
    "please",
    "thanks",
    "the",
    "customer",
    "wrote",
    "here",
    "is",
    "Ana",
    "Luis",
    "saludos",
    "ok",
    "y",
    "o",
    "con",
    "para",
    "from",
    "with",
    "dice",
    "que",
    "es",
    "mañana",
    "today",
    "sent",
    "envió",
    "revisa",
    "check",
    "this",
];

/// A sentence around `value`: neutral words, an optional lead-in and closing punctuation.
fn sentence(r: &mut Rng, value: &str) -> String {
    let mut out = String::new();
    for _ in 0..r.below(5) {
        out.push_str(r.pick(NEUTRAL));
        out.push(' ');
    }
    if r.below(3) == 0 {
        out.push_str(r.pick(&["dato: ", "(", "«", "\"", "¿", "— ", "valor = ", "Here: "]));
    }
    out.push_str(value);
    out.push_str(r.pick(&[
        "",
        ".",
        ",",
        ";",
        ")",
        "!",
        "?",
        "»",
        "\"",
        " y gracias.",
        " thanks!",
    ]));
    for _ in 0..r.below(4) {
        out.push(' ');
        out.push_str(r.pick(NEUTRAL));
    }
    if r.below(2) == 0 {
        out.push('.');
    }
    out
}

/// A generated item of personal data of `kind`.
fn personal(r: &mut Rng) -> (PiiKind, String) {
    match r.below(11) {
        0 => (PiiKind::Curp, curp(r)),
        1 => (PiiKind::Rfc, rfc(r)),
        2 => (PiiKind::Dni, dni(r)),
        3 => (PiiKind::Nie, nie(r)),
        4 => (PiiKind::Iban, iban(r)),
        5 => (PiiKind::Clabe, clabe(r)),
        6 => (PiiKind::Card, card(r)),
        7 => (PiiKind::Cpf, cpf(r)),
        8 => (PiiKind::Rut, rut(r)),
        9 => (PiiKind::Ine, ine(r)),
        _ => (PiiKind::Phone, phone(r)),
    }
}

/// A generated look-alike that is not personal data.
fn look_alike(r: &mut Rng) -> String {
    const MONTHS: &[&str] = &["enero", "marzo", "julio", "septiembre", "diciembre"];
    match r.below(16) {
        0 => format!(
            "${},{:03}.{:02}",
            r.range(1, 99),
            r.below(1000),
            r.below(100)
        ),
        1 => format!("{} MXN", r.range(1, 99_999)),
        2 => format!("$ {} {:03}", r.range(1, 99), r.below(1000)),
        3 => format!(
            "{}.{:03},{:02} €",
            r.range(1, 99),
            r.below(1000),
            r.below(100)
        ),
        4 => format!(
            "{:02}/{:02}/20{:02}",
            r.range(1, 28),
            r.range(1, 12),
            r.below(40)
        ),
        5 => format!(
            "20{:02}-{:02}-{:02}",
            r.below(40),
            r.range(1, 12),
            r.range(1, 28)
        ),
        6 => format!(
            "{} de {} de 20{:02}",
            r.range(1, 28),
            r.pick(MONTHS),
            r.below(40)
        ),
        7 => format!("March {}, 20{:02}", r.range(1, 28), r.below(40)),
        8 => format!("pedido #{}", r.range(10_000, 999_999)),
        9 => format!("PED-20{:02}-{:05}", r.below(40), r.below(100_000)),
        10 => format!("folio 20{:02}-{:06}", r.below(40), r.below(1_000_000)),
        11 => format!("pedido {}{}", r.range(6, 9), r.digits(8)),
        12 => format!("v{}.{}.{}", r.below(20), r.below(20), r.below(50)),
        13 => format!(
            "versión {}.{}.{}.{}",
            r.below(20),
            r.below(20),
            r.below(50),
            r.below(99)
        ),
        14 => format!("{:02}:{:02}", r.below(24), r.below(60)),
        _ => format!("de {:02}:00 a {:02}:30 h", r.range(6, 11), r.range(12, 20)),
    }
}

fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[track_caller]
fn assert_idempotent(text: &str, once: &str) {
    let (twice, counts) = scrub_pii(once);
    assert_eq!(
        twice, once,
        "not idempotent on {text:?} (second pass: {counts})"
    );
}

/// Cases per test; `PII_GEN_CASES` and `PII_GEN_SEED` explore further by hand.
fn cases() -> usize {
    std::env::var("PII_GEN_CASES").map_or(3000, |s| s.parse().expect("a number"))
}

fn rng(stream: u64) -> Rng {
    let seed = std::env::var("PII_GEN_SEED").map_or(0x5eed_0000, |s| s.parse().expect("a number"));
    Rng(seed ^ (stream << 32) | 1)
}

#[test]
fn generated_personal_data_never_survives() {
    let mut r = rng(1);
    for _ in 0..cases() {
        let (kind, value) = personal(&mut r);
        let text = sentence(&mut r, &value);
        let (out, counts) = scrub_pii(&text);
        // The value's letters and digits are gone (a word of context may share a few).
        let key = compact(&value);
        assert!(
            !compact(&out).contains(&key),
            "{kind} {value:?} survived in {text:?} -> {out:?}"
        );
        // `12.345.678-K` can be both a RUT and a DNI; either placeholder hides it.
        let dni_rut = kind == PiiKind::Rut && counts.get(PiiKind::Dni) >= 1;
        assert!(
            counts.get(kind) >= 1 || dni_rut,
            "{kind} {value:?} scrubbed as {counts} in {text:?} -> {out:?}"
        );
        assert_idempotent(&text, &out);
    }
}

#[test]
fn generated_look_alikes_survive() {
    let mut r = rng(2);
    for _ in 0..cases() {
        let value = look_alike(&mut r);
        let text = sentence(&mut r, &value);
        let (out, counts) = scrub_pii(&text);
        assert_eq!(out, text, "scrubbed {value:?} ({counts})");
    }
}

#[test]
fn generated_messages_scrub_idempotently() {
    // Several items per message, one per line (a context word never reaches across lines).
    let mut r = rng(3);
    for _ in 0..cases() / 3 {
        let mut lines = Vec::new();
        let mut personal_values = Vec::new();
        let mut kept = Vec::new();
        for _ in 0..r.range(2, 6) {
            if r.below(2) == 0 {
                let (_, value) = personal(&mut r);
                lines.push(sentence(&mut r, &value));
                personal_values.push(value);
            } else {
                let value = look_alike(&mut r);
                lines.push(sentence(&mut r, &value));
                kept.push(value);
            }
        }
        // On one line, context words reach across items (`pedido #48213, 33 1234 5678` keeps
        // the number on purpose), so only idempotency is checked.
        let one_line = lines.join(r.pick(&[" ", ", ", "; ", " y "]));
        let (once, _) = scrub_pii(&one_line);
        assert_idempotent(&one_line, &once);
        let text = lines.join("\n");
        let (out, _) = scrub_pii(&text);
        for value in &personal_values {
            assert!(
                !compact(&out).contains(&compact(value)),
                "{value:?} in {out:?}"
            );
        }
        for value in &kept {
            assert!(out.contains(value.as_str()), "{value:?} lost in {out:?}");
        }
        assert_idempotent(&text, &out);
    }
}

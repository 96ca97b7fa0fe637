//! Folding and tokenisation: every matcher works on tokens whose text is lower case without
//! accents, and every extracted text is cut from the original message by the tokens' byte
//! ranges, so values keep the user's accents and capitals.

/// Lower case without diacritics (`"Mañana"` -> `"manana"`, `"IMÁGENES"` -> `"imagenes"`).
/// Other characters are kept as they are.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        for l in c.to_lowercase() {
            out.push(match l {
                'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' => 'a',
                'é' | 'è' | 'ë' | 'ê' => 'e',
                'í' | 'ì' | 'ï' | 'î' => 'i',
                'ó' | 'ò' | 'ö' | 'ô' | 'õ' => 'o',
                'ú' | 'ù' | 'ü' | 'û' => 'u',
                'ñ' => 'n',
                'ç' => 'c',
                other => other,
            });
        }
    }
    out
}

/// What a token is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters.
    Word,
    /// ASCII digits.
    Num,
    /// One punctuation character.
    Punct,
}

/// One token of a message.
#[derive(Debug, Clone)]
pub(crate) struct Tok {
    /// Folded text; a few chat abbreviations are expanded (`q` -> `que`, `x` -> `por`).
    pub norm: String,
    /// What it is made of.
    pub kind: Kind,
    /// Byte range in the original message.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// Whether it follows the previous token with nothing in between (`AX` `-` `400`).
    pub glued: bool,
    /// Whether its first character is upper case in the original.
    pub upper: bool,
}

/// A message cut into tokens.
pub(crate) struct Tokens<'a> {
    /// The original message.
    pub src: &'a str,
    /// Its tokens, in order.
    pub toks: Vec<Tok>,
}

const PUNCT: &str = ".,;:!?-/#$%()\"'@&+*=_[]{}<>|";

/// Chat spellings expanded when they stand alone.
fn expand(word: &str) -> Option<&'static str> {
    Some(match word {
        "q" | "k" | "ke" | "qe" => "que",
        "xq" | "pq" | "porq" | "xk" => "porque",
        "x" => "por",
        "d" => "de",
        "pa" => "para",
        "tmb" | "tb" | "tmbn" => "tambien",
        "xfa" | "xfavor" | "porfavor" | "plis" | "pls" | "plz" | "porfis" => "porfa",
        "pos" | "ps" => "pues",
        "okey" | "oki" | "okay" | "okis" | "okas" => "ok",
        "sip" | "simon" => "si",
        "nop" | "nel" | "nelson" | "nones" => "no",
        "dnd" => "donde",
        "cm" => "como",
        _ => {
            let b = word.as_bytes();
            // "siii", "sii", "noooo"
            if b.len() >= 3 && b[0] == b's' && b[1..].iter().all(|&c| c == b'i') {
                "si"
            } else if b.len() >= 3 && b[0] == b'n' && b[1..].iter().all(|&c| c == b'o') {
                "no"
            } else {
                return None;
            }
        }
    })
}

/// Cuts `src` into words, numbers and punctuation. Letters and digits are separate tokens
/// even when written together (`ax400` is `ax` + glued `400`); whitespace, emojis and other
/// symbols only separate tokens.
/// The words of a parameter name after the first of `prefixes` it starts with, each with the
/// other forms `forms` gives (an empty list skips the word), widened to every synonym group one
/// of them belongs to; sorted, without duplicates.
pub(crate) fn name_words(
    name: &str,
    prefixes: &[&str],
    forms: impl Fn(&str) -> Vec<String>,
    groups: &[&[&str]],
) -> Vec<String> {
    let n = fold(name);
    let rest = prefixes
        .iter()
        .find_map(|p| n.strip_prefix(p))
        .unwrap_or(&n);
    let mut out: Vec<String> = Vec::new();
    for w in rest.split('_') {
        let forms = forms(w);
        for g in groups {
            if forms.iter().any(|f| g.contains(&f.as_str())) {
                out.extend(g.iter().map(|s| s.to_string()));
            }
        }
        out.extend(forms);
    }
    out.sort();
    out.dedup();
    out
}

pub(crate) fn tokenize(src: &str) -> Tokens<'_> {
    let mut toks: Vec<Tok> = Vec::new();
    let mut gap = true;
    let mut cur: Option<(Kind, usize)> = None;
    let flush = |toks: &mut Vec<Tok>, cur: &mut Option<(Kind, usize)>, end: usize, gap: bool| {
        if let Some((kind, start)) = cur.take() {
            let raw = &src[start..end];
            toks.push(Tok {
                norm: fold(raw),
                kind,
                start,
                end,
                glued: !gap,
                upper: raw.chars().next().is_some_and(char::is_uppercase),
            });
        }
    };
    for (i, c) in src.char_indices() {
        let kind = if c.is_ascii_digit() {
            Some(Kind::Num)
        } else if c.is_alphabetic() {
            Some(Kind::Word)
        } else {
            None
        };
        match kind {
            Some(k) => match cur {
                Some((ck, _)) if ck == k => {}
                Some(_) => {
                    flush(&mut toks, &mut cur, i, gap);
                    gap = false;
                    cur = Some((k, i));
                }
                None => cur = Some((k, i)),
            },
            None => {
                if cur.is_some() {
                    flush(&mut toks, &mut cur, i, gap);
                    gap = false;
                }
                let p = match c {
                    '–' | '—' | '‐' => Some('-'),
                    '“' | '”' | '«' | '»' => Some('"'),
                    '‘' | '’' | '`' | '´' => Some('\''),
                    c if PUNCT.contains(c) => Some(c),
                    _ => None,
                };
                match p {
                    Some(p) => {
                        toks.push(Tok {
                            norm: p.to_string(),
                            kind: Kind::Punct,
                            start: i,
                            end: i + c.len_utf8(),
                            glued: !gap,
                            upper: false,
                        });
                        gap = false;
                    }
                    None => gap = true,
                }
            }
        }
    }
    flush(&mut toks, &mut cur, src.len(), gap);
    // Expand chat spellings of words that stand alone (not `d` in `D-5`).
    for i in 0..toks.len() {
        if toks[i].kind != Kind::Word {
            continue;
        }
        let next_glued = toks
            .get(i + 1)
            .is_some_and(|n| n.glued && n.kind != Kind::Punct)
            || toks.get(i + 1).is_some_and(|n| {
                n.glued && n.norm == "-" && toks.get(i + 2).is_some_and(|m| m.glued)
            });
        if next_glued || (toks[i].glued && i > 0 && toks[i - 1].kind != Kind::Punct) {
            continue;
        }
        if let Some(e) = expand(&toks[i].norm) {
            toks[i].norm = e.to_string();
        }
    }
    Tokens { src, toks }
}

impl<'a> Tokens<'a> {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// The folded text of token `i`, or `""` past either end.
    pub fn norm(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| t.norm.as_str())
    }

    /// The folded text of the token before `i`, or `""` at the start.
    pub fn prev(&self, i: usize) -> &str {
        if i == 0 {
            ""
        } else {
            self.norm(i - 1)
        }
    }

    /// Whether token `i` is `w`.
    pub fn is(&self, i: usize, w: &str) -> bool {
        self.norm(i) == w
    }

    /// Whether token `i` is one of `ws`.
    pub fn is_in(&self, i: usize, ws: &[&str]) -> bool {
        i < self.len() && ws.contains(&self.norm(i))
    }

    /// Token `i`'s kind.
    pub fn kind(&self, i: usize) -> Option<Kind> {
        self.toks.get(i).map(|t| t.kind)
    }

    /// Whether token `i` is a word.
    pub fn is_word(&self, i: usize) -> bool {
        self.kind(i) == Some(Kind::Word)
    }

    /// Whether token `i` is a number.
    pub fn is_num(&self, i: usize) -> bool {
        self.kind(i) == Some(Kind::Num)
    }

    /// Whether token `i` is punctuation.
    pub fn is_punct(&self, i: usize) -> bool {
        self.kind(i) == Some(Kind::Punct)
    }

    /// Whether token `i` starts with a capital letter in the original.
    pub fn upper_at(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.upper)
    }

    /// Whether token `i` follows the previous one without a space.
    pub fn glued(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.glued)
    }

    /// The value of number token `i`.
    pub fn num(&self, i: usize) -> Option<i64> {
        if self.is_num(i) && self.norm(i).len() <= 15 {
            self.norm(i).parse().ok()
        } else {
            None
        }
    }

    /// If the tokens from `i` are the space-separated words of `phrase`, the index after them.
    pub fn phrase(&self, i: usize, phrase: &str) -> Option<usize> {
        let mut j = i;
        for w in phrase.split(' ') {
            if !self.is(j, w) {
                return None;
            }
            j += 1;
        }
        Some(j)
    }

    /// The first of `phrases` that starts at `i`, as the index after it.
    pub fn any_phrase(&self, i: usize, phrases: &[&str]) -> Option<usize> {
        phrases.iter().find_map(|p| self.phrase(i, p))
    }

    /// The original text of tokens `a..b`.
    pub fn slice(&self, a: usize, b: usize) -> &'a str {
        if a >= b || b > self.len() {
            return "";
        }
        &self.src[self.toks[a].start..self.toks[b - 1].end]
    }

    /// The folded words (no punctuation), in order.
    pub fn words(&self) -> Vec<&str> {
        self.toks
            .iter()
            .filter(|t| t.kind != Kind::Punct)
            .map(|t| t.norm.as_str())
            .collect()
    }

    /// Whether `.` at `i` ends a sentence rather than an abbreviation (`Av.`), a decimal or a
    /// code.
    pub fn is_sentence_dot(&self, i: usize) -> bool {
        if !self.is(i, ".") {
            return false;
        }
        let next_glued_alnum = self.glued(i + 1) && !self.is_punct(i + 1);
        if next_glued_alnum {
            return false;
        }
        let prev = self.prev(i);
        let abbrev = i > 0
            && self.is_word(i - 1)
            && (prev.chars().count() == 1 || ABBREVIATIONS.contains(&prev));
        !abbrev
    }
}

/// Abbreviations written with a dot (addresses, titles).
pub(crate) const ABBREVIATIONS: &[&str] = &[
    "av", "ave", "avda", "col", "no", "num", "int", "ext", "prol", "priv", "calz", "blvd", "fracc",
    "dr", "dra", "gral", "lic", "ing", "sr", "sra", "sta", "sto", "carr", "cto", "cda", "mz", "lt",
    "cp", "depto", "dpto", "edif", "esq", "km", "mpio", "ote", "pte", "nte", "pto", "st", "jal",
];

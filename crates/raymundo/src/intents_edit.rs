//! Adding examples to `data/intents.json` without rewriting it: each example is inserted as
//! text after the last one of its intent's `examples` array, in that array's layout, so the
//! rest of the file (order, spacing, other fields) stays byte for byte as the person wrote
//! it and a diff shows only the new lines. Also: a unified diff, and an atomic write.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Where an intent's `examples` array is in the text.
struct ExamplesArray {
    /// Byte offset of `[`.
    open: usize,
    /// Start and end of the last element, if any.
    last: Option<(usize, usize)>,
}

/// A small JSON reader that only finds positions.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        self.ws();
        if self.b.get(self.i) != Some(&c) {
            bail!("expected '{}' at byte {}", c as char, self.i);
        }
        self.i += 1;
        Ok(())
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// A string; returns its decoded value.
    fn string(&mut self) -> Result<String> {
        self.ws();
        let start = self.i;
        self.expect(b'"')?;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    let raw = std::str::from_utf8(&self.b[start..self.i])?;
                    return Ok(serde_json::from_str(raw)?);
                }
                _ => self.i += 1,
            }
        }
        bail!("unterminated string at byte {start}")
    }

    /// Skips any value.
    fn value(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') => {
                self.i += 1;
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.string()?;
                    self.expect(b':')?;
                    self.value()?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => bail!("expected ',' or '}}' at byte {}", self.i),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.value()?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => bail!("expected ',' or ']' at byte {}", self.i),
                    }
                }
            }
            Some(_) => {
                while self.i < self.b.len() && !b",}] \t\r\n".contains(&self.b[self.i]) {
                    self.i += 1;
                }
                Ok(())
            }
            None => bail!("unexpected end of the file"),
        }
    }

    /// Walks the members of the object at the cursor, calling `on` with each key and the
    /// scanner at its value; `on` returns `Some` to stop (its value is returned).
    fn members<T>(
        &mut self,
        mut on: impl FnMut(&str, &mut Self) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        self.expect(b'{')?;
        if self.peek() == Some(b'}') {
            return Ok(None);
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            self.ws();
            let at = self.i;
            if let Some(found) = on(&key, self)? {
                return Ok(Some(found));
            }
            self.i = at;
            self.value()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => return Ok(None),
                _ => bail!("expected ',' or '}}' at byte {}", self.i),
            }
        }
    }
}

fn examples_array(text: &str, intent: &str) -> Result<ExamplesArray> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
    };
    let found = s.members(|name, s| {
        if name != intent {
            return Ok(None);
        }
        s.members(|field, s| {
            if field != "examples" {
                return Ok(None);
            }
            let open = s.i;
            s.expect(b'[')?;
            let mut last = None;
            if s.peek() != Some(b']') {
                loop {
                    s.ws();
                    let start = s.i;
                    s.value()?;
                    last = Some((start, s.i));
                    match s.peek() {
                        Some(b',') => s.i += 1,
                        Some(b']') => break,
                        _ => bail!("expected ',' or ']' at byte {}", s.i),
                    }
                }
            }
            Ok(Some(ExamplesArray { open, last }))
        })
    })?;
    found.with_context(|| format!("intent {intent:?} has no \"examples\" array"))
}

/// `text` (an intents file) with `example` added as the last example of `intent`.
pub fn add_example(text: &str, intent: &str, example: &str) -> Result<String> {
    let array = examples_array(text, intent)?;
    let quoted = serde_json::to_string(example)?;
    let (at, insert) = match array.last {
        Some((start, end)) => {
            let between = &text[array.open + 1..start];
            if let Some(nl) = text[..start].rfind('\n').filter(|_| between.contains('\n')) {
                let indent = &text[nl + 1..start];
                (end, format!(",\n{indent}{quoted}"))
            } else {
                (end, format!(", {quoted}"))
            }
        }
        None => (array.open + 1, quoted),
    };
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..at]);
    out.push_str(&insert);
    out.push_str(&text[at..]);
    Ok(out)
}

/// A unified diff of two texts (3 lines of context), `---`/`+++` naming `name`.
pub fn unified_diff(old: &str, new: &str, name: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence, table from the ends (files here are small).
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (kind, old line number, new line number, text)
    let mut ops: Vec<(char, usize, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', i, j, a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i, j, a[i]));
            i += 1;
        } else {
            ops.push(('+', i, j, b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    if changed.is_empty() {
        return String::new();
    }
    let mut out = format!("--- {name}\n+++ {name}\n");
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(3);
        let mut end = changed[k] + 3;
        while k + 1 < changed.len() && changed[k + 1] <= end + 3 {
            k += 1;
            end = changed[k] + 3;
        }
        let end = end.min(ops.len() - 1);
        let hunk = &ops[start..=end];
        let old_len = hunk.iter().filter(|o| o.0 != '+').count();
        let new_len = hunk.iter().filter(|o| o.0 != '-').count();
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            hunk[0].1 + 1,
            hunk[0].2 + 1
        ));
        for (kind, _, _, line) in hunk {
            out.push(*kind);
            out.push_str(line);
            out.push('\n');
        }
        k += 1;
    }
    out
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced and renamed
/// into place: a reader sees the old file or the new one, never half of it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
  "crear_presentacion": {
    "examples": [
      "Crea una presentación sobre marketing digital",
      "Prepara slides para reunión de ventas"
    ],
    "parameters": ["tema", "examples"]
  },
  "examples": {"description": "an intent called examples", "examples": ["uno"]}
}
"#;

    #[test]
    fn an_example_goes_after_the_last_one_in_the_arrays_layout() {
        let out = add_example(FILE, "crear_presentacion", "Hazme \"diapos\" de riego").unwrap();
        assert!(out.contains(
            "      \"Prepara slides para reunión de ventas\",\n      \"Hazme \\\"diapos\\\" de riego\"\n    ],"
        ), "{out}");
        let out = add_example(&out, "examples", "dos").unwrap();
        assert!(out.contains(r#""examples": ["uno", "dos"]}"#), "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["crear_presentacion"]["examples"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert!(add_example(FILE, "no_existe", "x").is_err());
        let diff = unified_diff(
            FILE,
            &add_example(FILE, "examples", "dos").unwrap(),
            "i.json",
        );
        assert!(
            diff.starts_with("--- i.json\n+++ i.json\n@@ -6,5 +6,5 @@\n"),
            "{diff}"
        );
        assert!(
            diff.contains("\n-  \"examples\": {\"description\""),
            "{diff}"
        );
        assert!(diff.contains("[\"uno\", \"dos\"]}\n"), "{diff}");
        assert_eq!(unified_diff(FILE, FILE, "i.json"), "");
    }
}

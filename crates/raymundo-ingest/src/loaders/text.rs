//! Plain text: it has no markup, so headings are inferred from layout (a short line in
//! capitals, or a lone `¿question?` line), and e-mails are recognised by their header block.

/// Header names that open an e-mail saved as text (English and Spanish clients).
pub(crate) const EMAIL_HEADERS: &[&str] = &[
    "from", "de", "to", "para", "subject", "asunto", "date", "fecha", "sent", "enviado", "enviada",
    "cc",
];

/// `(name, value)` of the header lines at the top of `text`, if it starts like an e-mail (at
/// least two known headers among its first lines).
fn email_headers(text: &str) -> Option<Vec<(String, String)>> {
    let mut headers = Vec::new();
    for line in text.lines().take(12) {
        let line = line.trim();
        if line.is_empty() {
            if headers.is_empty() {
                continue;
            }
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            break;
        };
        let name = name.trim().to_lowercase();
        if !EMAIL_HEADERS.contains(&name.as_str()) {
            break;
        }
        headers.push((name, value.trim().to_string()));
    }
    (headers.len() >= 2).then_some(headers)
}

/// Whether the text starts with an e-mail header block.
pub(crate) fn looks_like_email(text: &str) -> bool {
    email_headers(text).is_some()
}

/// The subject of an e-mail, without `RE:`/`Fwd:` prefixes.
pub(crate) fn email_subject(text: &str) -> Option<String> {
    let headers = email_headers(text)?;
    let (_, subject) = headers
        .into_iter()
        .find(|(name, _)| name == "subject" || name == "asunto")?;
    let mut subject = subject.as_str();
    loop {
        let trimmed = subject.trim_start();
        let Some((prefix, rest)) = trimmed.split_once(':') else {
            break;
        };
        if ["re", "rv", "fw", "fwd", "enc", "tr", "aw", "wg"]
            .contains(&prefix.trim().to_lowercase().as_str())
        {
            subject = rest;
        } else {
            break;
        }
    }
    let subject = subject.trim();
    (!subject.is_empty()).then(|| subject.to_string())
}

/// A short line written in capitals (`2. TEMPORADA DE LLUVIAS (JUNIO A SEPTIEMBRE)`).
fn is_caps_heading(line: &str) -> bool {
    let letters: Vec<char> = line.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    letters.len() >= 4
        && upper * 10 >= letters.len() * 9
        && line.split_whitespace().count() <= 12
        && !line.ends_with(['.', ',', ';'])
        && !line.starts_with("- ")
}

/// A lone question line (`¿Por qué dar mantenimiento por temporada?`).
fn is_question_heading(line: &str) -> bool {
    line.starts_with('¿') && line.ends_with('?') && line.split_whitespace().count() <= 14
}

/// Marks inferred headings with `#` (the document's opening capitals line) or `##` (the rest).
/// E-mails are left alone: their short capital lines are signatures, not sections.
pub(crate) fn infer_headings(text: &str) -> String {
    if looks_like_email(text) || text.lines().any(|l| l.starts_with("# ")) {
        return text.to_string();
    }
    let mut out: Vec<String> = Vec::new();
    for (i, paragraph) in text.split("\n\n").enumerate() {
        let mut lines = paragraph.lines();
        let first = lines.next().unwrap_or("");
        let rest: Vec<&str> = lines.collect();
        if is_caps_heading(first) {
            let hashes = if i == 0 { "#" } else { "##" };
            out.push(format!("{hashes} {first}"));
            if !rest.is_empty() {
                out.push(rest.join("\n"));
            }
        } else if rest.is_empty() && is_question_heading(first) {
            out.push(format!("## {first}"));
        } else {
            out.push(paragraph.to_string());
        }
    }
    out.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_question_lines_become_headings() {
        let text = "GUÍA DE MANTENIMIENTO\nRevisión: febrero de 2026.\n\n¿Por qué dar mantenimiento?\n\n\
                    Porque sí. NO LO OLVIDES.\n\n1. ESTIAJE (MARZO A MAYO)\n\n- Limpia los filtros.";
        assert_eq!(
            infer_headings(text),
            "# GUÍA DE MANTENIMIENTO\n\nRevisión: febrero de 2026.\n\n## ¿Por qué dar mantenimiento?\n\n\
             Porque sí. NO LO OLVIDES.\n\n## 1. ESTIAJE (MARZO A MAYO)\n\n- Limpia los filtros."
        );
    }

    #[test]
    fn emails_are_recognised_and_left_alone() {
        let email = "From: Ana <a@x.mx>\nTo: b@y.mx\nSubject: RE: Fwd: ¿Dónde está mi pedido? #100987\n\nHOLA\n\nSALUDOS";
        assert!(looks_like_email(email));
        assert_eq!(
            email_subject(email).as_deref(),
            Some("¿Dónde está mi pedido? #100987")
        );
        assert_eq!(infer_headings(email), email);
        assert!(!looks_like_email("De nada: gracias.\nOtra línea"));
        assert_eq!(email_subject("Hola\n\nSubject: x"), None);
    }
}

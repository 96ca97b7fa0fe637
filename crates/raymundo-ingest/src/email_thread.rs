//! Who is speaking in an e-mail thread: the company's messages stay as they are, everyone
//! else's (a customer's question, a complaint, a supplier's notice) is marked as quoted.
//!
//! A company's saved e-mails are mostly its replies with the customer's message below
//! ("-----Mensaje original-----", "---------- Forwarded message ---------", "El ... escribió:",
//! `>` lines). Both halves help retrieval (the customer's words are how people ask), but only
//! the company's half may be given as an answer. [`mark_speakers`] splits the thread into
//! messages at those separators and at header blocks (`De:` / `From:` ...), reads each
//! message's sender, and prefixes every line of a message not sent from one of the company's
//! domains with `> `; a company message that was quoted loses its `>` marks. The top header
//! block is left as it is (the title comes from its subject). Without known company domains,
//! the top message's sender is taken as the company (the file was saved from its mailbox,
//! where the newest message on top is its own), and a quoted message whose sender cannot be
//! read is someone else's.

use crate::loaders::EMAIL_HEADERS;
use raymundo_core::text::fold;

/// Header names that name a message's sender (the others are `loaders::EMAIL_HEADERS`).
const SENDER_HEADERS: &[&str] = &["from", "de"];

/// One message of the thread.
struct Message<'a> {
    /// The sender's e-mail domain, when a header or an attribution line names it.
    domain: Option<String>,
    lines: Vec<&'a str>,
}

/// The line without its quote marks (`> > text` -> `text`).
fn unquoted(line: &str) -> &str {
    let mut l = line.trim_start();
    while let Some(rest) = l.strip_prefix('>') {
        l = rest.trim_start();
    }
    l
}

/// `(name, value)` of a header line (`De: Ana <ana@x.mx>`), name folded.
fn header(line: &str) -> Option<(String, &str)> {
    let (name, value) = unquoted(line).split_once(':')?;
    let name = fold(name.trim());
    EMAIL_HEADERS
        .contains(&name.as_str())
        .then_some((name, value.trim()))
}

/// The domain of the first e-mail address in `text`, lower-cased.
fn domain(text: &str) -> Option<String> {
    let at = text.find('@')?;
    let rest = &text[at + 1..];
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    let d = rest[..end].trim_end_matches('.').to_lowercase();
    d.contains('.').then_some(d)
}

/// A separator line that opens an earlier or forwarded message.
fn separator(line: &str) -> bool {
    let l = unquoted(line);
    let lower = fold(l);
    (l.starts_with("-----") && l.chars().any(char::is_alphabetic))
        || (lower.ends_with("escribio:") || lower.ends_with("wrote:"))
            && (lower.starts_with("el ") || lower.starts_with("on "))
}

/// The company's domains from the PII allowlist's entries (`ventas@empresa.mx`,
/// `@empresa.mx`).
pub fn company_domains(allow: &[String]) -> Vec<String> {
    let mut out: Vec<String> = allow.iter().filter_map(|a| domain(a)).collect();
    out.sort();
    out.dedup();
    out
}

/// `text` (an e-mail or a thread, starting with its header block) with the lines of every
/// message not written by the company prefixed with `> ` (see the module's text).
pub fn mark_speakers(text: &str, company: &[String]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    // The top header block.
    let top_end = lines
        .iter()
        .position(|l| header(l).is_none())
        .unwrap_or(lines.len());
    let top_domain = lines[..top_end]
        .iter()
        .filter_map(|l| header(l))
        .find(|(n, _)| SENDER_HEADERS.contains(&n.as_str()))
        .and_then(|(_, v)| domain(v));
    let mut messages: Vec<Message> = vec![Message {
        domain: top_domain.clone(),
        lines: Vec::new(),
    }];
    let mut previous_blank = true;
    let mut previous_quoted = false;
    // The sender of the message a `>` block interrupts: its text after the block is theirs
    // again (a reply written between the quoted lines).
    let mut resume: Option<Option<String>> = None;
    for (i, &line) in lines.iter().enumerate().skip(top_end) {
        let quoted = line.trim_start().starts_with('>');
        let opens_headers = previous_blank
            && header(line).is_some_and(|(n, _)| SENDER_HEADERS.contains(&n.as_str()))
            && lines.get(i + 1).and_then(|l| header(l)).is_some();
        let attribution = separator(line);
        if !quoted && !unquoted(line).is_empty() && !attribution && !opens_headers {
            if let Some(domain) = resume.take() {
                messages.push(Message {
                    domain,
                    lines: Vec::new(),
                });
            }
        }
        if attribution || opens_headers {
            resume = None;
        }
        if quoted && !previous_quoted && resume.is_none() {
            resume = Some(messages.last().expect("a message").domain.clone());
        }
        if attribution || opens_headers || (quoted && !previous_quoted) {
            // A separator's own line may name the sender (`On ... <a@b.mx> wrote:`).
            let named = if attribution { domain(line) } else { None };
            messages.push(Message {
                domain: named,
                lines: Vec::new(),
            });
        }
        let current = messages.last_mut().expect("a message");
        if current.domain.is_none() {
            if let Some((n, v)) = header(line) {
                if SENDER_HEADERS.contains(&n.as_str()) {
                    current.domain = domain(v);
                }
            }
        }
        current.lines.push(line);
        previous_blank = unquoted(line).is_empty();
        previous_quoted = quoted;
    }
    let is_company = |m: &Message, first: bool| match (&m.domain, company.is_empty()) {
        (Some(d), false) => company
            .iter()
            .any(|c| d == c || d.ends_with(&format!(".{c}"))),
        (Some(d), true) => top_domain.as_deref() == Some(d.as_str()),
        (None, _) => first,
    };
    let mut out: Vec<String> = lines[..top_end].iter().map(|l| l.to_string()).collect();
    for (k, m) in messages.iter().enumerate() {
        let company = is_company(m, k == 0);
        for line in &m.lines {
            let bare = unquoted(line);
            let quoted = line.trim_start().starts_with('>');
            out.push(match (company, bare.is_empty(), quoted) {
                (_, true, _) => String::new(),
                // The company's own lines keep their layout (indented list items ...).
                (true, false, false) => line.to_string(),
                (true, false, true) => bare.to_string(),
                (false, false, _) => format!("> {bare}"),
            });
        }
    }
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREAD: &str = "From: Ventas <ventas@axoloit.mx>\nTo: Tomás <tomas@mimail.com.mx>\n\
Subject: RE: ¿Dónde está mi pedido?\n\nHola, Tomás:\n\nTu pedido salió el lunes por Estafeta.\n\n\
Saludos,\nKarla\n\n-----Mensaje original-----\nDe: Tomás <tomas@mimail.com.mx>\n\
Para: ventas@axoloit.mx\nAsunto: ¿Dónde está mi pedido?\n\nHice un pedido hace una semana y no llega.\n";

    fn company() -> Vec<String> {
        company_domains(&["ventas@axoloit.mx".to_string(), "33 3616 2020".to_string()])
    }

    #[test]
    fn the_customers_message_is_quoted_and_the_companys_is_not() {
        assert_eq!(company(), ["axoloit.mx"]);
        let marked = mark_speakers(THREAD, &company());
        assert!(
            marked.starts_with("From: Ventas <ventas@axoloit.mx>\nTo:"),
            "{marked}"
        );
        assert!(
            marked.contains("\nTu pedido salió el lunes por Estafeta.\n"),
            "{marked}"
        );
        assert!(
            marked.contains("\n> -----Mensaje original-----\n> De: Tomás"),
            "{marked}"
        );
        assert!(
            marked.contains("\n> Hice un pedido hace una semana y no llega.\n"),
            "{marked}"
        );
        // Without configured domains the top message's sender is the company.
        assert_eq!(mark_speakers(THREAD, &[]), marked);
    }

    #[test]
    fn quoted_blocks_and_forwards_are_judged_by_their_sender() {
        let text = "From: Facturación <facturacion@axoloit.mx>\nTo: Eusebio <e@huerta.com.mx>\n\
Subject: RE: Factura\n\nYa emitimos su factura.\n\n> De: Eusebio <e@huerta.com.mx>\n\
> Para: facturacion@axoloit.mx\n>\n> Solicito la factura de mi compra.\n\n\
---------- Forwarded message ---------\nDe: garantias@axoloit.mx\nAsunto: Programa\n\n\
El programa de reemplazo cubre rayos.\n";
        let marked = mark_speakers(text, &company());
        assert!(marked.contains("\nYa emitimos su factura.\n"), "{marked}");
        assert!(
            marked.contains("\n> Solicito la factura de mi compra.\n"),
            "{marked}"
        );
        assert!(
            marked.contains("\nEl programa de reemplazo cubre rayos.\n"),
            "{marked}"
        );
        // A customer's e-mail saved on its own is the customer speaking.
        let complaint = "From: Lucía <lucia@correo.com.mx>\nTo: soporte@axoloit.mx\n\
Subject: Sensor con error\n\nEl sensor marca E-104 otra vez y estoy muy molesta.\n";
        let marked = mark_speakers(complaint, &company());
        assert!(
            marked.contains("\n> El sensor marca E-104 otra vez"),
            "{marked}"
        );
        assert!(marked.starts_with("From: Lucía"), "{marked}");
    }

    #[test]
    fn a_reply_between_quoted_lines_is_the_companys_again() {
        let text = "From: soporte@axoloit.mx\nTo: ana@correo.mx\nSubject: RE: Sensor\n\n\
Hola, Ana:\n\n> ¿Cada cuánto cambio las pilas del sensor?\n\n\
Cada 18 meses con el reporte normal.\n\n> ¿Y el controlador?\nLa pila CR2032 dura 5 años.\n";
        let marked = mark_speakers(text, &company());
        assert!(
            marked.contains("\n> ¿Cada cuánto cambio las pilas del sensor?\n"),
            "{marked}"
        );
        assert!(
            marked.contains("\nCada 18 meses con el reporte normal.\n"),
            "{marked}"
        );
        assert!(
            marked.contains("\n> ¿Y el controlador?\nLa pila CR2032 dura 5 años.\n"),
            "{marked}"
        );
    }

    #[test]
    fn an_english_attribution_line_opens_a_message() {
        let text = "From: a@empresa.com\nTo: b@cliente.com\n\nThanks, it is fixed.\n\n\
On Mon, 2 Mar 2026, Bob <b@cliente.com> wrote:\nMy device is broken.\n";
        let marked = mark_speakers(text, &["empresa.com".to_string()]);
        assert!(marked.contains("\nThanks, it is fixed.\n"), "{marked}");
        assert!(marked.contains("\n> My device is broken.\n"), "{marked}");
    }
}

//! Reading a message in the light of the conversation: a follow-up ("¿y los sábados?",
//! "¿cuánto cuesta?", "¿y eso incluye la instalación?") is searched for together with the
//! question before it, and a request to start over ("/reset", "olvida todo") is recognised.
//!
//! Rules rather than a model: they run in microseconds, never invent a query, and are easy
//! to predict. A message is a follow-up when it opens with a connector ("y", "pero",
//! "entonces", "también", "what about" ...), points back ("eso", "ese", "lo mismo" ...), or
//! is too short to stand alone (two content words or fewer).

use crate::text::{content_keys, fold};

/// Openings of a follow-up (accent-folded, lower case, opening `¿¡` removed).
const CONNECTORS: &[&str] = &[
    "y ",
    "e ",
    "o ",
    "pero ",
    "entonces ",
    "tambien ",
    "ademas ",
    "que tal ",
    "y si ",
    "and ",
    "what about ",
    "how about ",
    "also ",
];

/// Words that point back at something said before.
const POINTERS: &[&str] = &[
    "eso", "esa", "ese", "esos", "esas", "esto", "ello", "mismo", "misma", "aquel", "aquella",
    "that", "it", "those",
];

/// Messages that ask to forget the conversation (accent-folded, lower case, no final
/// punctuation).
const RESETS: &[&str] = &[
    "/reset",
    "/reiniciar",
    "/olvidar",
    "reset",
    "olvida todo",
    "olvidalo todo",
    "olvida la conversacion",
    "borra todo",
    "borra el historial",
    "borra la conversacion",
    "empecemos de nuevo",
    "empezar de nuevo",
    "forget everything",
];

fn plain(message: &str) -> String {
    fold(message)
        .trim()
        .trim_start_matches(['¿', '¡'])
        .trim_end_matches(['?', '!', '.', ' '])
        .to_string()
}

/// True when `message` asks to forget the conversation.
pub fn is_reset(message: &str) -> bool {
    let p = plain(message);
    RESETS
        .iter()
        .any(|r| p == *r || p.starts_with(&format!("{r},")))
        || p.starts_with("olvida todo")
}

/// True when `message` only makes sense after the previous question.
pub fn is_follow_up(message: &str) -> bool {
    let p = format!("{} ", plain(message));
    if CONNECTORS.iter().any(|c| p.starts_with(c)) {
        return true;
    }
    let points_back = p
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| POINTERS.contains(&w));
    points_back || content_keys(message).len() <= 2
}

/// The query to search for: `message` with the `previous` question before it when
/// `message` is a follow-up, else `message` itself.
pub fn standalone_query(message: &str, previous: Option<&str>) -> String {
    match previous {
        Some(prev) if !prev.trim().is_empty() && is_follow_up(message) => {
            format!("{} {}", prev.trim(), message.trim())
        }
        _ => message.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_are_joined_to_the_previous_question() {
        let prev = Some("¿A qué hora abren la tienda?");
        assert_eq!(
            standalone_query("¿y los sábados?", prev),
            "¿A qué hora abren la tienda? ¿y los sábados?"
        );
        assert!(is_follow_up("¿Y eso incluye la instalación del equipo?"));
        assert!(is_follow_up("¿cuánto cuesta?"));
        assert!(is_follow_up("what about Saturdays?"));
        // A new, complete question stands alone.
        let q = "¿Cuánto cuesta el envío express a Monterrey?";
        assert_eq!(standalone_query(q, prev), q);
        // Nothing before: nothing to join.
        assert_eq!(standalone_query("¿y los sábados?", None), "¿y los sábados?");
    }

    #[test]
    fn resets_are_recognised_and_ordinary_messages_are_not() {
        for m in [
            "/reset",
            "Olvida todo",
            "olvida todo, por favor",
            "¡Empecemos de nuevo!",
        ] {
            assert!(is_reset(m), "{m}");
        }
        for m in [
            "¿olvidé mi contraseña?",
            "resetear el controlador AX-200",
            "borra mi pedido",
        ] {
            assert!(!is_reset(m), "{m}");
        }
    }
}

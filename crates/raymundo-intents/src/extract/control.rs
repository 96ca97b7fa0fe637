//! Messages that steer the conversation instead of answering: cancelling (`olvídalo`, `ya no
//! quiero la presentación`) and correcting (`mejor que sean 8`, `cámbialo a marketing`).

use super::norm::{tokenize, Tokens};

/// What may follow `ya no quiero` / `no quiero` in a cancel: the task itself or nothing.
const TASK: &[&str] = &[
    "presentacion",
    "presentaciones",
    "powerpoint",
    "ppt",
    "diapositivas",
    "diapos",
    "slides",
    "cita",
    "instalacion",
    "visita",
    "eso",
    "esto",
    "nada",
    "hacerlo",
    "hacerla",
    "seguir",
    "continuar",
    "ayuda",
    "tramite",
    "gracias",
    "ya",
    "mas",
];

/// Words that may accompany a cancel without changing it.
const SOFT: &[&str] = &[
    "gracias", "ya", "asi", "mejor", "por", "favor", "porfa", "no", "nada", "todo", "eso", "esto",
    "la", "lo", "el", "mas", "oye", "ok", "pues", "entonces", "bueno", "de", "hecho", "please",
    "thanks", "it", "mind", "hagas", "hagan", "quiero", "necesito", "ok",
];

fn words<'t>(t: &'t Tokens) -> Vec<&'t str> {
    t.words()
}

/// Whether the message calls the current request off: `olvídalo`, `cancela`, `cancelar`, `ya
/// no`, `ya no quiero la presentación`, `déjalo`, `mejor no`, `no importa`, `siempre no`,
/// `cancel`, `never mind`, `forget it`. Not a cancel: a bare `no` (an answer to a yes/no
/// question), `no gracias`, `ya no enciende` (a symptom), `ya no quiero imágenes` or `mejor no
/// incluyas imágenes` (corrections), `cancela mi pedido 100987` (a request about an order).
///
/// The check ignores what was asked: `mejor no` and `no importa` count as cancels even right
/// after a yes/no question, where [`parse_answer`](super::parse_answer) would read them as
/// "no" and "as you like". A caller that wants that reading calls `parse_answer` first for
/// those two.
pub fn is_cancel(message: &str) -> bool {
    let t = tokenize(message);
    let w = words(&t);
    let n = w.len();
    let rest_soft = |from: usize| w[from.min(n)..].iter().all(|x| SOFT.contains(x));
    for i in 0..n {
        match w[i] {
            "olvidalo" | "olvidala" | "olvidate" | "olvidelo" | "olvidenlo" | "olvidemoslo"
            | "cancelalo" | "cancelala" | "cancelado" | "cancelada" | "dejalo" | "dejala"
            | "dejemoslo" | "nevermind" | "nvm" => {
                // "déjalo en 8", "déjala con imágenes" are corrections.
                let next = w.get(i + 1).copied().unwrap_or("");
                if !matches!(next, "en" | "con" | "sin" | "a" | "para" | "de") {
                    return true;
                }
            }
            "olvida" | "cancela" | "cancelar" | "cancel" | "abort" | "stop" | "salir" | "quit" => {
                let next = w.get(i + 1).copied().unwrap_or("");
                let after = w.get(i + 2).copied().unwrap_or("");
                let about_order = matches!(next, "mi" | "mis" | "el" | "my")
                    && matches!(
                        after,
                        "pedido"
                            | "pedidos"
                            | "orden"
                            | "compra"
                            | "suscripcion"
                            | "cuenta"
                            | "tarjeta"
                            | "order"
                            | "subscription"
                    );
                if !about_order {
                    return true;
                }
            }
            "ya" if w.get(i + 1) == Some(&"no") => {
                // "ya no", "ya no gracias", "ya no quiero la presentación"; not "ya no enciende".
                let k = i + 2;
                if rest_soft(k) {
                    return true;
                }
                if matches!(
                    w[k],
                    "quiero" | "necesito" | "ocupo" | "queremos" | "es" | "hace" | "me"
                ) {
                    let tail = &w[k + 1..];
                    let tail_ok = tail.iter().all(|x| {
                        TASK.contains(x)
                            || SOFT.contains(x)
                            || matches!(
                                *x,
                                "necesario"
                                    | "falta"
                                    | "interesa"
                                    | "importa"
                                    | "que"
                                    | "hagas"
                                    | "la"
                                    | "lo"
                                    | "el"
                                    | "un"
                                    | "una"
                            )
                    });
                    if tail_ok {
                        return true;
                    }
                }
            }
            "mejor" if w.get(i + 1) == Some(&"no") && rest_soft(i + 2) => return true,
            "siempre" if w.get(i + 1) == Some(&"no") && rest_soft(i + 2) => return true,
            "no" if w.get(i + 1) == Some(&"importa") && rest_soft(i + 2) && i == 0 => return true,
            "no" if w.get(i + 1) == Some(&"quiero") && i + 2 < n && w[i + 2] == "nada" => {
                return true
            }
            "never" if w.get(i + 1) == Some(&"mind") => return true,
            // "mejor otro día", "lo dejamos para otro día"
            "otro" if w.get(i + 1) == Some(&"dia") && i + 2 == n => return true,
            "forget" if matches!(w.get(i + 1), Some(&"it") | Some(&"about")) => return true,
            _ => {}
        }
    }
    false
}

/// Whether the message corrects something said before: `mejor que sean 8`, `no, mejor 10`,
/// `cámbialo a marketing`, `en realidad sin imágenes`, `corrijo: ...`, `perdón, quise decir
/// el martes`, `siempre sí con imágenes`, `déjalo en 8`, `actually 12`. Not a correction: a
/// first request, a cancel (`mejor no`), `no, gracias`, `la mejor manera de regar`.
pub fn is_correction(message: &str) -> bool {
    let t = tokenize(message);
    let w = words(&t);
    let n = w.len();
    if n == 0 || is_cancel(message) {
        return false;
    }
    const OPENERS: &[&str] = &[
        "no", "oye", "ah", "ay", "mmm", "perdon", "ok", "bueno", "pues", "este",
    ];
    // The first word after interjections.
    let mut first = 0;
    while first < n && OPENERS.contains(&w[first]) {
        first += 1;
    }
    let joined = format!(" {} ", w.join(" "));
    const PHRASES: &[&str] = &[
        " en realidad ",
        " mas bien ",
        " quise decir ",
        " queria decir ",
        " me equivoque ",
        " corrijo ",
        " correccion ",
        " rectifico ",
        " actually ",
        " i meant ",
        " instead ",
        " siempre si ",
        " mejor que sea ",
        " mejor que sean ",
        " que mejor sea ",
        " que mejor sean ",
        " change it to ",
        " make it ",
        " ya no quiero ",
        " ya no lleve ",
        " ya no incluyas ",
        " ya no le pongas ",
        " ya no pongas ",
    ];
    if PHRASES.iter().any(|p| joined.contains(p)) {
        return true;
    }
    // "8, no, mejor 10", "ocho... mejor 10"
    if (1..t.len()).any(|i| t.is(i, "mejor") && t.is_in(i - 1, &[",", "no", "."])) {
        return true;
    }
    // "perdón, son 8", "no, era el martes"
    if first > 0
        && first < n
        && matches!(
            w[first],
            "son" | "es" | "era" | "eran" | "sean" | "sea" | "seria" | "serian" | "quise" | "dije"
        )
    {
        return true;
    }
    // "mejor 10", "no, mejor con imágenes", "sin imágenes mejor"; not "mejor así".
    if first + 1 < n && w[first] == "mejor" && w[first + 1] != "asi" {
        return true;
    }
    if n >= 2 && w[n - 1] == "mejor" {
        return true;
    }
    // "no, son 10", "no, el martes": a "no" followed by a new value.
    if w[0] == "no"
        && t.is(1, ",")
        && n >= 2
        && !matches!(
            w[1],
            "gracias" | "se" | "no" | "puedo" | "tengo" | "quiero" | "me" | "lo"
        )
    {
        return true;
    }
    match w[first.min(n - 1)] {
        "cambialo" | "cambiala" | "cambiale" | "cambiarlo" | "cambiarla" | "modificalo"
        | "modificala" | "corrige" | "corrigelo" | "ajustalo" | "ajustala" => return true,
        "dejalo" | "dejala" => {
            return matches!(
                w.get(first + 1),
                Some(&"en") | Some(&"con") | Some(&"sin") | Some(&"a")
            )
        }
        "cambia" | "cambiar" | "modifica" => {
            // "cambia el tema a ...", "cambia a 10"; not "cambia la hora solo".
            return w[first + 1..]
                .iter()
                .take(4)
                .any(|x| *x == "a" || *x == "por");
        }
        _ => {}
    }
    false
}

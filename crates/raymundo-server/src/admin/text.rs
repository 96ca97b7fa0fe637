//! Every word the review pages show, in one place (Spanish: the reviewers' language).

pub const LANG: &str = "es";
pub const TITLE: &str = "Raymundo · revisión";
pub const DISABLED_TITLE: &str = "Revisión desactivada";
pub const DISABLED_BODY: &str = "Las páginas de revisión están desactivadas porque no hay un \
    token de administración. Para activarlas, define la variable";
pub const DISABLED_HOW: &str = "(en el entorno o en .env, con al menos 12 caracteres; por \
    ejemplo el resultado de <code>openssl rand -hex 16</code>) y reinicia <code>raymundo \
    serve</code>. El nombre de la variable se cambia con <code>admin_token_env</code> en \
    <code>[server]</code> de raymundo.toml.";
pub const NO_LOG: &str = "Este servidor no tiene registro de interacciones.";
pub const LOGIN_TITLE: &str = "Entrar";
pub const LOGIN_LABEL: &str = "Token de administración";
pub const LOGIN_BUTTON: &str = "Entrar";
pub const LOGIN_WRONG: &str = "Token incorrecto.";
pub const LOGIN_NEEDED: &str = "Escribe el token de administración para revisar las respuestas.";
/// Too many wrong tokens from this address: wait `minutes` (at least 1).
pub fn throttled(minutes: u64) -> String {
    let wait = match minutes {
        0 | 1 => "un minuto".to_string(),
        n => format!("{n} minutos"),
    };
    format!("Demasiados intentos con un token incorrecto. Espera {wait} y vuelve a intentarlo.")
}
pub const LOGOUT: &str = "Salir";
pub const LIST_TITLE: &str = "Interacciones recientes";
pub const FILTERS: &str = "Filtros";
pub const F_UNREVIEWED: &str = "Sin revisar";
pub const F_OUT_OF_SCOPE: &str = "Fuera de alcance";
pub const F_THUMBS_DOWN: &str = "Con 👎";
pub const F_INTENT: &str = "Intención";
pub const F_CHANNEL: &str = "Canal";
pub const F_ANY: &str = "(todas)";
pub const F_APPLY: &str = "Filtrar";
pub const F_CLEAR: &str = "Quitar filtros";
pub const EMPTY_LIST: &str = "No hay interacciones con estos filtros.";
pub const NEWER: &str = "← Más recientes";
pub const OLDER: &str = "Más antiguas →";
pub const PAGE: &str = "Página";
pub const SAVED: &str = "Revisión guardada para la interacción";
pub const REVIEWED: &str = "Revisada";
pub const NOT_REVIEWED: &str = "Sin revisar";
pub const NO_INTENT: &str = "sin intención";
pub const BACK: &str = "← Volver a la lista";
pub const DETAIL_TITLE: &str = "Interacción";
pub const WHEN: &str = "Fecha (UTC)";
pub const CHANNEL: &str = "Canal";
pub const MESSAGE: &str = "Mensaje";
pub const QUERY: &str = "Consulta buscada";
pub const STEP: &str = "Paso";
pub const INTENT: &str = "Intención";
pub const PARAMETERS: &str = "Parámetros";
pub const CONFIDENCE: &str = "Confianza";
pub const CHUNKS: &str = "Fragmentos recuperados";
pub const NO_CHUNKS: &str = "Ninguno";
pub const DOCUMENT: &str = "Documento";
pub const POSITION: &str = "Posición";
pub const SCORE: &str = "Puntuación";
pub const ANSWER: &str = "Respuesta";
pub const PROVIDER: &str = "Proveedor";
pub const IN_SCOPE: &str = "Dentro del alcance";
pub const RESOLVED: &str = "Resuelta";
pub const HANDED_OFF: &str = "Derivada a una persona";
pub const LATENCY: &str = "Tiempos (ms)";
pub const TOTAL: &str = "total";
pub const FEEDBACK: &str = "Valoración del usuario";
pub const NONE: &str = "—";
pub const YES: &str = "sí";
pub const NO: &str = "no";
pub const REVIEW: &str = "Revisión";
pub const REVIEW_EXISTING: &str = "Revisión actual";
pub const REVIEWER: &str = "Revisor";
pub const VERDICT: &str = "Veredicto";
pub const V_CORRECT: &str = "Correcta";
pub const V_INCORRECT: &str = "Incorrecta";
pub const V_OUT_OF_SCOPE: &str = "Fuera de alcance";
pub const CORRECTED_ANSWER: &str = "Respuesta corregida";
pub const CORRECTED_INTENT: &str = "Intención corregida";
pub const UNCHANGED: &str = "(sin corrección)";
pub const NONE_INTENT: &str = "none (ninguna intención)";
pub const SAVE: &str = "Guardar revisión";
pub const NOT_FOUND: &str = "No existe esa interacción.";
pub const BAD_FORM: &str = "El formulario no es válido";
pub const CSRF_FAILED: &str = "El formulario caducó o no viene de esta página. Vuelve a \
    abrirla e inténtalo de nuevo.";
pub const NEED_REVIEWER: &str = "falta el nombre del revisor";
pub const UNKNOWN_INTENT: &str = "intención desconocida";
pub const UNKNOWN_VERDICT: &str = "veredicto desconocido";
pub const STORE_FAILED: &str = "No se pudo leer o guardar en el registro; el detalle está en el \
    log del servidor.";

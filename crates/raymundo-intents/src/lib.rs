//! Intents: what people ask Raymundo to do.
//!
//! This crate reads `data/intents.json`: the seed's minimal form (`{"intent": {"examples":
//! [...], "parameters": ["name", ...]}}`) loads unchanged, and every extension is optional and
//! backwards compatible (typed parameters, required or not, the question to ask, a default, the
//! action, fixed responses). See [`spec`].
//!
//! [`extract()`] reads parameter values from Spanish (and some English) messages: quantities
//! in digits and words next to the noun they count, yes/no and statements about an object
//! (`con imágenes`), relative and absolute dates, topics, order numbers, codes, addresses;
//! it also tells cancels and corrections apart from answers. See the [`mod@extract`] module.
//!
//! [`classify`] decides which intent a message expresses, if any (a softmax regression with a
//! no-intent class over the embeddings, chosen by measurement over centroids and nearest
//! examples), and [`dialog`] runs slot filling over turns: questions for missing parameters,
//! corrections, cancels, with the pending request kept behind
//! [`raymundo_core::ConversationState`].

pub mod classify;
pub mod dialog;
pub mod extract;
pub mod spec;

pub use classify::{Classification, Classifier, Method, Thresholds};
pub use dialog::{Dialog, Step};
pub use extract::{
    extract, is_cancel, is_correction, normalize, parse_answer, parse_boolean, parse_date,
    parse_integer, Extraction, Problem,
};
pub use spec::{Action, IntentSet, IntentSpec, IntentsError, ParamSpec, ParamType};

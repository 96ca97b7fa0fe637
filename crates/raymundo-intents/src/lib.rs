//! Intents: what people ask Raymundo to do.
//!
//! This crate reads `data/intents.json`: the seed's minimal form (`{"intent": {"examples":
//! [...], "parameters": ["name", ...]}}`) loads unchanged, and every extension is optional and
//! backwards compatible (typed parameters, required or not, the question to ask, a default, the
//! action, fixed responses). See [`spec`].

pub mod spec;

pub use spec::{Action, IntentSet, IntentSpec, IntentsError, ParamSpec, ParamType};
pub mod classify;

//! raymundo-llm's integration tests, in one binary: the HTTP providers and the fallback
//! chain against a real server on 127.0.0.1, and the real local model.

mod chain;
mod providers;
mod support;

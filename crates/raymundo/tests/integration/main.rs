//! End-to-end tests of the `raymundo` binary with the real embedding models.
//!
//! One test binary (link time matters on small machines). Models are fetched once into the
//! shared cache (`RAYMUNDO_CACHE_DIR` or `~/.cache/raymundo`) by the first test that needs them.

mod cli;
mod export;
mod intents;
mod interactions;
mod memory;
mod parity;
mod pg_index;
mod reindex;
mod review;
mod server;
mod snapshot;
mod support;

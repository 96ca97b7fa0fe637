//! One module per subcommand.

pub mod ask;
pub mod build;
pub mod chat;
pub mod curate;
pub mod demo;
pub mod eval;
pub mod eval_answers;
pub mod eval_intents;
pub mod export;
pub mod init;
pub mod intents;
pub mod model;
pub mod reindex;
pub mod report;
pub mod review;
pub mod search;
pub mod serve;
pub mod snapshot;
pub mod stats;

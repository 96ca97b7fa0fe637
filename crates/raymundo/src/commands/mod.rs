//! One module per subcommand.

pub mod ask;
pub mod build;
pub mod demo;
pub mod eval;
pub mod init;
pub mod model;
pub mod search;

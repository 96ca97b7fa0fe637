//! The WhatsApp Cloud API: webhook bodies in, Graph API calls out.

pub mod graph;
pub mod inbound;
pub(crate) mod webhook;

//! The WhatsApp Cloud API: webhook bodies in, Graph API calls out.

pub mod graph;
pub use raymundo_channels::whatsapp_inbound as inbound;
pub(crate) mod webhook;

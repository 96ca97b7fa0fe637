//! What Raymundo's messaging channels send it, read as untrusted input: the WhatsApp Cloud
//! API's webhook bodies parsed into events ([`whatsapp_inbound`]), and the signatures Meta
//! and Twilio put on their webhooks ([`signature`]). No I/O: the server (`raymundo-server`)
//! receives the requests and acts on what these return; the fuzz targets call them directly.

pub mod signature;
pub mod whatsapp_inbound;

//! The WhatsApp Cloud API webhook parser on any body: events or a parse error, never a
//! panic; every message it returns names its id and sender.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raymundo_channels::whatsapp_inbound::{parse, Event};

fuzz_target!(|body: &[u8]| {
    if let Ok(events) = parse(body) {
        for event in events {
            if let Event::Message(m) = event {
                assert!(!m.id.is_empty(), "a message without an id: {m:?}");
                assert!(!m.from.is_empty(), "a message without a sender: {m:?}");
            }
        }
    }
});

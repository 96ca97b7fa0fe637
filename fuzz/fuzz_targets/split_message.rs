//! Splitting a reply for a channel with a length limit, and WhatsApp formatting: parts are
//! never empty, never over the limit, and hold every non-space character in order.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use raymundo_core::channel_text::{for_whatsapp, split_message};

#[derive(Debug, Arbitrary)]
struct Input {
    text: String,
    max: u16,
}

fuzz_target!(|input: Input| {
    let max = input.max as usize % 5000;
    let parts = split_message(&input.text, max);
    for p in &parts {
        assert!(!p.is_empty(), "an empty part");
        assert!(
            p.chars().count() <= max.max(1),
            "a part of {} characters over {max}",
            p.chars().count()
        );
    }
    let joined: String = parts
        .concat()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let given: String = input.text.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(joined, given, "text lost or changed by the split");
    let _ = for_whatsapp(&input.text);
});

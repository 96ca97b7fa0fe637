//! `scrub_pii` on any text: no panic, work linear in the input (a budget of scanning steps
//! per byte, counted by the scrubber itself), and idempotent (scrubbed text scrubs to itself).
#![no_main]

use libfuzzer_sys::fuzz_target;
use raymundo_ingest::scrub_pii_counting;

/// Scanning steps allowed per input byte (the complexity tests use the same bound).
const STEPS_PER_BYTE: u64 = 64;

fuzz_target!(|text: &str| {
    let budget = STEPS_PER_BYTE * (text.len() as u64 + 64);
    let ((once, counts), _) = scrub_pii_counting(text, budget);
    let ((twice, again), _) = scrub_pii_counting(&once, STEPS_PER_BYTE * (once.len() as u64 + 64));
    assert_eq!(
        once, twice,
        "scrubbing is not idempotent ({counts:?} then {again:?})"
    );
});

//! A value that must never be printed, compared in constant time; and random ids.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::OnceLock;

type Tag = Hmac<Sha256>;

/// A token, key or password: `Debug` prints `[redacted]`, the value is reachable only
/// through [`Secret::expose`].
///
/// [`Secret::matches`] compares HMAC-SHA256 tags (keyed with a random key of this process)
/// instead of the values: every candidate is reduced to 32 bytes, which are compared in
/// constant time, so the time taken depends neither on where the values differ nor on
/// whether their lengths do (only on the length of the candidate, which its sender knows).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    /// The value's tag, computed once so that comparing costs the same for every secret.
    tag: [u8; 32],
}

/// The process's key for [`Secret`] tags.
fn tag_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        fill_random(&mut key);
        key
    })
}

fn tagger() -> Tag {
    Tag::new_from_slice(tag_key()).expect("HMAC takes keys of any length")
}

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        let mut mac = tagger();
        mac.update(value.as_bytes());
        Self {
            tag: mac.finalize().into_bytes().into(),
            value,
        }
    }

    /// The value, for the one place that needs it (a signature, a header).
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Whether `candidate` is the value, in time independent of where they differ and of
    /// whether their lengths do (see [`Secret`]).
    pub fn matches(&self, candidate: &str) -> bool {
        let mut mac = tagger();
        mac.update(candidate.as_bytes());
        // `verify_slice` compares in constant time (the `subtle` crate).
        mac.verify_slice(&self.tag).is_ok()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Fills `buf` from the operating system's random source. Should that ever fail, a mix of
/// process-local entropy (hash keys, time, counter) is used, and the failure logged.
pub(crate) fn fill_random(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        use sha2::Digest;
        use std::hash::BuildHasher;
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        tracing::error!("the system's random source failed ({e}); using a weaker one");
        for chunk in buf.chunks_mut(32) {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let mut h = Sha256::new();
            for _ in 0..4 {
                let seeded = std::collections::hash_map::RandomState::new();
                h.update(seeded.hash_one((n, now)).to_le_bytes());
            }
            h.update(std::process::id().to_le_bytes());
            let d = h.finalize();
            chunk.copy_from_slice(&d[..chunk.len()]);
        }
    }
}

/// `bytes` random bytes in lowercase hex (session nonces, conversation ids).
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill_random(&mut buf);
    raymundo_core::to_hex(&buf)
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("EAAG-very-secret");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert!(s.matches("EAAG-very-secret"));
        assert!(!s.matches("EAAG-very-secreT"));
        assert!(!s.matches("EAAG"));
    }

    #[test]
    fn candidates_of_another_length_are_refused() {
        let s = Secret::new("0123456789abcdef");
        for wrong in [
            "",
            "0",
            "0123456789abcde",
            "0123456789abcdef0",
            "0123456789abcdeF",
        ] {
            assert!(!s.matches(wrong), "{wrong:?}");
        }
        assert!(s.matches("0123456789abcdef"));
        assert!(!Secret::new("").matches("x") && Secret::new("").matches(""));
    }

    /// The least time of `runs` comparisons of `candidate` with `secret`.
    fn fastest(secret: &Secret, candidate: &str, runs: usize) -> std::time::Duration {
        (0..runs)
            .map(|_| {
                let t = std::time::Instant::now();
                std::hint::black_box(secret.matches(std::hint::black_box(candidate)));
                t.elapsed()
            })
            .min()
            .unwrap()
    }

    #[test]
    fn a_wrong_length_does_not_return_early() {
        // Long enough that comparing takes measurable time; the candidates differ from the
        // secret at the first byte, so only the length can make one of them quicker.
        let n = 256 * 1024;
        let secret = Secret::new("s".repeat(n));
        let same_length = "x".repeat(n);
        let one_shorter = "x".repeat(n - 1);
        let one_longer = "x".repeat(n + 1);
        fastest(&secret, &same_length, 5);
        let same = fastest(&secret, &same_length, 40);
        for other in [&one_shorter, &one_longer] {
            let t = fastest(&secret, other, 40);
            assert!(
                t * 4 >= same,
                "a candidate of length {} took {t:?}, one of the secret's length {same:?}: \
                 the length was checked first",
                other.len()
            );
        }
    }
}

//! Per-sender rate limit: a fixed one-minute window per sender key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the limiter says about one more message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Under the limit.
    Allowed,
    /// Over the limit; `first` is true for the first refused message of the window (the
    /// one that gets told).
    Limited {
        /// First refusal in this window.
        first: bool,
    },
}

/// Counts messages per sender per minute.
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// At most `per_minute` messages per sender (0: no limit).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one message from `sender` at `now`.
    pub fn check(&self, sender: &str, now: Instant) -> Verdict {
        if self.per_minute == 0 {
            return Verdict::Allowed;
        }
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(sender.to_string()).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        *count += 1;
        if *count <= self.per_minute {
            Verdict::Allowed
        } else {
            Verdict::Limited {
                first: *count == self.per_minute + 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_over_the_limit_is_told_once_and_others_are_unaffected() {
        let limiter = RateLimiter::new(2);
        let t = Instant::now();
        assert_eq!(limiter.check("a", t), Verdict::Allowed);
        assert_eq!(limiter.check("a", t), Verdict::Allowed);
        assert_eq!(limiter.check("a", t), Verdict::Limited { first: true });
        assert_eq!(limiter.check("a", t), Verdict::Limited { first: false });
        assert_eq!(limiter.check("b", t), Verdict::Allowed);
        assert_eq!(limiter.check("a", t + WINDOW), Verdict::Allowed);
        assert_eq!(RateLimiter::new(0).check("a", t), Verdict::Allowed);
    }
}

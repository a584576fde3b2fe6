//! A token bucket over samples: a batch of `n` samples may start once the bucket has paid for
//! it, at `rate` samples per second, with at most `burst` of unused time banked. Lock-free
//! callers are not needed: one reservation per batch is a few per second per sender.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct RateLimiter {
    /// Seconds each sample costs.
    cost: f64,
    burst: Duration,
    /// When the next reservation may start (the theoretical arrival time).
    next: Mutex<Instant>,
}

impl RateLimiter {
    /// `rate` samples per second (> 0, finite); `burst`: idle time that may be caught up on.
    pub(crate) fn new(rate: f64, burst: Duration, now: Instant) -> Self {
        Self {
            cost: 1.0 / rate,
            burst,
            next: Mutex::new(now),
        }
    }

    /// Reserves `samples` and returns how long to wait before sending them.
    pub(crate) fn reserve(&self, samples: u64, now: Instant) -> Duration {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let earliest = now.checked_sub(self.burst).unwrap_or(now);
        let start = (*next).max(earliest);
        *next = start + Duration::from_secs_f64(samples as f64 * self.cost);
        start.saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_spaced_by_their_cost() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(1000.0, Duration::ZERO, t0);
        assert_eq!(limiter.reserve(500, t0), Duration::ZERO);
        assert_eq!(limiter.reserve(500, t0), Duration::from_millis(500));
        assert_eq!(limiter.reserve(1000, t0), Duration::from_secs(1));
        // A caller arriving late owes only what is left.
        assert_eq!(
            limiter.reserve(1, t0 + Duration::from_millis(1500)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn idle_time_is_banked_only_up_to_the_burst() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(100.0, Duration::from_millis(200), t0);
        let later = t0 + Duration::from_secs(10);
        // 20 samples (200 ms worth) go at once after a long idle, the next 10 wait 100 ms.
        assert_eq!(limiter.reserve(20, later), Duration::ZERO);
        assert_eq!(limiter.reserve(10, later), Duration::ZERO);
        assert_eq!(limiter.reserve(10, later), Duration::from_millis(100));
    }

    #[test]
    fn achieved_rate_over_many_reservations_matches_the_rate() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(50_000.0, Duration::ZERO, t0);
        let mut wait = Duration::ZERO;
        for _ in 0..100 {
            wait = limiter.reserve(2000, t0);
        }
        // 100 batches of 2000 = 200 000 samples: the last starts after 199 000 / 50 000 s.
        let expected = Duration::from_secs_f64(198_000.0 / 50_000.0);
        let diff = wait.abs_diff(expected);
        assert!(diff < Duration::from_millis(1), "{wait:?} vs {expected:?}");
    }
}

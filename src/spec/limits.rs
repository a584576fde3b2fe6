//! The bounds and defaults that a spec and the engines running it share: how many copies,
//! clients, restarts a phase may ask for, and the values a counted replication label takes.
//! The spec validator reports a spec beyond them; the engines check what reaches them
//! without a spec (the CLI's `replicate` and `swarm`).

use std::time::Duration;

/// Largest number of copies per source series perfgate accepts (the product of all counts).
pub const MAX_COPIES: u64 = 1_000_000;

/// The values a counted replication label stands for: `0`, `1`, …, `n-1`.
pub fn counted_values(n: u32) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

/// Why a replication label may not take an empty value: Prometheus treats `name=""` as no
/// label at all, so that copy would land on the series without it and merge with it. The
/// message (without location) the spec and the CLI report.
pub fn empty_label_value(name: &str) -> String {
    format!(
        "replication label `{name}` has an empty value; Prometheus treats an empty label as \
         absent, so that copy would merge with the series without `{name}`"
    )
}

/// Largest `cpu_factor` of a demo API (100 × the documented work per request).
pub const MAX_CPU_FACTOR: f64 = 100.0;

/// Checks a demo API's `cpu_factor`: finite, above 0, at most [`MAX_CPU_FACTOR`]. The error is
/// the message (without location) the spec and the CLI report.
pub fn check_cpu_factor(factor: f64) -> Result<f64, String> {
    if factor.is_finite() && factor > 0.0 && factor <= MAX_CPU_FACTOR {
        Ok(factor)
    } else {
        Err(format!(
            "`cpu_factor` must be a number > 0 and ≤ {MAX_CPU_FACTOR}, got {factor}"
        ))
    }
}

/// The pairs a `compare:` runs unless told otherwise (`repeat:`).
pub const DEFAULT_REPEAT: u32 = 5;
/// Fewest pairs a comparison runs: one pair says nothing about the noise between pairs.
pub const MIN_REPEAT: u32 = 2;
/// Most pairs a comparison runs (each pair runs every phase twice).
pub const MAX_REPEAT: u32 = 50;

/// A comparison's `repeat:` is [`MIN_REPEAT`] to [`MAX_REPEAT`] pairs.
pub fn check_repeat(repeat: u32) -> Result<u32, String> {
    if (MIN_REPEAT..=MAX_REPEAT).contains(&repeat) {
        Ok(repeat)
    } else {
        Err(format!(
            "`repeat` is {repeat}; a comparison runs {MIN_REPEAT} to {MAX_REPEAT} pairs (hint: {DEFAULT_REPEAT} unless told otherwise)"
        ))
    }
}

/// Most clients one swarm may start.
pub const MAX_CLIENTS: u32 = 5_000;
/// Longest swarm.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Most restarts per client.
pub const MAX_RESTARTS: u32 = 100;
/// Shortest `stall_after`: FFmpeg reports twice a second.
pub const MIN_STALL_AFTER: Duration = Duration::from_millis(500);
/// The media speed window unless told otherwise: long enough that a segment published or
/// fetched a second late moves it by a few percent only.
pub const DEFAULT_MEDIA_WINDOW: Duration = Duration::from_secs(30);
/// Shortest media speed window.
pub const MIN_MEDIA_WINDOW: Duration = Duration::from_secs(2);

/// A swarm's client count is 1 to [`MAX_CLIENTS`].
pub fn check_clients(clients: u32) -> Result<(), String> {
    if clients == 0 || clients > MAX_CLIENTS {
        return Err(format!(
            "`clients` is {clients}; it must be 1 to {MAX_CLIENTS}"
        ));
    }
    Ok(())
}

/// A swarm lasts above 0 and at most [`MAX_DURATION`].
pub fn check_swarm_duration(duration: Duration) -> Result<(), String> {
    if duration.is_zero() {
        return Err("a swarm lasts longer than 0s".to_owned());
    }
    if duration > MAX_DURATION {
        return Err("a swarm lasts at most 24h".to_owned());
    }
    Ok(())
}

/// A client restarts at most [`MAX_RESTARTS`] times.
pub fn check_restarts(max: u32) -> Result<(), String> {
    if max > MAX_RESTARTS {
        return Err(format!(
            "`max` is {max}; a client restarts at most {MAX_RESTARTS} times"
        ));
    }
    Ok(())
}

/// A duration named `key` is at least `min` (`stall_after`, `media_window`).
pub fn check_at_least(key: &str, value: Duration, min: Duration) -> Result<(), String> {
    if value < min {
        return Err(format!(
            "`{key}` must be at least {}",
            super::units::format_prom_duration(min)
        ));
    }
    Ok(())
}

/// How a client that stalled or exited is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts per client; the failure after the last one leaves it `failed`.
    pub max: u32,
    /// Back-off before the first restart; it doubles per restart, up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl RestartPolicy {
    /// The wait before restart number `done + 1`: `backoff_min · 2^done`, at most `backoff_max`.
    pub fn delay(&self, done: u32) -> Duration {
        self.backoff_min
            .saturating_mul(1u32 << done.min(31))
            .min(self.backoff_max)
    }
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            max: 3,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
        }
    }
}

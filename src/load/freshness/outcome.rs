//! What a `freshness` phase found, as its record keeps it.

use serde::{Deserialize, Serialize};

/// What a `freshness` phase found (kept in the phase's record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshnessOutcome {
    pub query: String,
    pub target: String,
    pub paths: String,
    /// Responses the load got from `target` for matching paths, over every `http` phase so far.
    pub expected: u64,
    /// The query's value at the last poll (`None`: no answer, or an empty result).
    pub observed: Option<f64>,
    /// From the end of the preceding `http` phase to the first poll that saw `expected`; `None`
    /// when the timeout ran out first.
    pub lag_seconds: Option<f64>,
    pub polls: u64,
    /// The last error Prometheus answered, if any poll failed.
    pub last_error: Option<String>,
}

//! `StatsError`: why a statistic could not be computed from its inputs. A verdict built on one
//! is inconclusive, never a pass or a fail.

use thiserror::Error;

/// Inputs a statistic refuses; each message names the input and, where there is one, the fix.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    #[error("too few samples: need at least {needed}, got {got} (hint: repeat the measurement)")]
    TooFewSamples { needed: usize, got: usize },
    #[error("a sample is not a finite number (NaN or infinite)")]
    NonFinite,
    #[error(
        "a base value is zero or negative, so a ratio to it is undefined \
         (hint: compare by difference)"
    )]
    NonPositiveBase,
    #[error("confidence {0} is not strictly between 0 and 1 (hint: 0.95 for 95 %)")]
    InvalidConfidence(f64),
    #[error("paired samples differ in length: base has {base}, candidate {candidate}")]
    LengthMismatch { base: usize, candidate: usize },
    /// A setting outside its range: a quantile outside [0, 1], zero resamples, a power outside
    /// (0, 1).
    #[error("{name} = {value} is out of range")]
    InvalidParameter { name: &'static str, value: f64 },
}

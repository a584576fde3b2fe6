//! The `freshness` phase: how long the load's requests take to become queryable. Right after an
//! `http` phase, perfgate polls the spec's query (the service's own count of those requests, as
//! it arrives through the pipeline) until it reaches the number of responses the load got, and
//! records the time from the end of that `http` phase as `perfgate_freshness_seconds{phase}`
//! (+Inf when the timeout ran out), then waits until Prometheus has scraped that gauge so a gate
//! evaluated at the end of the run sees it.

mod config;
mod engine;
mod error;
mod metrics;
mod outcome;

#[cfg(test)]
mod tests;

pub(crate) use config::FreshnessConfig;
pub(crate) use engine::run;
pub use error::FreshnessError;
pub use metrics::FreshnessMetrics;
pub use outcome::FreshnessOutcome;
// Reached only by unit tests and, through the `internals` feature, perfgate's own
// integration tests and benches.
#[cfg(any(test, feature = "internals"))]
pub use {engine::{POLL, poll_until_at_least}, config::expected_count};

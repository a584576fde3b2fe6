//! The HTTP load engine: open-model constant arrival rate (or closed loop) over hyper http1
//! keep-alive connections, measuring latency from each request's scheduled time.

mod build;
mod client;
mod config;
mod engine;
mod error;
mod metrics;
mod outcome;
mod token;

#[cfg(test)]
mod tests;

pub use build::unoptimised;
pub use config::HttpConfig;
pub use engine::run;
pub use error::HttpError;
pub use metrics::HttpMetrics;
pub use outcome::{
    HttpPhaseOutcome, HttpProgress,
};
#[cfg(any(test, feature = "internals"))]
pub use outcome::{ErrorCounts, LagSummary, LatencySummary, StatusClasses};

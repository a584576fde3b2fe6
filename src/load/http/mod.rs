//! The HTTP load engine: open-model constant arrival rate (or closed loop) over hyper http1
//! keep-alive connections, measuring latency from each request's scheduled time.

mod client;
mod config;
mod engine;
mod error;
mod metrics;
mod outcome;

#[cfg(test)]
mod tests;

pub use client::ErrorKind;
pub use config::HttpConfig;
pub use engine::run;
pub use error::HttpError;
pub use metrics::{HttpMetrics, LATENCY_BUCKETS};
pub use outcome::{
    ErrorCounts, HttpPhaseOutcome, HttpProgress, LagSummary, LatencySummary, StatusClasses,
};

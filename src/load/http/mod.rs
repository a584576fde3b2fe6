//! The HTTP load engine: open-model constant arrival rate (or closed loop) over hyper http1
//! keep-alive connections, measuring latency from each request's scheduled time.

mod client;
mod engine;
mod outcome;

#[cfg(test)]
mod tests;

pub use client::ErrorKind;
pub use engine::run;
pub use outcome::{
    ErrorCounts, HttpPhaseOutcome, HttpProgress, LagSummary, LatencySummary, StatusClasses,
};

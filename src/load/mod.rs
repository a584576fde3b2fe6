//! Load engines. Each engine lives in its own folder; the request engines share the arrival
//! `schedule`; all of them export client-side metrics through `EngineMetrics`.

mod error;
mod exporter;
pub mod freshness;
pub mod http;
mod outcome;
mod phase;
mod progress;
pub mod replicate;
mod schedule;
pub mod swarm;

pub use error::LoadError;
pub(crate) use exporter::openmetrics_response;
pub use exporter::{EngineMetrics, LATENCY_BUCKETS, serve_metrics};
pub use outcome::PhaseOutcome;
pub use phase::{EngineError, PhaseError};
pub(crate) use phase::{LoadHistory, PhaseRun, StackView, declare_series};
pub use progress::{EngineProgress, watching};
pub use schedule::{CLOSED_LOOP_MAX_RATE, Schedule};

//! Load engines. Each engine lives in its own folder; the request engines share the arrival
//! `schedule`; all of them export client-side metrics through `EngineMetrics`.

mod error;
mod exporter;
pub mod freshness;
pub mod http;
pub mod replicate;
mod schedule;
pub mod swarm;

pub use error::LoadError;
pub use exporter::{EngineMetrics, LATENCY_BUCKETS, serve_metrics};
pub use schedule::{CLOSED_LOOP_MAX_RATE, Schedule};

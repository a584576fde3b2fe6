//! Load engines, one folder each with the same files, behind one seam (`phase`: prepare, run,
//! progress, outcome). The request engines share the arrival `schedule`; all of them export
//! client-side metrics through `EngineMetrics`.

mod exporter;
pub mod freshness;
pub mod http;
mod labels;
mod outcome;
mod phase;
mod progress;
pub mod replicate;
mod schedule;
pub mod swarm;

pub use exporter::{EngineMetrics, serve_metrics};
pub use outcome::PhaseOutcome;
pub(crate) use phase::{LoadHistory, PhaseError, PhaseRun, StackView, declare_series};
pub use progress::EngineProgress;
pub(crate) use progress::watching;
pub use schedule::Schedule;

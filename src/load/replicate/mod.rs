//! The replication engine: discovers series in a Prometheus, multiplies them over replication
//! label combinations and remote-writes the copies (batched, rate-limited, or dry-run). The
//! remote-write client itself lives in `prom::remote_write`.

pub(crate) mod batcher;
mod config;
mod cut;
mod engine;
mod error;
mod generator;
mod labels;
mod limiter;
mod metrics;
mod outcome;
mod sender;
mod source;
mod staleness;
pub(crate) mod template;

#[cfg(test)]
mod tests;

pub use config::ReplicateConfig;
pub use engine::run;
pub use error::ReplicateError;
pub use labels::LabelSpace;
pub use metrics::ReplicateMetrics;
pub use outcome::{ReplicateOutcome, ReplicateProgress, progress_line};
pub use source::anchored;
#[cfg(any(test, feature = "internals"))]
pub use labels::copy_labels;

//! The swarm engine: N real FFmpeg HLS clients started on a ramp, each supervised (stall
//! detection, restart with bounded exponential back-off), their `-progress` and stderr parsed
//! into events, aggregated every ~200 ms and exported as `perfgate_swarm_*` series.

mod command;
mod config;
mod engine;
mod error;
mod events;
mod metrics;
mod outcome;
mod process;
mod progress;
mod stats;
mod stderr;
mod supervisor;

#[cfg(test)]
mod tests;

pub(crate) use config::find_ffmpeg;
pub use config::{RestartPolicy, SwarmConfig};
pub use engine::run;
pub use error::SwarmError;
pub use metrics::SwarmMetrics;
pub use outcome::{
    SpeedQuantiles, SwarmOutcome, SwarmProgress, progress_line, rate,
};
// Reached only by unit tests and, through the `internals` feature, perfgate's own
// integration tests and benches.
#[cfg(any(test, feature = "internals"))]
pub use {crate::spec::DEFAULT_MEDIA_WINDOW, command::ClientCommand, outcome::TtffSummary};

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

pub use command::ClientCommand;
pub(crate) use config::find_ffmpeg;
pub use config::{
    DEFAULT_MEDIA_WINDOW, MAX_CLIENTS, MAX_DURATION, MAX_RESTARTS, MIN_MEDIA_WINDOW,
    MIN_STALL_AFTER, RestartPolicy, SwarmConfig,
};
pub use engine::run;
pub use error::SwarmError;
pub use metrics::{SwarmMetrics, TTFF_BUCKETS};
pub use outcome::{
    SpeedQuantiles, StateCounts, SwarmOutcome, SwarmProgress, TtffSummary, progress_line, rate,
};
pub use supervisor::{ClientState, STATES};

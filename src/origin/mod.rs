//! The built-in HLS origin (spec kind `ffmpeg-origin`): FFmpeg encodes a test pattern or a
//! looped file into a rolling playlist on disk, and perfgate's own HTTP server serves it with
//! the right content types, optional injected faults, and Prometheus metrics per object type.
//! The process backend starts it as `PERFGATE_BUILTIN=ffmpeg-origin`; FFmpeg is the built-in's
//! own child in the same process group, so stopping the service stops the encoder.

mod config;
mod encoder;
mod faults;
mod metrics;
mod playlist;
mod server;

pub use config::OriginConfig;
#[cfg(test)]
pub(crate) use metrics::exposition;
pub use server::run;
#[cfg(any(test, feature = "internals"))]
pub use playlist::Playlist;

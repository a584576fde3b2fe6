//! Why a swarm could not start or run.

#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    #[error("invalid swarm: {0}")]
    Invalid(String),
    #[error(
        "refusing to send load to `{0}`: only loopback URLs are allowed (hint: pass --allow-external for an external origin)"
    )]
    NonLoopback(String),
    #[error(
        "cannot run ffmpeg `{path}`: {reason} (hint: install FFmpeg or point $PERFGATE_FFMPEG at one)"
    )]
    Ffmpeg { path: String, reason: String },
    #[error("the swarm engine failed: {0}")]
    Engine(String),
}

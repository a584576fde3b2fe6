//! Why an HTTP phase could not run.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "refusing to send load to `{0}`: only loopback targets are allowed \
         (hint: services run on 127.0.0.0/8 or ::1)"
    )]
    NonLoopbackTarget(SocketAddr),
    #[error("invalid http phase: {0}")]
    InvalidPhase(String),
    #[error("invalid request `{method} {path}`: {reason}")]
    InvalidRequest {
        method: &'static str,
        path: String,
        reason: String,
    },
    #[error("a load engine task failed: {0}")]
    Task(String),
}

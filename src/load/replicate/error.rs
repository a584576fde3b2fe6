//! Why a replication could not run or went on no further.

use crate::prom::PromError;
use crate::prom::remote_write::WriteError;

#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    #[error("reading the source {url}: {source}")]
    Source {
        url: String,
        #[source]
        source: PromError,
    },
    #[error(
        "refusing to read from `{0}`: only loopback sources are allowed (hint: use 127.0.0.1, ::1 or localhost)"
    )]
    NonLoopbackSource(String),
    #[error(transparent)]
    Target(#[from] WriteError),
    #[error("invalid replication: {0}")]
    Invalid(String),
}

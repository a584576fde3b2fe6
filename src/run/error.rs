//! Why a run broke, kept in the record as its `Failure` with the kind that picks the exit code.

use crate::load;
use crate::report::{Failure, FailureKind};
use crate::stack::StackError;

/// Why a run broke. The record keeps it as its `Failure`: the message, the kind that picks the
/// exit code, and this error itself as the cause.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("engine metrics endpoint: {0}")]
    EngineEndpoint(#[source] std::io::Error),
    #[error(transparent)]
    EngineAddress(std::io::Error),
    #[error("{0}")]
    TargetsDown(String),
    #[error(transparent)]
    Phase(#[from] load::PhaseError),
    #[error("{0}")]
    NotScraped(String),
    #[error("teardown: {0}")]
    Teardown(#[source] StackError),
    #[error("interrupted by {} after {phases} phase(s) had run; this report holds what was measured before it", signal_name(*.signal))]
    Interrupted { signal: i32, phases: usize },
}

/// `SIGINT` for exit code 130, as perfgate exits on each signal (128 + its number).
fn signal_name(code: i32) -> &'static str {
    match code {
        129 => "SIGHUP",
        143 => "SIGTERM",
        _ => "SIGINT",
    }
}

impl RunError {
    fn kind(&self) -> FailureKind {
        match self {
            Self::Stack(_) | Self::EngineEndpoint(_) | Self::EngineAddress(_) => {
                FailureKind::StackFailed
            }
            Self::TargetsDown(_) => FailureKind::StackFailed,
            Self::Phase(_) | Self::NotScraped(_) | Self::Teardown(_) => FailureKind::RunFailed,
            Self::Interrupted { .. } => FailureKind::Interrupted,
        }
    }
}

impl From<RunError> for Failure {
    fn from(error: RunError) -> Self {
        Failure::new(error.kind(), error)
    }
}

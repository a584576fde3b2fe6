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
}

impl RunError {
    fn kind(&self) -> FailureKind {
        match self {
            Self::Stack(_) | Self::EngineEndpoint(_) | Self::EngineAddress(_) => {
                FailureKind::StackFailed
            }
            Self::TargetsDown(_) => FailureKind::StackFailed,
            Self::Phase(_) | Self::NotScraped(_) | Self::Teardown(_) => FailureKind::RunFailed,
        }
    }
}

impl From<RunError> for Failure {
    fn from(error: RunError) -> Self {
        Failure::new(error.kind(), error)
    }
}

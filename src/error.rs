//! The process exit codes every entry point (CLI, harness) agrees on.

use std::process::ExitCode;

/// Distinct exit codes, documented in README.md and docs/spec.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every assertion ran and passed.
    Success = 0,
    /// At least one assertion failed.
    GateFailed = 1,
    /// Bad command-line usage (clap's own code).
    Usage = 2,
    /// A spec could not be read or is invalid.
    InvalidSpec = 3,
    /// The stack could not be started (missing tool, service died, not ready in time).
    StackFailed = 4,
    /// Nothing was evaluated: no assertion in the spec, or every one filtered out.
    NothingRan = 5,
    /// The run itself broke: a load engine or the Prometheus API failed.
    RunFailed = 6,
    /// No assertion failed, but at least one could not decide (INCONCLUSIVE): the measurement
    /// was too noisy or too short for the tolerance. Not a pass: rerun, or lengthen the phase.
    Inconclusive = 7,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

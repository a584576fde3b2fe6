//! What a run tells its observer while it goes: one event stream for every front end (the
//! CLI's bars, tests, benches).

use std::time::Duration;

use crate::load::EngineProgress;

/// What a run tells its observer while it goes.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    StackUp {
        services: usize,
        took: Duration,
    },
    TargetsUp {
        took: Duration,
    },
    PhaseStarted {
        name: String,
        duration: Duration,
    },
    PhaseTick {
        name: String,
        elapsed: Duration,
        /// The engine's own snapshot; `progress.line()` is what a progress bar shows.
        progress: Box<EngineProgress>,
    },
    PhaseEnded {
        name: String,
    },
    Evaluating,
}

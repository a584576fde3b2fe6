//! One progress stream from engines to front ends: every engine publishes snapshots of itself
//! on a `watch` channel; [`watching`] drives an engine to its end and hands each snapshot to an
//! observer (a CLI bar, the swarm's live view, a bench's measuring window, a run's
//! `PhaseTick`); [`EngineProgress`] is a snapshot of whichever engine runs.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use super::http::HttpProgress;
use super::replicate::{ReplicateProgress, progress_line as replicate_line};
use super::swarm::{SwarmProgress, progress_line as swarm_line};

/// A live snapshot of a running phase, by engine.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineProgress {
    Http(HttpProgress),
    Replicate(ReplicateProgress),
    Swarm(SwarmProgress),
}

impl EngineProgress {
    /// Time since the engine started.
    pub fn elapsed(&self) -> Duration {
        match self {
            Self::Http(p) => Duration::from_secs_f64(p.elapsed.max(0.0)),
            Self::Replicate(p) => Duration::from_millis(p.elapsed_ms),
            Self::Swarm(p) => Duration::from_secs_f64(p.elapsed.max(0.0)),
        }
    }

    /// The one line a progress bar shows.
    pub fn line(&self) -> String {
        match self {
            Self::Http(p) => format!(
                "sent {} ok {} errors {} dropped {} in flight {}",
                p.sent, p.ok, p.errors, p.dropped, p.in_flight
            ),
            Self::Replicate(p) => replicate_line(p),
            Self::Swarm(p) => swarm_line(p),
        }
    }
}

/// Drives `engine` to its end, handing each progress snapshot it publishes on `progress` to
/// `observe`. Once the engine drops its sender, the engine alone is awaited.
pub(crate) async fn watching<T, P>(
    engine: impl Future<Output = T>,
    mut progress: watch::Receiver<P>,
    mut observe: impl FnMut(&P),
) -> T {
    tokio::pin!(engine);
    let mut open = true;
    loop {
        tokio::select! {
            out = &mut engine => return out,
            changed = progress.changed(), if open => {
                open = changed.is_ok();
                if open {
                    observe(&progress.borrow_and_update());
                }
            }
        }
    }
}

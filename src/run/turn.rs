//! Runs that share one machine take turns at their load (`RunOptions::load_turns`): a run takes
//! its turn once its stack is up and every target scraped, and holds it until its stack is
//! down, so another run's bring-up and its wait for Prometheus's first discovery tick (about
//! 5 s) overlap this run's load, while no two loads, verdicts or teardowns share the cores. A
//! stack with a service that works while unloaded (an encoder) takes the turn before it comes
//! up.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::spec::Spec;

/// One run's turn: none yet, or held until dropped.
pub(super) struct LoadTurn {
    turns: Option<Arc<Semaphore>>,
    held: Option<OwnedSemaphorePermit>,
}

impl LoadTurn {
    pub(super) fn new(turns: Option<&Arc<Semaphore>>) -> Self {
        Self {
            turns: turns.cloned(),
            held: None,
        }
    }

    /// Waits for the turn, unless it is held already or there are no turns to take.
    pub(super) async fn take(&mut self) {
        if let (None, Some(turns)) = (&self.held, &self.turns) {
            // Never closed: a closed semaphore only means there is no one to wait for.
            self.held = Arc::clone(turns).acquire_owned().await.ok();
        }
    }

    /// Takes the turn before the stack comes up when a service of `spec` works unloaded.
    pub(super) async fn take_early(&mut self, spec: &Spec) {
        if spec
            .stack
            .services
            .values()
            .any(|s| s.kind.works_unloaded())
        {
            self.take().await;
        }
    }
}

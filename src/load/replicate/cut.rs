//! When a replication stops before it is done: at its deadline (the phase's `timeout`), or
//! early, once a sender gave the receiver up as down (it refused every connection for
//! `give_up_after`). Every wait of the pipeline ends at the first of the two, and what it cut
//! off is counted as dropped under the cut's reason (`deadline` or `receiver_down`).

use std::future::Future;
use std::time::Instant;

use tokio::sync::watch;

/// The samples a cut drops are counted under this reason once the receiver was given up.
pub(crate) const RECEIVER_DOWN: &str = "receiver_down";
/// ... and under this one when the deadline came first.
pub(crate) const DEADLINE: &str = "deadline";

pub(crate) struct Cut {
    deadline: Instant,
    receiver_down: watch::Sender<bool>,
}

impl Cut {
    pub(crate) fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            receiver_down: watch::Sender::new(false),
        }
    }

    /// Runs `work` to its end, or until the replication is cut (`None`).
    pub(crate) async fn before<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let mut down = self.receiver_down.subscribe();
        tokio::select! {
            biased;
            out = work => Some(out),
            _ = tokio::time::sleep_until(self.deadline.into()) => None,
            _ = down.wait_for(|d| *d) => None,
        }
    }

    /// Stops the replication: the receiver is down.
    pub(crate) fn give_up(&self) {
        self.receiver_down.send_replace(true);
    }

    pub(crate) fn given_up(&self) -> bool {
        *self.receiver_down.borrow()
    }

    /// The deadline passed or the receiver was given up.
    pub(crate) fn reached(&self) -> bool {
        self.given_up() || Instant::now() >= self.deadline
    }

    /// The reason samples cut off now are dropped for.
    pub(crate) fn reason(&self) -> &'static str {
        if self.given_up() {
            RECEIVER_DOWN
        } else {
            DEADLINE
        }
    }
}

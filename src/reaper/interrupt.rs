//! A signal that ends perfgate, told to the runs in flight so each can write what it measured
//! before the signal thread removes everything and exits: a run holds a `Finishing` guard while
//! it may still write its report and watches `interrupted()`; the signal thread waits for every
//! guard to drop (at most `GRACE`, or until a second signal) before it kills what is left.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How long the runs in flight get to write their reports after a signal.
pub const GRACE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);

/// The signal that ended perfgate, as its exit code (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
static SIGNALLED: LazyLock<watch::Sender<Option<i32>>> = LazyLock::new(|| watch::channel(None).0);
static FINISHING: AtomicUsize = AtomicUsize::new(0);

/// Held by a run from its start until its report is written; see the module doc.
#[must_use = "the run counts as finished once this is dropped"]
pub struct Finishing(());

impl Drop for Finishing {
    fn drop(&mut self) {
        FINISHING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts the caller as a run that writes a report before perfgate may exit on a signal.
pub fn finishing() -> Finishing {
    FINISHING.fetch_add(1, Ordering::SeqCst);
    Finishing(())
}

/// Resolves with the exit code of the signal that ends perfgate, once one came.
pub async fn interrupted() -> i32 {
    let mut rx = SIGNALLED.subscribe();
    match rx.wait_for(Option::is_some).await {
        Ok(code) => code.unwrap_or(130),
        // The sender is a static: never dropped.
        Err(_) => std::future::pending().await,
    }
}

/// Ends this thread's part once a signal came: the signal thread exits perfgate with the
/// signal's code once every run wrote its report; should it not within twice `GRACE`, this
/// exits with that code itself.
pub fn exit_as_signalled() -> ! {
    let deadline = Instant::now() + GRACE * 2;
    while Instant::now() < deadline {
        std::thread::sleep(POLL);
    }
    std::process::exit(SIGNALLED.borrow().unwrap_or(130))
}

/// Tells the runs in flight that `code`'s signal came, then waits until none is left writing,
/// `GRACE` has passed, or `again` (a second signal) resolves.
pub(super) async fn let_runs_finish(code: i32, again: impl std::future::Future<Output = ()>) {
    SIGNALLED.send_replace(Some(code));
    let deadline = Instant::now() + GRACE;
    let drained = async {
        while FINISHING.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
    };
    tokio::select! {
        () = drained => {}
        () = again => {}
    }
}

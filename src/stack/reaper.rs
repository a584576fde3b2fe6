//! The registry of live child process groups, and the signal handler that kills them.
//!
//! `Drop` guards cover panics and normal returns; this covers Ctrl-C and SIGTERM, which would
//! otherwise end perfgate without unwinding.

use std::collections::BTreeSet;
use std::sync::{Mutex, Once};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
static HANDLER: Once = Once::new();

pub(crate) fn register(pgid: Pid) {
    live().insert(pgid.as_raw());
}

pub(crate) fn unregister(pgid: Pid) {
    live().remove(&pgid.as_raw());
}

/// Process groups perfgate started that are still running.
pub fn live_groups() -> Vec<u32> {
    live().iter().map(|&p| p as u32).collect()
}

/// Kills every registered group at once (SIGKILL: we are about to exit).
pub fn kill_all() {
    for pgid in std::mem::take(&mut *live()) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}

/// Installs (once per process) a thread that waits for SIGINT/SIGTERM/SIGHUP, kills every live
/// group and exits with 128 + signal, as a shell would report.
pub fn install_signal_handler() {
    HANDLER.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("perfgate-signals".into())
            .spawn(|| {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    use tokio::signal::unix::{SignalKind, signal};
                    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
                        signal(SignalKind::interrupt()),
                        signal(SignalKind::terminate()),
                        signal(SignalKind::hangup()),
                    ) else {
                        return;
                    };
                    let code = tokio::select! {
                        _ = int.recv() => 130,
                        _ = term.recv() => 143,
                        _ = hup.recv() => 129,
                    };
                    eprintln!("perfgate: interrupted; stopping every service");
                    kill_all();
                    std::process::exit(code);
                });
            });
        if let Err(err) = spawned {
            tracing::warn!("no signal handler: {err}");
        }
    });
}

fn live() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

//! The registry of live child process groups, and the signal handler that kills them.
//!
//! `Drop` guards cover panics and normal returns; this covers Ctrl-C and SIGTERM, which would
//! otherwise end perfgate without unwinding.

use std::collections::BTreeSet;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use std::sync::{Mutex, Once};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Live process groups, containers and networks, and whether perfgate is shutting down (then
/// nothing new may start).
struct Registry {
    groups: BTreeSet<i32>,
    containers: BTreeSet<String>,
    networks: BTreeSet<String>,
    closed: bool,
}

static LIVE: Mutex<Registry> = Mutex::new(Registry {
    groups: BTreeSet::new(),
    containers: BTreeSet::new(),
    networks: BTreeSet::new(),
    closed: false,
});
/// How long `kill_all` waits for `docker rm -f` of the run's containers and networks.
const REMOVE_WITHIN: Duration = Duration::from_secs(15);
static HANDLER: Once = Once::new();
/// How long `kill_all` waits for killed leaders to be gone.
const REAP_WITHIN: Duration = Duration::from_secs(2);

/// Spawns a child leading its own process group and registers the group in one step, under
/// the registry's lock, so a signal arriving in between cannot miss it; refuses once
/// `kill_all` has run.
pub(crate) fn spawn_registered(command: &mut Command) -> std::io::Result<Child> {
    register_spawn(|| command.spawn(), |child| Some(child.id()))
}

/// `spawn_registered` for any process handle (a `tokio::process::Child` too): `spawn` must start
/// a process that leads its own group, `pid` names it.
pub(crate) fn register_spawn<C>(
    spawn: impl FnOnce() -> std::io::Result<C>,
    pid: impl FnOnce(&C) -> Option<u32>,
) -> std::io::Result<C> {
    let mut live = live();
    if live.closed {
        return Err(std::io::Error::other("perfgate is shutting down"));
    }
    let child = spawn()?;
    if let Some(id) = pid(&child) {
        live.groups.insert(id as i32);
    }
    Ok(child)
}

pub(crate) fn unregister(pgid: Pid) {
    live().groups.remove(&pgid.as_raw());
}

/// SIGKILLs whatever is left of group `pgid` and forgets it: the end of every child's life, once
/// its leader has been waited for (or will never be).
pub(crate) fn kill_group(pgid: Pid) {
    let _ = killpg(pgid, Signal::SIGKILL);
    unregister(pgid);
}

/// A container (by id) or a network (by name) for `kill_all` to remove; refused once it ran.
pub(crate) fn register_docker(
    container: Option<&str>,
    network: Option<&str>,
) -> std::io::Result<()> {
    let mut live = live();
    if live.closed {
        return Err(std::io::Error::other("perfgate is shutting down"));
    }
    live.containers.extend(container.map(str::to_owned));
    live.networks.extend(network.map(str::to_owned));
    Ok(())
}

pub(crate) fn unregister_docker(container: Option<&str>, network: Option<&str>) {
    let mut live = live();
    if let Some(id) = container {
        live.containers.remove(id);
    }
    if let Some(name) = network {
        live.networks.remove(name);
    }
}

/// Process groups perfgate started that are still running.
#[cfg(any(test, feature = "internals"))]
pub fn live_groups() -> Vec<u32> {
    live().groups.iter().map(|&p| p as u32).collect()
}

/// Kills every registered group at once (SIGKILL: we are about to exit), refuses every later
/// spawn, and reaps the group leaders (bounded wait), so none is still running when perfgate
/// exits: SIGKILL takes effect asynchronously, a process mid-exec can run on for a moment.
pub fn kill_all() {
    let mut live = live();
    live.closed = true;
    let groups = std::mem::take(&mut live.groups);
    let containers = std::mem::take(&mut live.containers);
    let networks = std::mem::take(&mut live.networks);
    for &pgid in &groups {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    let deadline = Instant::now() + REAP_WITHIN;
    for pgid in groups {
        while Instant::now() < deadline {
            match waitpid(Pid::from_raw(pgid), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(5)),
                // Reaped now, or already reaped elsewhere (ECHILD).
                _ => break,
            }
        }
    }
    remove_docker(&["rm", "--force", "--volumes"], containers);
    remove_docker(&["network", "rm"], networks);
}

/// `docker ARGS NAMES…`, waited for at most `REMOVE_WITHIN`.
fn remove_docker(args: &[&str], names: BTreeSet<String>) {
    if names.is_empty() {
        return;
    }
    let Ok(mut child) = Command::new("docker")
        .args(args)
        .args(&names)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return;
    };
    let deadline = Instant::now() + REMOVE_WITHIN;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
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

fn live() -> std::sync::MutexGuard<'static, Registry> {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

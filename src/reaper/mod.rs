//! The registry of live child process groups, containers and networks; the signal handler
//! that removes them; the keeper that removes them when perfgate itself is killed (`keeper`);
//! the sweep of what dead runs left (`sweep`).
//!
//! `Drop` guards cover panics and normal returns; the signal thread covers Ctrl-C and SIGTERM,
//! which would otherwise end perfgate without unwinding; the keeper covers SIGKILL, which no
//! code of perfgate's own process outlives.

mod held;
mod interrupt;
mod keeper;
mod sweep;

pub(crate) use held::{Owner, process_group};
pub use interrupt::{exit_as_signalled, finishing, interrupted};
pub use keeper::keep_from_env;
pub use sweep::sweep;

use std::collections::BTreeSet;
use std::path::PathBuf;
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
    keeper: Keeper,
}

/// The keeper of this process: none asked for yet, the executable to start one from when
/// something is first registered, started, or failed to start (said once).
#[derive(Debug)]
enum Keeper {
    None,
    From(PathBuf),
    Running(keeper::Link),
    Failed,
}

impl Registry {
    /// Sends `line` to the keeper, starting it first if an executable was given.
    fn tell(&mut self, line: impl FnOnce(&mut keeper::Link)) {
        if let Keeper::From(exe) = &self.keeper {
            self.keeper = match keeper::Link::spawn(exe) {
                Ok(link) => Keeper::Running(link),
                Err(err) => {
                    tracing::warn!("no keeper (services would outlive a SIGKILL): {err}");
                    Keeper::Failed
                }
            };
        }
        if let Keeper::Running(link) = &mut self.keeper {
            line(link);
        }
    }
}

static LIVE: Mutex<Registry> = Mutex::new(Registry {
    groups: BTreeSet::new(),
    containers: BTreeSet::new(),
    networks: BTreeSet::new(),
    closed: false,
    keeper: Keeper::None,
});
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
        live.tell(|k| k.tell_group(id as i32));
    }
    Ok(child)
}

/// Has a keeper started from `exe` (perfgate, or a binary whose `main` calls
/// `stack::dispatch_from_env` first) when something is first registered, so nothing
/// registered outlives a SIGKILL of this process. The first executable given is kept.
pub(crate) fn keep_with(exe: PathBuf) {
    let mut live = live();
    if matches!(live.keeper, Keeper::None) {
        live.keeper = Keeper::From(exe);
    }
}

/// The docker labels of everything this process creates: its owner (`PID:START`) and host, so
/// its keeper and later sweeps find it.
pub(crate) fn docker_labels() -> Vec<(&'static str, String)> {
    let owner = held::Owner::me().map(|o| o.to_string()).unwrap_or_default();
    vec![(held::OWNER_LABEL, owner), (held::HOST_LABEL, held::host_name())]
}

pub(crate) fn unregister(pgid: Pid) {
    let mut live = live();
    live.groups.remove(&pgid.as_raw());
    live.tell(|k| k.tell(&format!("-g {pgid}")));
}

/// SIGKILLs whatever is left of group `pgid` and forgets it: the end of every child's life, once
/// its leader has been waited for (or will never be).
pub(crate) fn kill_group(pgid: Pid) {
    let _ = killpg(pgid, Signal::SIGKILL);
    unregister(pgid);
}

/// A container or a network (by name, before it is created) for `kill_all` and the keeper to
/// remove; refused once `kill_all` ran, so nothing new is created then.
pub(crate) fn register_docker(
    container: Option<&str>,
    network: Option<&str>,
) -> std::io::Result<()> {
    let mut live = live();
    if live.closed {
        return Err(std::io::Error::other("perfgate is shutting down"));
    }
    live.tell(|k| k.tell("d"));
    for (sign, name) in [("+c", container), ("+n", network)] {
        if let Some(name) = name {
            live.tell(|k| k.tell(&format!("{sign} {name}")));
        }
    }
    live.containers.extend(container.map(str::to_owned));
    live.networks.extend(network.map(str::to_owned));
    Ok(())
}

pub(crate) fn unregister_docker(container: Option<&str>, network: Option<&str>) {
    let mut live = live();
    if let Some(name) = container {
        live.containers.remove(name);
        live.tell(|k| k.tell(&format!("-c {name}")));
    }
    if let Some(name) = network {
        live.networks.remove(name);
        live.tell(|k| k.tell(&format!("-n {name}")));
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
/// Then removes the containers and networks, and lets the keeper finish (it removes what
/// carries this process's label, such as a container still being created).
pub fn kill_all() {
    let mut live = live();
    live.closed = true;
    let groups = std::mem::take(&mut live.groups);
    let containers = std::mem::take(&mut live.containers);
    let networks = std::mem::take(&mut live.networks);
    let keeper = std::mem::replace(&mut live.keeper, Keeper::Failed);
    for &pgid in &groups {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    let deadline = Instant::now() + REAP_WITHIN;
    for &pgid in &groups {
        while Instant::now() < deadline {
            match waitpid(Pid::from_raw(pgid), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(5)),
                // Reaped now, or already reaped elsewhere (ECHILD).
                _ => break,
            }
        }
    }
    held::remove_all(&containers, &networks);
    if let Keeper::Running(mut link) = keeper {
        // Handled: the keeper need only look for what carries this process's label.
        for pgid in &groups {
            link.tell(&format!("-g {pgid}"));
        }
        for (sign, names) in [("-c", &containers), ("-n", &networks)] {
            for name in names {
                link.tell(&format!("{sign} {name}"));
            }
        }
        link.finish();
    }
}

/// Installs (once per process) a thread that waits for SIGINT/SIGTERM/SIGHUP, lets the runs in
/// flight write their reports (`interrupt`: at most `GRACE`, a second signal cuts it short),
/// kills every live group and exits with 128 + signal, as a shell would report.
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
                    eprintln!("perfgate: interrupted; writing what was measured, then stopping every service (again to stop at once)");
                    let again = async {
                        tokio::select! {
                            _ = int.recv() => {}
                            _ = term.recv() => {}
                            _ = hup.recv() => {}
                        }
                    };
                    interrupt::let_runs_finish(code, again).await;
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

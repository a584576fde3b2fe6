//! Launching a planned service on a backend, and what runs it afterwards: a `Handle` (a
//! process, or a container with the child following its output) from a `Launcher` (local
//! processes, or containers in a pod).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::child::ChildProcess;
use super::docker::{ContainerGuard, Pod};
use super::error::StackError;
use super::plan::{Planned, Program};
use super::process;
use super::ready::{Readiness, wait_ready};

/// A process service's readiness port, once it answered, is held by the service's own process
/// group `group` (or by nothing this user can see): not by a program that took the port in the
/// moment between its release and the service's bind.
fn own_listener(planned: &Planned, group: u32) -> Result<(), StackError> {
    let (Readiness::Http { addr, .. } | Readiness::Tcp(addr)) = &planned.ready else {
        return Ok(());
    };
    let listeners = super::ports::listeners_of(addr.port());
    match listeners.first() {
        Some(other) if listeners.iter().all(|l| l.group != Some(group)) => {
            Err(StackError::AnsweredByAnother {
                service: planned.name.clone(),
                port: addr.port(),
                holder: other.to_string(),
                group,
            })
        }
        _ => Ok(()),
    }
}

/// What runs a service.
#[derive(Debug)]
pub(crate) enum Handle {
    /// A child process leading its own process group.
    Process(ChildProcess),
    /// A container, and the `docker logs --follow` child that gives its log, log readiness and
    /// "it died" as for a process (dropped first, then the container is removed).
    Container {
        logs: ChildProcess,
        container: Box<ContainerGuard>,
    },
}

impl Handle {
    /// The process, or the follower of the container's output.
    pub(crate) fn output(&self) -> &ChildProcess {
        match self {
            Handle::Process(child) | Handle::Container { logs: child, .. } => child,
        }
    }

    pub(crate) fn output_mut(&mut self) -> &mut ChildProcess {
        match self {
            Handle::Process(child) | Handle::Container { logs: child, .. } => child,
        }
    }

    /// How it ended, given its child's exit status: the process's own; the follower's says
    /// nothing, the container's does.
    pub(crate) fn describe_exit(&self, status: String) -> String {
        match self {
            Handle::Process(_) => status,
            Handle::Container { container, .. } => container.exit_description(),
        }
    }

    /// Removes the container (if any), then stops the child; the first failure is returned.
    pub(crate) async fn stop(self, name: &str) -> Result<(), StackError> {
        let (mut child, container) = match self {
            Handle::Process(child) => (child, None),
            Handle::Container { logs, container } => (logs, Some(container)),
        };
        let mut first_error = None;
        if let Some(container) = container.map(|c| *c)
            && let Err(message) = container.remove().await
        {
            first_error = Some(StackError::Docker {
                service: name.to_owned(),
                message,
            });
        }
        let stopped = tokio::task::spawn_blocking(move || child.stop())
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
        if let Err(source) = stopped {
            first_error.get_or_insert(StackError::Spawn {
                service: name.to_owned(),
                source,
            });
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Where a stack's services run: local processes, or containers sharing a pod's network.
#[derive(Debug)]
pub(crate) enum Launcher {
    /// `host`: the executable hosting built-ins (default: this one).
    Process {
        host: Option<PathBuf>,
    },
    Docker(Box<Pod>),
}

impl Launcher {
    /// Starts a planned service and waits until its readiness check passes: its handle, and
    /// how long it took to become ready once its process (or container) ran.
    pub(crate) async fn launch(
        &self,
        planned: &Planned,
        run_dir: &Path,
    ) -> Result<(Handle, Duration), StackError> {
        let io = |source| StackError::Spawn {
            service: planned.name.clone(),
            source,
        };
        let (command, container) = match self {
            Launcher::Process { host } => (
                process::command(planned, host.as_deref()).map_err(io)?,
                None,
            ),
            Launcher::Docker(pod) => {
                let (container, follow) = pod.start_container(planned, run_dir).await?;
                (follow, Some(container))
            }
        };
        let started = Instant::now();
        let child = spawn(planned, command, run_dir)?;
        let mut handle = match container {
            Some(container) => Handle::Container {
                logs: child,
                container: Box::new(container),
            },
            None => Handle::Process(child),
        };
        wait_ready(
            &planned.name,
            handle.output_mut(),
            &planned.ready,
            planned.timeout,
        )
        .await
        .map_err(|e| match e {
            StackError::Died {
                service,
                status,
                log,
                tail,
            } => StackError::Died {
                service,
                status: handle.describe_exit(status),
                log,
                tail,
            },
            e => e,
        })?;
        if let Handle::Process(child) = &handle {
            own_listener(planned, child.pid())?;
        }
        let ready_after = started.elapsed();
        tracing::info!(service = %planned.name, kind = planned.kind, ?ready_after, "ready");
        Ok((handle, ready_after))
    }

    /// Removes what the backend holds beyond its services (the pod and the run's network).
    pub(crate) async fn remove(self) -> Result<(), StackError> {
        match self {
            Launcher::Process { .. } => Ok(()),
            Launcher::Docker(pod) => pod.remove().await,
        }
    }
}

/// Spawns the process (or the follower of the container's output), logging into the run folder.
fn spawn(planned: &Planned, command: Command, run_dir: &Path) -> Result<ChildProcess, StackError> {
    let watch = match &planned.ready {
        Readiness::Log(text) => vec![text.clone()],
        _ => Vec::new(),
    };
    let log = run_dir.join(format!("{}.log", planned.name));
    let program = command.get_program().to_owned();
    ChildProcess::spawn(&planned.name, command, &log, watch).map_err(|source| {
        match (&planned.program, source.kind()) {
            (Program::External(_), std::io::ErrorKind::NotFound) => StackError::ProgramNotFound {
                service: planned.name.clone(),
                program: program.to_string_lossy().into_owned(),
            },
            _ => StackError::Spawn {
                service: planned.name.clone(),
                source,
            },
        }
    })
}

//! `start`: a spec's stack planned (`plan`), then each service launched by the chosen backend
//! (`process` or `docker`) and waited for until ready, in start order.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::backend::{Backend, BackendDecision};
use super::child::ChildProcess;
use super::choose::choose_backend;
use super::docker::{Pod, published_ports};
use super::error::StackError;
use super::plan::prometheus::ScrapeTarget;
use super::plan::{Planned, plan};
use super::process;
use super::ready::{Readiness, wait_ready};
use super::running::{Handle, RunningService, RunningStack};

/// What the caller adds to a stack.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Where configs, data and logs go (one folder per run).
    pub run_dir: PathBuf,
    /// Extra scrape targets, e.g. the load engines' own metrics endpoint.
    pub extra_targets: Vec<ScrapeTarget>,
    /// The executable hosting built-in services (default: `host_executable()`).
    pub host_executable: Option<PathBuf>,
    /// The backend, when the caller has chosen it already (`None`: chosen by `start`).
    pub backend: Option<BackendDecision>,
}

/// Where a stack's services run: local processes, or containers sharing a pod's network.
#[derive(Debug)]
pub(crate) enum Launcher {
    /// `host`: the executable hosting built-ins (default: this one).
    Process {
        host: Option<PathBuf>,
    },
    Docker(Pod),
}

impl Launcher {
    /// Starts a planned service; ready once its readiness check passes.
    async fn launch(&self, planned: Planned, run_dir: &Path) -> Result<RunningService, StackError> {
        let io = |source| StackError::Spawn {
            service: planned.name.clone(),
            source,
        };
        let (command, container) = match self {
            Launcher::Process { host } => (
                process::command(&planned, host.as_deref()).map_err(io)?,
                None,
            ),
            Launcher::Docker(pod) => {
                let (container, follow) = pod.start_container(&planned, run_dir).await?;
                (follow, Some(container))
            }
        };
        let started = Instant::now();
        let child = spawn(&planned, command, run_dir)?;
        let mut handle = match container {
            Some(container) => Handle::Container {
                logs: child,
                container,
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
        tracing::info!(service = %planned.name, kind = planned.kind, ready_after = ?started.elapsed(), "ready");
        Ok(RunningService {
            tool: planned.tool().cloned(),
            name: planned.name,
            kind: planned.kind,
            ports: planned.ports,
            ready_after: started.elapsed(),
            handle,
        })
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
    ChildProcess::spawn(&planned.name, command, &log, watch).map_err(|source| StackError::Spawn {
        service: planned.name.clone(),
        source,
    })
}

/// Starts every service of `spec` (planned first: tools resolved, ports allocated, configs
/// written), application services in dependency order, then every Prometheus, which needs to
/// know all of their addresses.
pub async fn start(
    spec: &crate::spec::Spec,
    opts: &StackOptions,
) -> Result<RunningStack, StackError> {
    let backend = match &opts.backend {
        Some(chosen) => chosen.backend,
        None => choose_backend(spec)?.backend,
    };
    let began = Instant::now();
    // Absolute, so that generated configs name the same files inside a container.
    let run_dir = &std::path::absolute(&opts.run_dir).unwrap_or_else(|_| opts.run_dir.clone());
    let plan = plan(spec, &opts.extra_targets, run_dir, backend)?;
    let host = opts.host_executable.clone();
    // Declared before the stack: on an early return its services go first, then the pod.
    let launcher = match backend {
        Backend::Process => Launcher::Process { host },
        Backend::Docker => {
            let ports = published_ports(&plan.services);
            Launcher::Docker(Pod::start(ports, host.as_deref()).await?)
        }
    };
    let mut stack = RunningStack {
        services: Vec::new(),
        launcher: None,
        scrape_interval: plan.scrape_interval,
        prometheus: plan.prometheus,
        scrape_targets: plan.scrape_targets,
        bring_up: Duration::ZERO,
    };
    for planned in plan.services {
        let service = launcher.launch(planned, run_dir).await?;
        stack.services.push(service);
    }
    stack.launcher = Some(launcher);
    stack.bring_up = began.elapsed();
    Ok(stack)
}

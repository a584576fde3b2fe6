//! `start`: a spec's stack planned (`plan`), then each service launched by the chosen backend
//! (`process` or `docker`) and waited for until ready, in start order.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::backend::{Backend, BackendDecision};
use super::builtin;
use super::choose::choose_backend;
use super::docker::{Pod, published_ports};
use super::error::StackError;
use super::launch::Launcher;
use super::plan::plan;
use super::plan::prometheus::ScrapeTarget;
use super::running::{RunningService, RunningStack};

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
    let mut plan = plan(spec, &opts.extra_targets, run_dir, backend)?;
    let host = opts.host_executable.clone();
    keep_and_sweep(host.as_deref(), backend).await;
    let mut reserved = std::mem::take(&mut plan.reserved);
    // Declared before the stack: on an early return its services go first, then the pod.
    let launcher = match backend {
        Backend::Process => Launcher::Process { host },
        Backend::Docker => {
            // The pod publishes every port at once.
            drop(std::mem::take(&mut reserved));
            let ports = published_ports(&plan.services);
            Launcher::Docker(Box::new(Pod::start(ports, host.as_deref()).await?))
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
        // Held until this service binds them: a run coming up beside this one cannot get them.
        let ports: Vec<u16> = planned.ports.values().map(|a| a.port()).collect();
        reserved.release(&ports);
        let (handle, ready_after) = launcher.launch(&planned, run_dir).await?;
        stack.services.push(RunningService {
            tool: planned.tool().cloned(),
            name: planned.name,
            kind: planned.kind,
            ports: planned.ports,
            ready_after,
            handle,
        });
    }
    stack.launcher = Some(launcher);
    stack.bring_up = began.elapsed();
    Ok(stack)
}

/// A keeper for what this stack starts, from the executable hosting built-ins (which runs
/// keepers too), after a sweep of what dead runs left (their containers too on docker).
async fn keep_and_sweep(host: Option<&Path>, backend: Backend) {
    if let Some(exe) = host
        .map(Path::to_path_buf)
        .or_else(|| builtin::host_executable().ok())
    {
        crate::reaper::keep_with(exe);
    }
    let docker = matches!(backend, Backend::Docker);
    match tokio::task::spawn_blocking(move || crate::reaper::sweep(docker)).await {
        Ok(swept) if !swept.is_empty() => tracing::warn!("{swept}"),
        _ => {}
    }
}

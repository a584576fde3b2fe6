//! The process backend: every service is a local child process on loopback ports perfgate
//! allocates; built-in services are perfgate's own executable (see `builtin`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::backend::{Backend, BackendDecision, ToolNeed, choose_backend, resolve_tool};
use super::child::ChildProcess;
use super::docker_backend::{self, ContainerGuard, Pod};
use super::error::StackError;
use super::otel::{self, Receivers};
use super::ports::{free_port, loopback};
use super::prometheus::{self, ScrapeTarget};
use super::ready::{Readiness, wait_ready};
use super::tools::ResolvedTool;
use crate::demo_api::{DemoApiConfig, OtlpExport};
use crate::spec::placeholders;
use crate::spec::{OtlpExportMode, ProcessService, ReadyCheck, ServiceKind, Spec};

const BUILTIN_STARTUP: Duration = Duration::from_secs(15);
const PROMETHEUS_STARTUP: Duration = Duration::from_secs(30);

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

/// A started service. Dropping it stops it.
#[derive(Debug)]
pub struct RunningService {
    pub name: String,
    pub kind: &'static str,
    pub ports: BTreeMap<String, SocketAddr>,
    pub tool: Option<ResolvedTool>,
    /// The process, or under the docker backend the `docker logs --follow` of its container.
    pub child: ChildProcess,
    pub ready_after: Duration,
    /// Under the docker backend: the container (removed on drop, after `child`).
    pub(crate) container: Option<ContainerGuard>,
}

/// What the report keeps of a service.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ServiceRecord {
    pub name: String,
    pub kind: String,
    pub ports: BTreeMap<String, SocketAddr>,
    pub pid: u32,
    pub tool: Option<String>,
    pub log: PathBuf,
    pub ready_after_ms: u64,
}

/// Every service of a spec, running. Services stop in reverse start order on `shutdown` or drop.
#[derive(Debug)]
pub struct RunningStack {
    services: Vec<RunningService>,
    /// Under the docker backend: the container holding the run's network namespace.
    pod: Option<Pod>,
    scrape_interval: Duration,
    prometheus: Option<SocketAddr>,
    /// How many targets Prometheus was configured to scrape (0 without Prometheus).
    scrape_targets: usize,
    pub bring_up: Duration,
}

impl RunningStack {
    /// The HTTP address of a service (its `http` port, or its only port).
    pub fn http_endpoint(&self, service: &str) -> Option<SocketAddr> {
        let s = self.services.iter().find(|s| s.name == service)?;
        http_port(&s.ports)
    }

    /// The gating Prometheus (the one assertions query), when the stack has one.
    pub fn prometheus(&self) -> Option<SocketAddr> {
        self.prometheus
    }

    pub fn scrape_interval(&self) -> Duration {
        self.scrape_interval
    }

    pub fn scrape_targets(&self) -> usize {
        self.scrape_targets
    }

    pub fn services(&self) -> &[RunningService] {
        &self.services
    }

    /// `text` with every `{{SERVICE}}` replaced by that service's base URL,
    /// `http://127.0.0.1:PORT` (its `http` port, or its only one): a swarm's
    /// `{{origin}}/live.m3u8`. The spec validator checks the names; an unknown one is an error.
    pub fn expand_urls(&self, text: &str) -> Result<String, String> {
        let out = crate::spec::placeholders::expand(text, |inner| {
            let service = self.services.iter().find(|s| s.name == inner)?;
            http_port(&service.ports).map(|addr| format!("http://{addr}"))
        });
        match (out.find("{{"), out.find("}}")) {
            (Some(start), Some(end)) if end > start => Err(format!(
                "`{}` in `{text}` names no running service with an HTTP port",
                &out[start..end + 2]
            )),
            _ => Ok(out),
        }
    }

    /// Process ids of every service (each is also its process group id).
    pub fn pids(&self) -> Vec<u32> {
        self.services.iter().map(|s| s.child.pid()).collect()
    }

    pub fn records(&self) -> Vec<ServiceRecord> {
        self.services
            .iter()
            .map(|s| ServiceRecord {
                name: s.name.clone(),
                kind: s.kind.into(),
                ports: s.ports.clone(),
                pid: s.child.pid(),
                tool: s
                    .tool
                    .as_ref()
                    .map(|t| format!("{} {} ({})", t.name, t.version, t.location())),
                log: s.child.log_path().to_owned(),
                ready_after_ms: s.ready_after.as_millis() as u64,
            })
            .collect()
    }

    /// An error naming the first service that has exited, with its log tail.
    pub fn check_alive(&mut self) -> Result<(), StackError> {
        for s in &mut self.services {
            if let Some(status) = s.child.exited() {
                let status = match &s.container {
                    Some(c) => c.exit_description(),
                    None => status.to_string(),
                };
                return Err(StackError::DiedDuringRun {
                    service: s.name.clone(),
                    kind: s.kind,
                    status,
                    log: s.child.log_path().to_owned(),
                    tail: super::error::indent_tail(&s.child.tail(30)),
                });
            }
        }
        Ok(())
    }

    /// Stops every service, last started first, reporting the first failure.
    pub async fn shutdown(mut self) -> Result<(), StackError> {
        let mut first_error = None;
        while let Some(mut s) = self.services.pop() {
            let name = s.name.clone();
            if let Some(container) = s.container.take()
                && let Err(message) = container.remove().await
            {
                first_error.get_or_insert(StackError::Docker {
                    service: name.clone(),
                    message,
                });
            }
            let stopped = tokio::task::spawn_blocking(move || s.child.stop())
                .await
                .map_err(std::io::Error::other)
                .and_then(|r| r);
            if let Err(source) = stopped {
                first_error.get_or_insert(StackError::Spawn {
                    service: name,
                    source,
                });
            }
        }
        if let Some(pod) = self.pod.take()
            && let Err(e) = pod.remove().await
        {
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        while let Some(s) = self.services.pop() {
            drop(s);
        }
        self.pod.take();
    }
}

fn http_port(ports: &BTreeMap<String, SocketAddr>) -> Option<SocketAddr> {
    ports.get("http").copied().or_else(|| {
        (ports.len() == 1)
            .then(|| ports.values().next().copied())
            .flatten()
    })
}

/// One service, planned: ports allocated, command built, not started yet.
pub(super) struct Planned {
    pub(super) name: String,
    pub(super) kind: &'static str,
    pub(super) ports: BTreeMap<String, SocketAddr>,
    pub(super) command: Command,
    pub(super) ready: Readiness,
    pub(super) timeout: Duration,
    pub(super) tool: Option<ResolvedTool>,
}

/// Start order: OTLP receivers before the services that send to them.
const RANK_ADAPTER: u8 = 0;
const RANK_COLLECTOR: u8 = 1;
const RANK_APP: u8 = 2;

/// Starts every service of `spec` (planned first: tools resolved, ports allocated, configs
/// written), application services in dependency order, then every Prometheus, which needs to
/// know all of their addresses.
pub async fn start(spec: &Spec, opts: &StackOptions) -> Result<RunningStack, StackError> {
    let backend = match &opts.backend {
        Some(chosen) => chosen.backend,
        None => choose_backend(spec)?.backend,
    };
    let docker = backend == Backend::Docker;
    let began = Instant::now();
    // Absolute, so that generated configs name the same files inside a container.
    let run_dir = &std::path::absolute(&opts.run_dir).unwrap_or_else(|_| opts.run_dir.clone());
    let plan = plan(spec, opts, run_dir, backend)?;
    let mut stack = RunningStack {
        services: Vec::new(),
        pod: None,
        scrape_interval: plan.scrape_interval,
        prometheus: plan.prometheus,
        scrape_targets: plan.scrape_targets,
        bring_up: Duration::ZERO,
    };
    if docker {
        let ports = docker_backend::published_ports(&plan.services);
        stack.pod = Some(Pod::start(ports, opts.host_executable.as_deref()).await?);
    }
    for planned in plan.services {
        let service = launch(planned, run_dir, stack.pod.as_ref()).await?;
        stack.services.push(service);
    }
    stack.bring_up = began.elapsed();
    Ok(stack)
}

/// Every service of a spec, planned and not started: in start order (OTLP receivers, then
/// collectors, then applications, then every Prometheus), and what the gating Prometheus is.
pub(crate) struct StackPlan {
    pub(crate) services: Vec<Planned>,
    pub(crate) prometheus: Option<SocketAddr>,
    pub(crate) scrape_interval: Duration,
    pub(crate) scrape_targets: usize,
}

/// Plans every service of `spec` into `run_dir` for `backend`: resolves tools (fail fast; under
/// docker a tool missing here may come from its image), allocates every port, builds commands
/// and writes generated configs (Prometheus's included).
pub(crate) fn plan(
    spec: &Spec,
    opts: &StackOptions,
    run_dir: &Path,
    backend: Backend,
) -> Result<StackPlan, StackError> {
    std::fs::create_dir_all(run_dir).map_err(|source| StackError::RunDir {
        path: run_dir.to_owned(),
        source,
    })?;
    let io = |service: &str| {
        let service = service.to_owned();
        move |source| StackError::Spawn { service, source }
    };
    let receivers = Receivers::allocate(spec).map_err(io("stack"))?;
    // Every service's ports up front: adapters writing to Prometheus and `{{SERVICE.PORT}}`
    // placeholders need them whatever the spec's order.
    let addresses = allocate_ports(spec, &receivers).map_err(io("stack"))?;
    let host = opts.host_executable.as_deref();
    let mut apps: Vec<(u8, Planned)> = Vec::new();
    let mut proms = Vec::new();
    let gating = gating_prometheus(spec);
    // Adapters writing to the gating Prometheus need its address whatever the order.
    let gate_addr = match gating {
        Some(name) => port_of(&addresses, name, "http").map_err(io(name))?,
        // No Prometheus: nothing can write to it, but the URL must still be well formed.
        None => loopback(0),
    };
    let prom_write = format!("http://{gate_addr}/api/v1/write");
    let mut targets = Vec::new();
    for (name, service) in &spec.stack.services {
        match &service.kind {
            ServiceKind::Prometheus(p) => {
                let tool = resolve_tool(&ToolNeed::prometheus(p), backend)?;
                let addr = port_of(&addresses, name, "http").map_err(io(name))?;
                targets.push(ScrapeTarget {
                    job: name.clone(),
                    addr,
                    path: "/metrics".into(),
                    honor_labels: false,
                });
                proms.push((name.clone(), p.clone(), tool, addr));
            }
            ServiceKind::DemoApi(d) => {
                let addr = port_of(&addresses, name, "http").map_err(io(name))?;
                let otlp = match &d.otlp {
                    Some(receiver) => Some(OtlpExport {
                        endpoint: receivers.endpoint(receiver).map_err(io(name))?,
                        interval: d.export_interval,
                        service_name: name.clone(),
                        instance: addr.to_string(),
                    }),
                    None => {
                        // With OTLP on, the same series arrive through the receiver; scraping
                        // `/metrics` as well would duplicate them.
                        targets.push(ScrapeTarget {
                            job: name.clone(),
                            addr,
                            path: "/metrics".into(),
                            honor_labels: false,
                        });
                        None
                    }
                };
                let config = DemoApiConfig {
                    listen: addr,
                    seed: d.seed,
                    latency_factor: d.latency_factor,
                    error_factor: d.error_factor,
                    otlp,
                };
                apps.push((
                    RANK_APP,
                    Planned {
                        name: name.clone(),
                        kind: "demo-api",
                        ports: BTreeMap::from([("http".to_string(), addr)]),
                        command: super::builtin::demo_api_command(
                            &config,
                            opts.host_executable.as_deref(),
                        )
                        .map_err(io(name))?,
                        ready: Readiness::Http {
                            addr,
                            path: "/health".into(),
                        },
                        timeout: BUILTIN_STARTUP,
                        tool: None,
                    },
                ));
            }
            ServiceKind::OtlpAdapter(a) => {
                let addr = receivers.addr(name).map_err(io(name))?;
                let remote_write =
                    (a.export == OtlpExportMode::RemoteWrite).then(|| prom_write.clone());
                let (planned, target) = otel::plan_adapter(name, name, addr, remote_write, host)?;
                targets.push(target);
                apps.push((RANK_ADAPTER, planned));
            }
            ServiceKind::OtelCollector(c) => {
                let (planned, scraped) =
                    otel::plan_collector(name, c, &receivers, &prom_write, run_dir, host, backend)?;
                targets.extend(scraped);
                apps.extend(planned.into_iter().map(|p| (RANK_COLLECTOR, p)));
            }
            ServiceKind::FfmpegOrigin(o) => {
                let spec_dir = spec.path.parent().unwrap_or(Path::new(""));
                let addr = port_of(&addresses, name, "http").map_err(io(name))?;
                let (planned, target) =
                    super::origin::plan_origin(name, o, addr, spec_dir, run_dir, host)?;
                targets.push(target);
                apps.push((RANK_APP, planned));
            }
            ServiceKind::Process(p) => {
                let planned = plan_process(name, p, &addresses, &receivers).map_err(io(name))?;
                if let (Some(path), Some(addr)) = (&p.metrics_path, http_port(&planned.ports)) {
                    targets.push(ScrapeTarget {
                        job: name.clone(),
                        addr,
                        path: path.clone(),
                        honor_labels: false,
                    });
                }
                apps.push((RANK_APP, planned));
            }
        }
    }
    apps.sort_by_key(|(rank, _)| *rank);
    targets.extend(opts.extra_targets.iter().cloned());
    let mut plan = StackPlan {
        services: apps.into_iter().map(|(_, p)| p).collect(),
        prometheus: None,
        scrape_interval: Duration::from_secs(1),
        scrape_targets: 0,
    };
    // Every Prometheus scrapes every target, each other included; the gating one is the one
    // assertions query and remote-writing adapters write to.
    for (name, service, tool, addr) in proms {
        let dir = run_dir.join(&name);
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(io(&name))?;
        let config_file = dir.join("prometheus.yml");
        std::fs::write(
            &config_file,
            prometheus::render_config(service.scrape_interval, &targets),
        )
        .map_err(io(&name))?;
        let command = prometheus::command(&tool.path, &service, addr, &config_file, &data);
        if gating == Some(name.as_str()) {
            plan.scrape_interval = service.scrape_interval;
            plan.prometheus = Some(addr);
            plan.scrape_targets = targets.len();
        }
        plan.services.push(Planned {
            name,
            kind: "prometheus",
            ports: BTreeMap::from([("http".to_string(), addr)]),
            command,
            ready: Readiness::Http {
                addr,
                path: "/-/ready".into(),
            },
            timeout: PROMETHEUS_STARTUP,
            tool: Some(tool),
        });
    }
    Ok(plan)
}

/// The Prometheus service assertions query: the one the spec marks `gates`, else the first.
fn gating_prometheus(spec: &Spec) -> Option<&str> {
    let proms = || {
        spec.stack
            .services
            .iter()
            .filter_map(|(name, s)| match &s.kind {
                ServiceKind::Prometheus(p) => Some((name.as_str(), p.gates)),
                _ => None,
            })
    };
    proms()
        .find(|(_, gates)| *gates)
        .or_else(|| proms().next())
        .map(|(name, _)| name)
}

async fn launch(
    planned: Planned,
    run_dir: &Path,
    pod: Option<&Pod>,
) -> Result<RunningService, StackError> {
    let (planned, container) = match pod {
        Some(pod) => {
            let (planned, container) = pod.start_container(planned, run_dir).await?;
            (planned, Some(container))
        }
        None => (planned, None),
    };
    let Planned {
        name,
        kind,
        ports,
        command,
        ready,
        timeout,
        tool,
    } = planned;
    let watch = match &ready {
        Readiness::Log(text) => vec![text.clone()],
        _ => Vec::new(),
    };
    let started = Instant::now();
    let log = run_dir.join(format!("{name}.log"));
    let mut child =
        ChildProcess::spawn(&name, command, &log, watch).map_err(|source| StackError::Spawn {
            service: name.clone(),
            source,
        })?;
    wait_ready(&name, &mut child, &ready, timeout)
        .await
        .map_err(|e| match (e, &container) {
            // The follower's status says nothing; the container's does.
            (
                StackError::Died {
                    service, log, tail, ..
                },
                Some(c),
            ) => StackError::Died {
                service,
                status: c.exit_description(),
                log,
                tail,
            },
            (e, _) => e,
        })?;
    tracing::info!(service = %name, kind, ready_after = ?started.elapsed(), "ready");
    Ok(RunningService {
        name,
        kind,
        ports,
        tool,
        child,
        ready_after: started.elapsed(),
        container,
    })
}

/// The address of every named port of every service (`{{SERVICE.PORT}}` placeholders refer to
/// them): OTLP receivers keep the address `Receivers` gave them, a process's non-zero ports are
/// used as written, every other port is a free loopback port.
fn allocate_ports(spec: &Spec, receivers: &Receivers) -> std::io::Result<Addresses> {
    let mut out = Addresses::new();
    for (name, service) in &spec.stack.services {
        let ports = match &service.kind {
            ServiceKind::Prometheus(_) | ServiceKind::DemoApi(_) | ServiceKind::FfmpegOrigin(_) => {
                BTreeMap::from([("http".to_owned(), loopback(free_port()?))])
            }
            ServiceKind::OtlpAdapter(_) => {
                BTreeMap::from([("http".to_owned(), receivers.addr(name)?)])
            }
            ServiceKind::OtelCollector(_) => {
                BTreeMap::from([("otlp".to_owned(), receivers.addr(name)?)])
            }
            ServiceKind::Process(p) => p
                .ports
                .iter()
                .map(|(port, &fixed)| {
                    let port_number = if fixed == 0 { free_port()? } else { fixed };
                    Ok((port.clone(), loopback(port_number)))
                })
                .collect::<std::io::Result<_>>()?,
        };
        out.insert(name.clone(), ports);
    }
    Ok(out)
}

/// Service → port name → address.
type Addresses = BTreeMap<String, BTreeMap<String, SocketAddr>>;

fn port_of(addresses: &Addresses, service: &str, port: &str) -> std::io::Result<SocketAddr> {
    addresses
        .get(service)
        .and_then(|ports| ports.get(port))
        .copied()
        .ok_or_else(|| std::io::Error::other(format!("no port `{port}` allocated for `{service}`")))
}

/// Plans a generic process on its allocated ports, expanding `{{port.NAME}}` (its own ports) and
/// `{{SERVICE.PORT}}` (another service's) to port numbers in its argv and env.
fn plan_process(
    name: &str,
    p: &ProcessService,
    addresses: &Addresses,
    receivers: &Receivers,
) -> std::io::Result<Planned> {
    let ports = addresses.get(name).cloned().unwrap_or_default();
    let lookup = |inner: &str| {
        let (service, port) = inner.split_once('.')?;
        let service = if service == "port" { name } else { service };
        Some(addresses.get(service)?.get(port)?.port().to_string())
    };
    let expand = |s: &str| placeholders::expand(s, lookup);
    let (program, args) = p
        .command
        .split_first()
        .ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut command = Command::new(expand(program));
    command.args(args.iter().map(|a| expand(a)));
    if let Some(receiver) = &p.otlp {
        for (k, v) in otel::otel_env(name, &receivers.endpoint(receiver)?, &p.resource) {
            command.env(k, v);
        }
    }
    for (k, v) in &p.env {
        command.env(k, expand(v));
    }
    let port_addr = |port: &str| {
        ports
            .get(port)
            .copied()
            .ok_or_else(|| std::io::Error::other(format!("no port named `{port}`")))
    };
    let ready = match &p.ready {
        ReadyCheck::Http { port, path } => Readiness::Http {
            addr: port_addr(port)?,
            path: path.clone(),
        },
        ReadyCheck::Tcp { port } => Readiness::Tcp(port_addr(port)?),
        ReadyCheck::Log { contains } => Readiness::Log(contains.clone()),
        ReadyCheck::None => Readiness::Started,
    };
    Ok(Planned {
        name: name.to_owned(),
        kind: "process",
        ports,
        command,
        ready,
        timeout: p.startup_timeout,
        tool: None,
    })
}

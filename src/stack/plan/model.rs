//! The plan's types: one service, planned and not started, in terms every backend reads the
//! same way (a program, its arguments and environment, ports, readiness); no
//! `std::process::Command` here: the process backend builds one, the docker backend a container.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::stack::ports::Reserved;
use crate::stack::ready::Readiness;
use crate::tools::ResolvedTool;

/// One thing Prometheus scrapes: a job name, an address and a metrics path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeTarget {
    pub job: String,
    pub addr: SocketAddr,
    pub path: String,
    /// Keep the target's own `job`/`instance` labels (the OTLP adapter and collectors expose
    /// series of other services).
    pub honor_labels: bool,
}

impl ScrapeTarget {
    /// `/metrics` of `addr`, as `job`.
    pub(crate) fn metrics(job: &str, addr: SocketAddr, honor_labels: bool) -> Self {
        Self {
            job: job.to_owned(),
            addr,
            path: "/metrics".into(),
            honor_labels,
        }
    }
}

/// What a service runs.
#[derive(Debug, Clone)]
pub(crate) enum Program {
    /// perfgate's own executable, told which built-in to be by its environment
    /// (`PERFGATE_BUILTIN` and the built-in's config); `tool`: one it runs itself (the origin's
    /// FFmpeg).
    Builtin { tool: Option<ResolvedTool> },
    /// An external tool perfgate resolved (Prometheus, a collector).
    Tool(ResolvedTool),
    /// A program of this machine (`kind: process`), as the spec names it.
    External(String),
}

/// One service, planned: ports allocated, program and arguments known, not started yet.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) program: Program,
    pub(crate) args: Vec<String>,
    /// Set for the service on top of perfgate's own environment (a key set twice: the last).
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) ports: BTreeMap<String, SocketAddr>,
    pub(crate) ready: Readiness,
    pub(crate) timeout: Duration,
}

impl Planned {
    /// The tool it runs, or the built-in runs (for the record and for images).
    pub(crate) fn tool(&self) -> Option<&ResolvedTool> {
        match &self.program {
            Program::Builtin { tool, .. } => tool.as_ref(),
            Program::Tool(tool) => Some(tool),
            Program::External(_) => None,
        }
    }
}

/// Start order: OTLP receivers before the services that send to them, every Prometheus last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    Adapter,
    Collector,
    App,
}

/// What planning one service of the spec gives: its processes (a collector may bring a
/// companion adapter) and what Prometheus scrapes of them.
#[derive(Debug, Default)]
pub(crate) struct Part {
    pub(crate) services: Vec<(Rank, Planned)>,
    pub(crate) targets: Vec<ScrapeTarget>,
}

impl Part {
    pub(crate) fn one(rank: Rank, planned: Planned, target: Option<ScrapeTarget>) -> Self {
        Self {
            services: vec![(rank, planned)],
            targets: target.into_iter().collect(),
        }
    }
}

/// Every service of a spec, planned and not started: in start order (OTLP receivers, then
/// collectors, then applications, then every Prometheus), and what the gating Prometheus is.
#[derive(Debug)]
pub(crate) struct StackPlan {
    pub(crate) services: Vec<Planned>,
    pub(crate) prometheus: Option<SocketAddr>,
    pub(crate) scrape_interval: Duration,
    pub(crate) scrape_targets: usize,
    /// Every port of the plan, held bound until the services are about to start.
    pub(crate) reserved: Reserved,
}

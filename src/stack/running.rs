//! A started stack: every service with its handle (`launch::Handle`), its endpoints, liveness checks, the report's record of it, and
//! shutdown in reverse start order on every exit path.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{StackError, indent_tail};
use super::launch::{Handle, Launcher};
use super::ports::http_port;
use crate::tools::ResolvedTool;

/// A started service. Dropping it stops it.
#[derive(Debug)]
pub struct RunningService {
    pub name: String,
    pub kind: &'static str,
    pub ports: BTreeMap<String, SocketAddr>,
    pub tool: Option<ResolvedTool>,
    pub ready_after: Duration,
    pub(crate) handle: Handle,
}

impl RunningService {
    /// Its process id (also its process group id): the process, or under the docker backend
    /// the follower of its container's output.
    pub fn pid(&self) -> u32 {
        self.handle.output().pid()
    }

    pub fn log_path(&self) -> &Path {
        self.handle.output().log_path()
    }
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
    pub(crate) services: Vec<RunningService>,
    /// How the services were started (the docker backend's pod); taken on shutdown.
    pub(crate) launcher: Option<Launcher>,
    pub(crate) scrape_interval: Duration,
    pub(crate) prometheus: Option<SocketAddr>,
    /// How many targets Prometheus was configured to scrape (0 without Prometheus).
    pub(crate) scrape_targets: usize,
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

    pub fn records(&self) -> Vec<ServiceRecord> {
        self.services
            .iter()
            .map(|s| ServiceRecord {
                name: s.name.clone(),
                kind: s.kind.into(),
                ports: s.ports.clone(),
                pid: s.pid(),
                tool: s
                    .tool
                    .as_ref()
                    .map(|t| format!("{} {} ({})", t.name, t.version, t.location())),
                log: s.log_path().to_owned(),
                ready_after_ms: s.ready_after.as_millis() as u64,
            })
            .collect()
    }

    /// An error naming the first service that has exited, with its log tail.
    pub fn check_alive(&mut self) -> Result<(), StackError> {
        for s in &mut self.services {
            if let Some(status) = s.handle.output_mut().exited() {
                let child = s.handle.output();
                return Err(StackError::DiedDuringRun {
                    service: s.name.clone(),
                    kind: s.kind,
                    status: s.handle.describe_exit(status.to_string()),
                    log: child.log_path().to_owned(),
                    tail: indent_tail(&child.tail(30)),
                });
            }
        }
        Ok(())
    }

    /// Stops every service, last started first, reporting the first failure.
    pub async fn shutdown(mut self) -> Result<(), StackError> {
        let mut first_error = None;
        while let Some(s) = self.services.pop() {
            if let Err(e) = s.handle.stop(&s.name).await {
                first_error.get_or_insert(e);
            }
        }
        if let Some(launcher) = self.launcher.take()
            && let Err(e) = launcher.remove().await
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
        self.launcher.take();
    }
}

//! The OpenTelemetry services of the process backend: perfgate's OTLP adapter
//! (`otlp-to-prometheus`), collectors (`otel-collector`: `otelcol-contrib` when found, else rotel
//! provisioned from PyPI and exporting into a companion adapter), and the `OTEL_*` environment
//! injected into services that name one with `otlp:`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::backend::{Backend, ToolNeed, resolve_tool};
use super::error::StackError;
use super::otelcol::{OtelcolExport, OtelcolPorts, otelcol_config};
use super::ports::{free_port, loopback};
use super::process_backend::Planned;
use super::prometheus::ScrapeTarget;
use super::ready::Readiness;
use super::tools;
use crate::otlp::AdapterConfig;
use crate::spec::{CollectorImpl, OtelCollectorService, OtlpExportMode, Spec};

const STARTUP: Duration = Duration::from_secs(30);

/// The OTLP/HTTP address of every service that receives OTLP, allocated before anything starts
/// so senders can be configured whatever the spec's order.
#[derive(Debug, Default)]
pub(crate) struct Receivers(BTreeMap<String, SocketAddr>);

impl Receivers {
    pub(crate) fn allocate(spec: &Spec) -> std::io::Result<Self> {
        let mut out = BTreeMap::new();
        for (name, service) in &spec.stack.services {
            if service.kind.receives_otlp() {
                out.insert(name.clone(), loopback(free_port()?));
            }
        }
        Ok(Self(out))
    }

    /// `http://HOST:PORT` of a receiver (the OTLP base URL; senders add `/v1/metrics`).
    pub(crate) fn endpoint(&self, name: &str) -> std::io::Result<String> {
        self.0
            .get(name)
            .map(|addr| format!("http://{addr}"))
            .ok_or_else(|| std::io::Error::other(format!("`{name}` does not receive OTLP")))
    }

    pub(crate) fn addr(&self, name: &str) -> std::io::Result<SocketAddr> {
        self.0
            .get(name)
            .copied()
            .ok_or_else(|| std::io::Error::other(format!("`{name}` does not receive OTLP")))
    }
}

fn io(service: &str) -> impl Fn(std::io::Error) -> StackError + '_ {
    move |source| StackError::Spawn {
        service: service.to_owned(),
        source,
    }
}

/// perfgate's adapter as a built-in service, scraped with its series' own `job`/`instance`.
/// `remote_write`: the receiver URL for `export: remote-write`, `None` for `export: scrape`.
pub(crate) fn plan_adapter(
    name: &str,
    job: &str,
    addr: SocketAddr,
    remote_write: Option<String>,
    host: Option<&Path>,
) -> Result<(Planned, ScrapeTarget), StackError> {
    let config = AdapterConfig {
        listen: addr,
        remote_write,
    };
    let command = super::builtin::adapter_command(&config, host).map_err(io(name))?;
    let planned = Planned {
        name: name.to_owned(),
        kind: "otlp-to-prometheus",
        ports: BTreeMap::from([("http".to_owned(), addr)]),
        command,
        ready: Readiness::Http {
            addr,
            path: "/health".into(),
        },
        timeout: STARTUP,
        tool: None,
    };
    let target = ScrapeTarget {
        job: job.to_owned(),
        addr,
        path: "/metrics".into(),
        honor_labels: true,
    };
    Ok((planned, target))
}

/// A collector: its own process (plus, for rotel, a companion adapter started first) and what
/// Prometheus scrapes. `remote_write`: the stack Prometheus's receiver URL, used with `via:
/// remote-write`.
pub(crate) fn plan_collector(
    name: &str,
    c: &OtelCollectorService,
    receivers: &Receivers,
    remote_write: &str,
    run_dir: &Path,
    host: Option<&Path>,
    backend: Backend,
) -> Result<(Vec<Planned>, Vec<ScrapeTarget>), StackError> {
    let otlp = receivers.addr(name).map_err(io(name))?;
    let grpc = loopback(free_port().map_err(io(name))?);
    let tool = resolve_tool(&collector_tool(c), backend)?;
    let write_url = (c.via == OtlpExportMode::RemoteWrite).then(|| remote_write.to_owned());
    let mut planned = Vec::new();
    let mut targets = Vec::new();
    let mut ports = BTreeMap::from([("otlp".to_owned(), otlp), ("grpc".to_owned(), grpc)]);
    let mut command = Command::new(&tool.path);
    if tool.name == tools::ROTEL.name {
        let adapter_name = format!("{name}-to-prometheus");
        let adapter_addr = loopback(free_port().map_err(io(name))?);
        let (adapter, target) = plan_adapter(&adapter_name, name, adapter_addr, write_url, host)?;
        planned.push(adapter);
        targets.push(target);
        command
            .arg("start")
            .arg(format!("--otlp-http-endpoint={otlp}"))
            .arg(format!("--otlp-grpc-endpoint={grpc}"))
            .arg("--exporter=otlp")
            .arg("--otlp-exporter-protocol=http")
            .arg(format!("--otlp-exporter-endpoint=http://{adapter_addr}"))
            // rotel's own counters (`rotel_receiver_refused_metric_points`, …) go through its
            // pipeline into the adapter, every 10 s, only once non-zero.
            .arg("--enable-internal-telemetry")
            .arg(format!(
                "--pid-file={}",
                run_dir.join(format!("{name}.pid")).display()
            ))
            // rotel colours its log whether or not it writes to a terminal.
            .env("NO_COLOR", "1");
    } else {
        let telemetry = loopback(free_port().map_err(io(name))?);
        let export = match write_url {
            Some(url) => OtelcolExport::RemoteWrite(url),
            None => {
                let exporter = loopback(free_port().map_err(io(name))?);
                ports.insert("exporter".into(), exporter);
                targets.push(ScrapeTarget {
                    job: name.to_owned(),
                    addr: exporter,
                    path: "/metrics".into(),
                    honor_labels: true,
                });
                OtelcolExport::Scrape(exporter)
            }
        };
        let config = run_dir.join(format!("{name}.otelcol.yaml"));
        let text = otelcol_config(&OtelcolPorts {
            http: otlp,
            grpc,
            export,
            telemetry,
        });
        std::fs::write(&config, text).map_err(io(name))?;
        command.arg(format!("--config={}", config.display()));
        ports.insert("telemetry".into(), telemetry);
        targets.push(ScrapeTarget {
            job: format!("{name}-telemetry"),
            addr: telemetry,
            path: "/metrics".into(),
            honor_labels: false,
        });
    }
    command.args(&c.extra_args);
    tracing::info!(service = %name, collector = %tool.name, version = %tool.version, location = %tool.location(), "collector");
    planned.push(Planned {
        name: name.to_owned(),
        kind: "otel-collector",
        ports,
        command,
        ready: Readiness::Tcp(otlp),
        timeout: STARTUP,
        tool: Some(tool),
    });
    Ok((planned, targets))
}

/// The collector a service runs, and the binary and image named for it: `otelcol-contrib`/
/// `otelcol` when asked for, found, or named by an image (unless `implementation: rotel`);
/// otherwise rotel (provisioned if needed).
pub(super) fn collector_tool(c: &OtelCollectorService) -> ToolNeed {
    let binary = c.binary.as_deref();
    let named_rotel = binary.is_some_and(|b| b.file_name().is_some_and(|f| f == "rotel-agent"));
    let otelcol_found = binary.is_some() && !named_rotel
        || c.image.is_some()
        || std::env::var_os(tools::OTELCOL.env_var).is_some_and(|v| !v.is_empty())
        || ["otelcol-contrib", "otelcol"]
            .iter()
            .any(|p| tools::which(p).is_some());
    let (tool, binary) = match c.implementation {
        CollectorImpl::Otelcol => (&tools::OTELCOL, otelcol_binary(binary)),
        CollectorImpl::Auto if otelcol_found => (&tools::OTELCOL, otelcol_binary(binary)),
        CollectorImpl::Rotel | CollectorImpl::Auto => (
            &tools::ROTEL,
            binary
                .filter(|_| named_rotel || c.implementation == CollectorImpl::Rotel)
                .map(Path::to_path_buf),
        ),
    };
    ToolNeed {
        tool,
        binary,
        image: c.image.clone(),
    }
}

/// The spec's binary, else plain `otelcol` when that is on PATH and `otelcol-contrib` is not.
fn otelcol_binary(binary: Option<&Path>) -> Option<PathBuf> {
    match (
        binary,
        tools::which("otelcol-contrib"),
        tools::which("otelcol"),
    ) {
        (None, None, Some(plain)) => Some(plain),
        _ => binary.map(Path::to_path_buf),
    }
}

/// `OTEL_*` variables for a program that exports to `endpoint` as `service`; the service's own
/// `env:` is applied after these, so it can override any of them.
pub(crate) fn otel_env(
    service: &str,
    endpoint: &str,
    resource: &BTreeMap<String, String>,
) -> Vec<(&'static str, String)> {
    let mut attrs = vec![format!("service.instance.id={}", encode(service))];
    attrs.extend(
        resource
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v))),
    );
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
        ("OTEL_SERVICE_NAME", service.to_owned()),
        ("OTEL_RESOURCE_ATTRIBUTES", attrs.join(",")),
        ("OTEL_METRICS_EXPORTER", "otlp".to_owned()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1000".to_owned()),
    ]
}

/// Percent-encodes what `OTEL_RESOURCE_ATTRIBUTES` (W3C baggage syntax) cannot carry raw.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    /// A stand-in that only answers `--version` like otelcol-contrib: enough to check which
    /// collector perfgate picks and how it is configured (none can run on this machine).
    fn fake_otelcol(dir: &Path) -> std::path::PathBuf {
        let bin = dir.join("otelcol-contrib");
        std::fs::write(&bin, "#!/bin/sh\necho 'otelcol-contrib version 0.120.0'\n").unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin
    }

    fn collector(binary: std::path::PathBuf, via: OtlpExportMode) -> OtelCollectorService {
        OtelCollectorService {
            export_to: "prometheus".into(),
            via,
            implementation: CollectorImpl::Auto,
            binary: Some(binary),
            image: None,
            extra_args: vec!["--feature-gates=x".into()],
        }
    }

    #[test]
    fn a_configured_otelcol_runs_with_a_generated_remote_write_config() {
        let dir = tempfile::tempdir().unwrap();
        let c = collector(fake_otelcol(dir.path()), OtlpExportMode::RemoteWrite);
        let receivers = Receivers(BTreeMap::from([("collector".into(), loopback(4318))]));
        let write = "http://127.0.0.1:9090/api/v1/write";
        let (planned, targets) = plan_collector(
            "collector",
            &c,
            &receivers,
            write,
            dir.path(),
            None,
            Backend::Process,
        )
        .unwrap();
        assert_eq!(planned.len(), 1, "no companion adapter for otelcol");
        let p = &planned[0];
        assert_eq!(p.tool.as_ref().map(|t| t.name), Some("otelcol-contrib"));
        let config = dir.path().join("collector.otelcol.yaml");
        let args: Vec<String> = p
            .command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                format!("--config={}", config.display()),
                "--feature-gates=x".to_owned()
            ]
        );
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains(&format!("endpoint: \"{write}\"")), "{text}");
        assert!(
            text.contains("exporters: [prometheusremotewrite]"),
            "{text}"
        );
        // Remote write: only the collector's own telemetry is scraped.
        let jobs: Vec<&str> = targets.iter().map(|t| t.job.as_str()).collect();
        assert_eq!(jobs, ["collector-telemetry"]);
    }

    #[test]
    fn a_scraping_otelcol_is_scraped_with_its_series_own_job() {
        let dir = tempfile::tempdir().unwrap();
        let c = collector(fake_otelcol(dir.path()), OtlpExportMode::Scrape);
        let receivers = Receivers(BTreeMap::from([("collector".into(), loopback(4318))]));
        let (planned, targets) = plan_collector(
            "collector",
            &c,
            &receivers,
            "http://x/api/v1/write",
            dir.path(),
            None,
            Backend::Process,
        )
        .unwrap();
        let exporter = planned[0].ports["exporter"];
        let scraped: Vec<(&str, SocketAddr, bool)> = targets
            .iter()
            .map(|t| (t.job.as_str(), t.addr, t.honor_labels))
            .collect();
        assert_eq!(scraped[0], ("collector", exporter, true));
        assert_eq!(scraped[1].0, "collector-telemetry");
    }

    #[test]
    fn env_for_a_process_names_service_and_encodes_attributes() {
        let env = otel_env(
            "worker",
            "http://127.0.0.1:4318",
            &BTreeMap::from([("team".into(), "a b,c".into())]),
        );
        let get = |k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("OTEL_SERVICE_NAME"), Some("worker"));
        assert_eq!(
            get("OTEL_EXPORTER_OTLP_ENDPOINT"),
            Some("http://127.0.0.1:4318")
        );
        assert_eq!(
            get("OTEL_RESOURCE_ATTRIBUTES"),
            Some("service.instance.id=worker,team=a%20b%2Cc")
        );
    }
}

//! Planning the OpenTelemetry services: perfgate's OTLP adapter (`otlp-to-prometheus`),
//! collectors (`otel-collector`: `otelcol-contrib` when found, else rotel provisioned from PyPI
//! and exporting into a companion adapter), and the `OTEL_*` environment injected into services
//! that name one with `otlp:`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::stack::plan::context::PlanContext;
use crate::stack::plan::model::{Part, Planned, Program, Rank, ScrapeTarget};
use super::otelcol::{OtelcolExport, OtelcolPorts, otelcol_config};
use super::Planning;
use crate::otlp::AdapterConfig;
use crate::spec::{CollectorImpl, OtelCollectorService, OtlpAdapterService, OtlpExportMode};
use crate::stack::builtin;
use crate::stack::error::{StackError, io};
use crate::stack::need::{ToolNeed, resolve_tool};
use crate::stack::ready::Readiness;
use crate::tools::{self, ResolvedTool};

const STARTUP: Duration = Duration::from_secs(30);

/// An `otlp-to-prometheus` service of the spec, on its receiver's address.
pub(crate) fn plan_otlp_adapter(
    name: &str,
    a: &OtlpAdapterService,
    ctx: &PlanContext<'_>,
) -> Result<Planning, StackError> {
    let addr = ctx.receivers.addr(name).map_err(io(name))?;
    let remote_write = (a.export == OtlpExportMode::RemoteWrite).then(|| ctx.prom_write.clone());
    let (planned, target) = plan_adapter(name, name, addr, remote_write);
    Ok(Planning::Part(Part::one(Rank::Adapter, planned, Some(target))))
}

/// perfgate's adapter as a built-in service, scraped with its series' own `job`/`instance`.
/// `remote_write`: the receiver URL for `export: remote-write`, `None` for `export: scrape`.
fn plan_adapter(
    name: &str,
    job: &str,
    addr: SocketAddr,
    remote_write: Option<String>,
) -> (Planned, ScrapeTarget) {
    let config = AdapterConfig {
        listen: addr,
        remote_write,
    };
    let env = builtin::adapter(&config);
    let planned = Planned {
        name: name.to_owned(),
        kind: "otlp-to-prometheus",
        program: Program::Builtin { tool: None },
        args: Vec::new(),
        env,
        ports: BTreeMap::from([("http".to_owned(), addr)]),
        ready: Readiness::Http {
            addr,
            path: "/health".into(),
        },
        timeout: STARTUP,
    };
    let target = ScrapeTarget::metrics(job, addr, true);
    (planned, target)
}

/// The collector a service runs.
pub(crate) fn collector_tools(c: &OtelCollectorService) -> Vec<ToolNeed> {
    vec![collector_tool(c)]
}

/// The collector a service runs, and the binary and image named for it: `otelcol-contrib`/
/// `otelcol` when asked for, found, or named by an image (unless `implementation: rotel`);
/// otherwise rotel (provisioned if needed).
fn collector_tool(c: &OtelCollectorService) -> ToolNeed {
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

/// A collector: its own process (plus, for rotel, a companion adapter started first) and what
/// Prometheus scrapes. With `via: remote-write` it writes into the gating Prometheus.
pub(crate) fn plan_collector(
    name: &str,
    c: &OtelCollectorService,
    ctx: &PlanContext<'_>,
) -> Result<Planning, StackError> {
    let otlp = ctx.receivers.addr(name).map_err(io(name))?;
    let grpc = ctx.free_port(name)?;
    let tool = resolve_tool(&collector_tool(c), ctx.backend)?;
    let write_url = (c.via == OtlpExportMode::RemoteWrite).then(|| ctx.prom_write.clone());
    let mut collector = Collector {
        name,
        otlp,
        grpc,
        args: Vec::new(),
        env: BTreeMap::new(),
        ports: BTreeMap::from([("otlp".to_owned(), otlp), ("grpc".to_owned(), grpc)]),
        part: Part::default(),
    };
    if tool.name == tools::ROTEL.name {
        collector.rotel(write_url, ctx)?;
    } else {
        collector.otelcol(write_url, ctx)?;
    }
    collector.args.extend(c.extra_args.iter().cloned());
    tracing::info!(service = %name, collector = %tool.name, version = %tool.version, location = %tool.location(), "collector");
    Ok(Planning::Part(collector.finish(tool)))
}

/// A collector being planned: its command line, ports and what comes with it.
struct Collector<'a> {
    name: &'a str,
    otlp: SocketAddr,
    grpc: SocketAddr,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    ports: BTreeMap<String, SocketAddr>,
    /// The companion adapter (rotel) and the scrape targets.
    part: Part,
}

impl Collector<'_> {
    /// rotel exports OTLP only: into a companion adapter, which Prometheus scrapes or which
    /// remote-writes (`write_url`).
    fn rotel(&mut self, write_url: Option<String>, ctx: &PlanContext<'_>) -> Result<(), StackError> {
        let name = self.name;
        let adapter_name = format!("{name}-to-prometheus");
        let adapter_addr = ctx.free_port(name)?;
        let (adapter, target) = plan_adapter(&adapter_name, name, adapter_addr, write_url);
        self.part.services.push((Rank::Collector, adapter));
        self.part.targets.push(target);
        self.args.extend([
            "start".to_owned(),
            format!("--otlp-http-endpoint={}", self.otlp),
            format!("--otlp-grpc-endpoint={}", self.grpc),
            "--exporter=otlp".to_owned(),
            "--otlp-exporter-protocol=http".to_owned(),
            format!("--otlp-exporter-endpoint=http://{adapter_addr}"),
            // rotel's own counters (`rotel_receiver_refused_metric_points`, …) go through its
            // pipeline into the adapter, every 10 s, only once non-zero.
            "--enable-internal-telemetry".to_owned(),
            format!(
                "--pid-file={}",
                ctx.run_dir.join(format!("{name}.pid")).display()
            ),
        ]);
        // rotel colours its log whether or not it writes to a terminal.
        self.env.insert("NO_COLOR".into(), "1".into());
        Ok(())
    }

    /// otelcol: a generated config, scraped on its exporter's port or remote-writing
    /// (`write_url`), and its own telemetry scraped too.
    fn otelcol(&mut self, write_url: Option<String>, ctx: &PlanContext<'_>) -> Result<(), StackError> {
        let name = self.name;
        let telemetry = ctx.free_port(name)?;
        let export = match write_url {
            Some(url) => OtelcolExport::RemoteWrite(url),
            None => {
                let exporter = ctx.free_port(name)?;
                self.ports.insert("exporter".into(), exporter);
                self.part
                    .targets
                    .push(ScrapeTarget::metrics(name, exporter, true));
                OtelcolExport::Scrape(exporter)
            }
        };
        let config = ctx.run_dir.join(format!("{name}.otelcol.yaml"));
        let text = otelcol_config(&OtelcolPorts {
            http: self.otlp,
            grpc: self.grpc,
            export,
            telemetry,
        });
        std::fs::write(&config, text).map_err(io(name))?;
        self.args.push(format!("--config={}", config.display()));
        self.ports.insert("telemetry".into(), telemetry);
        self.part.targets.push(ScrapeTarget::metrics(
            &format!("{name}-telemetry"),
            telemetry,
            false,
        ));
        Ok(())
    }

    fn finish(mut self, tool: ResolvedTool) -> Part {
        let planned = Planned {
            name: self.name.to_owned(),
            kind: "otel-collector",
            program: Program::Tool(tool),
            args: self.args,
            env: self.env,
            ports: self.ports,
            ready: Readiness::Tcp(self.otlp),
            timeout: STARTUP,
        };
        self.part.services.push((Rank::Collector, planned));
        self.part
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
    use crate::spec::Spec;
    use crate::stack::backend::Backend;
    use crate::stack::plan::context::Receivers;
    use std::os::unix::fs::PermissionsExt as _;

    fn quickstart() -> Spec {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        crate::spec::load(&root.join("specs/quickstart.yaml")).expect("a valid spec")
    }

    /// A context with one OTLP receiver, `collector`, and `write` as the remote-write URL.
    fn context<'a>(spec: &'a Spec, run_dir: &'a Path, write: &str) -> PlanContext<'a> {
        PlanContext {
            spec,
            run_dir,
            backend: Backend::Process,
            receivers: Receivers(BTreeMap::from([("collector".into(), crate::stack::ports::loopback(4318))])),
            addresses: Default::default(),
            gating: None,
            prom_write: write.to_owned(),
            reserved: Default::default(),
        }
    }

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
        let write = "http://127.0.0.1:9090/api/v1/write";
        let spec = quickstart();
        let Ok(Planning::Part(Part { services, targets })) =
            plan_collector("collector", &c, &context(&spec, dir.path(), write))
        else {
            panic!("a collector is planned");
        };
        assert_eq!(services.len(), 1, "no companion adapter for otelcol");
        let p = &services[0].1;
        assert_eq!(p.tool().map(|t| t.name), Some("otelcol-contrib"));
        let config = dir.path().join("collector.otelcol.yaml");
        assert_eq!(
            p.args,
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
        let spec = quickstart();
        let context = context(&spec, dir.path(), "http://x/api/v1/write");
        let Ok(Planning::Part(Part { services, targets })) =
            plan_collector("collector", &c, &context)
        else {
            panic!("a collector is planned");
        };
        let exporter = services[0].1.ports["exporter"];
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

//! Validation of `stack:`: backend choice, services by kind, readiness and ports (placeholders:
//! `placeholders`).

use std::time::Duration;

use indexmap::IndexMap;
use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::diagnostic::backticked;
use super::locate::YamlPath;
use super::model::{
    BackendChoice, DemoApiService, ProcessService, PrometheusService, ReadyCheck, Service,
    ServiceKind, Stack,
};
use super::raw::{
    RawBackend, RawDemoApi, RawKind, RawProcess, RawPrometheus, RawReady, RawStack, SERVICE_KINDS,
};
pub(crate) use super::stack_info::{StackInfo, http_ports};
use super::units::is_identifier;

/// Kinds that are planned but not built yet: a clearer error than "unknown kind".
const FUTURE_KINDS: [&str; 1] = ["container"];

const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn stack(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> StackInfo {
    let names: Vec<String> = match value {
        Value::Mapping(m) => match m.get("services") {
            Some(Value::Mapping(services)) => services
                .keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let empty = StackInfo {
        stack: Stack {
            backend: BackendChoice::Auto,
            services: IndexMap::new(),
        },
        names: names.clone(),
    };
    let Some(raw) = ctx.de::<RawStack>(value, at) else {
        return empty;
    };
    let backend = match raw.backend {
        RawBackend::Auto => BackendChoice::Auto,
        RawBackend::Process => BackendChoice::Process,
        RawBackend::Docker => BackendChoice::Docker,
    };
    let services_at = at.key("services");
    let mut services = IndexMap::new();
    let mut written_gates = Vec::new();
    for (name, value) in &raw.services {
        let path = services_at.key(name);
        if !is_identifier(name) {
            ctx.at_key(
                &path,
                format!(
                    "invalid service name `{name}` (hint: use letters, digits, `_` and `-`, starting with a letter or digit)"
                ),
            );
        }
        if let Some(kind) = service(ctx, value, &path) {
            if matches!(kind, ServiceKind::Prometheus(_)) {
                written_gates.push((name.clone(), value.get("gates").and_then(Value::as_bool)));
            }
            services.insert(
                name.clone(),
                Service {
                    name: name.clone(),
                    kind,
                },
            );
        }
    }
    choose_gating(ctx, &mut services, &written_gates, &services_at);
    let stack = Stack { backend, services };
    super::placeholders::check(ctx, &stack, &services_at);
    super::otel::check_references(ctx, &stack, &names, &services_at);
    StackInfo { stack, names }
}

fn service(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<ServiceKind> {
    let kind = match ctx.de::<RawKind>(value, at) {
        Some(k) => k.kind,
        None => {
            if let Some(d) = ctx.diagnostics.last_mut()
                && d.message == "missing field `kind`"
                && d.hint.is_none()
            {
                d.hint = Some(format!("expected one of {}", backticked(SERVICE_KINDS)));
            }
            return None;
        }
    };
    let kind_at = at.key("kind");
    match kind.as_str() {
        "prometheus" => {
            let raw = ctx.de::<RawPrometheus>(value, at)?;
            prometheus(ctx, raw, at)
        }
        "demo-api" => {
            let raw = ctx.de::<RawDemoApi>(value, at)?;
            demo_api(ctx, raw, at)
        }
        "process" => {
            let raw = ctx.de::<RawProcess>(value, at)?;
            process(ctx, raw, at)
        }
        "otel-collector" => super::otel::collector(ctx, value, at),
        "otlp-to-prometheus" => super::otel::adapter(ctx, value, at),
        "ffmpeg-origin" => super::origin::origin(ctx, value, at),
        future if FUTURE_KINDS.contains(&future) => {
            ctx.at_value(
                &kind_at,
                format!(
                    "service kind `{future}` is not supported yet (hint: supported kinds are {})",
                    backticked(SERVICE_KINDS)
                ),
            );
            None
        }
        other => {
            ctx.unknown_name(&kind_at, "service kind", other, &SERVICE_KINDS);
            None
        }
    }
}

fn prometheus(ctx: &mut Ctx, raw: RawPrometheus, at: &YamlPath) -> Option<ServiceKind> {
    let scrape_interval = ctx.optional_duration(
        &at.key("scrape_interval"),
        raw.scrape_interval.as_ref().map(|t| t.0.as_str()),
        DEFAULT_SCRAPE_INTERVAL,
    )?;
    Some(ServiceKind::Prometheus(PrometheusService {
        scrape_interval,
        binary: raw.binary,
        image: raw.image,
        extra_args: raw.args.into_iter().map(|t| t.0).collect(),
        gates: raw.gates.unwrap_or(false),
    }))
}

/// Chooses the Prometheus that assertions and snapshots query: the one written `gates: true`
/// (two are an error), else the first one not written `gates: false`. `written`: every valid
/// Prometheus service and its `gates:` as written, in spec order.
fn choose_gating(
    ctx: &mut Ctx,
    services: &mut IndexMap<String, Service>,
    written: &[(String, Option<bool>)],
    services_at: &YamlPath,
) {
    let flagged: Vec<&str> = written
        .iter()
        .filter(|(_, gates)| *gates == Some(true))
        .map(|(n, _)| n.as_str())
        .collect();
    if let [first, rest @ ..] = flagged.as_slice() {
        for name in rest {
            ctx.at_value(
                &services_at.key(name).key("gates"),
                "only one `prometheus` service can have `gates: true`",
            )
            .hint = Some(format!(
                "assertions and snapshots query `{first}`; remove `gates: true` from `{name}`"
            ));
        }
    }
    let chosen = match flagged.first() {
        Some(name) => Some(*name),
        None => written
            .iter()
            .find(|(_, gates)| gates.is_none())
            .map(|(n, _)| n.as_str()),
    };
    if let Some(Service {
        kind: ServiceKind::Prometheus(p),
        ..
    }) = chosen.and_then(|n| services.get_mut(n))
    {
        p.gates = true;
    }
}

fn demo_api(ctx: &mut Ctx, raw: RawDemoApi, at: &YamlPath) -> Option<ServiceKind> {
    let mut factor = |key: &str, value: Option<f64>| {
        let v = value.unwrap_or(1.0);
        if v.is_finite() && v >= 0.0 {
            Some(v)
        } else {
            ctx.at_value(
                &at.key(key),
                format!("`{key}` must be a number ≥ 0 (hint: 1.0 is the documented behaviour)"),
            );
            None
        }
    };
    let latency_factor = factor("latency_factor", raw.latency_factor);
    let error_factor = factor("error_factor", raw.error_factor);
    let cpu_factor = match super::limits::check_cpu_factor(raw.cpu_factor.unwrap_or(1.0)) {
        Ok(v) => Some(v),
        Err(message) => {
            let hint = "1.0 is the documented work per request; 1.2 seeds 20 % more CPU";
            ctx.at_value(&at.key("cpu_factor"), format!("{message} (hint: {hint})"));
            None
        }
    };
    let interval_at = at.key("export_interval");
    if raw.export_interval.is_some() && raw.otlp.is_none() {
        ctx.at_key(
            &interval_at,
            "`export_interval` needs `otlp:` (hint: name the collector, e.g. `otlp: collector`)",
        );
        return None;
    }
    let export_interval = ctx.optional_duration(
        &interval_at,
        raw.export_interval.as_ref().map(|t| t.0.as_str()),
        super::otel::DEFAULT_EXPORT_INTERVAL,
    );
    Some(ServiceKind::DemoApi(DemoApiService {
        seed: raw.seed.unwrap_or(1),
        latency_factor: latency_factor?,
        error_factor: error_factor?,
        cpu_factor: cpu_factor?,
        otlp: raw.otlp,
        export_interval: export_interval?,
    }))
}

fn process(ctx: &mut Ctx, raw: RawProcess, at: &YamlPath) -> Option<ServiceKind> {
    let mut ok = true;
    if raw.command.is_empty() {
        ctx.at_value(&at.key("command"), "`command` is empty (hint: write the program and its arguments, e.g. `[python3, -m, http.server]`)");
        ok = false;
    }
    let ports = raw.ports;
    let port_names: Vec<&str> = ports.keys().map(String::as_str).collect();
    for name in &port_names {
        if !is_identifier(name) {
            ctx.at_key(
                &at.key("ports").key(name),
                format!("invalid port name `{name}` (hint: use letters, digits, `_` and `-`)"),
            );
            ok = false;
        }
    }
    let ready = match &raw.ready {
        None => Some(ReadyCheck::None),
        Some(Value::String(s)) if s == "none" => Some(ReadyCheck::None),
        Some(value) => ready(ctx, value, &at.key("ready"), &port_names),
    };
    if let Some(metrics) = &raw.metrics {
        let path = at.key("metrics");
        if !metrics.starts_with('/') {
            ctx.at_value(
                &path,
                format!("metrics path `{metrics}` must start with `/` (hint: `/{metrics}`)"),
            );
            ok = false;
        } else if default_port(&port_names).is_none() {
            ctx.at_value(&path, "a metrics path needs an `http` port or exactly one port (hint: declare `ports: { http: 0 }`)");
            ok = false;
        }
    }
    let startup_timeout = ctx.optional_duration(
        &at.key("startup_timeout"),
        raw.startup_timeout.as_ref().map(|t| t.0.as_str()),
        DEFAULT_STARTUP_TIMEOUT,
    );
    if !ok {
        return None;
    }
    Some(ServiceKind::Process(ProcessService {
        command: raw.command.into_iter().map(|t| t.0).collect(),
        env: raw.env.into_iter().map(|(k, v)| (k, v.0)).collect(),
        ready: ready?,
        metrics_path: raw.metrics,
        startup_timeout: startup_timeout?,
        ports,
        otlp: raw.otlp,
        resource: raw.resource.into_iter().map(|(k, v)| (k, v.0)).collect(),
    }))
}

/// The port a check or scrape uses when none is named: `http`, else the only port.
fn default_port<'a>(ports: &[&'a str]) -> Option<&'a str> {
    if ports.contains(&"http") {
        return Some("http");
    }
    match ports {
        [only] => Some(only),
        _ => None,
    }
}

/// A readiness check; `None` when it was invalid (already reported).
fn ready(ctx: &mut Ctx, value: &Value, at: &YamlPath, ports: &[&str]) -> Option<ReadyCheck> {
    let raw = ctx.de::<RawReady>(value, at)?;
    let given: Vec<&str> = [
        ("http", raw.http.is_some()),
        ("tcp", raw.tcp.is_some()),
        ("log", raw.log.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, present)| present.then_some(k))
    .collect();
    if given.len() != 1 {
        let message = if given.is_empty() {
            "readiness check names no kind".to_owned()
        } else {
            format!(
                "readiness check has several kinds: {}",
                backticked(given.iter().copied())
            )
        };
        ctx.at_key(at, message).hint = Some(
            "write one of `{ http: /health }`, `{ tcp: http }`, `{ log: \"listening\" }` or `none`"
                .to_owned(),
        );
        return None;
    }
    let port = |ctx: &mut Ctx, key: &str, name: Option<&str>| -> Option<String> {
        let name = match name {
            Some(n) => n,
            None => match default_port(ports) {
                Some(p) => p,
                None => {
                    ctx.at_value(&at.key(key), "the check needs a port: declare `ports: { http: 0 }` or name one with `port:`");
                    return None;
                }
            },
        };
        if !ports.contains(&name) {
            let path = if key == "http" {
                at.key("port")
            } else {
                at.key(key)
            };
            ctx.unknown_name(&path, "port", name, ports);
            return None;
        }
        Some(name.to_owned())
    };
    if raw.port.is_some() && raw.http.is_none() {
        ctx.at_key(&at.key("port"), "`port` only applies to an `http` check (hint: `{ tcp: PORT }` names its port directly)");
        return None;
    }
    if let Some(path) = raw.http {
        if !path.starts_with('/') {
            ctx.at_value(
                &at.key("http"),
                format!("readiness path `{path}` must start with `/` (hint: `/{path}`)"),
            );
            return None;
        }
        let port = port(ctx, "http", raw.port.as_deref())?;
        return Some(ReadyCheck::Http { port, path });
    }
    if let Some(name) = raw.tcp {
        let port = port(ctx, "tcp", Some(&name))?;
        return Some(ReadyCheck::Tcp { port });
    }
    match raw.log {
        Some(contains) if !contains.is_empty() => Some(ReadyCheck::Log { contains }),
        _ => {
            ctx.at_value(&at.key("log"), "the log text to wait for is empty");
            None
        }
    }
}

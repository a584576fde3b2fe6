//! Validation of `stack:`: backend choice, services by kind, readiness, ports and placeholders.

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
use super::units::is_identifier;

/// Kinds that are planned but not built yet: a clearer error than "unknown kind".
const FUTURE_KINDS: [&str; 1] = ["container"];

const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The validated stack, plus what later passes need to know about services that failed.
pub(crate) struct StackInfo {
    pub(crate) stack: Stack,
    /// Every service name written, valid or not (so references to a broken service are not
    /// reported a second time).
    pub(crate) names: Vec<String>,
}

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
    check_placeholders(ctx, &stack, &services_at);
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

/// The HTTP-capable ports of a service, by name.
pub(crate) fn http_ports(service: &Service) -> Vec<&str> {
    match &service.kind {
        ServiceKind::Prometheus(_)
        | ServiceKind::DemoApi(_)
        | ServiceKind::OtlpAdapter(_)
        | ServiceKind::FfmpegOrigin(_) => vec!["http"],
        ServiceKind::OtelCollector(_) => vec!["otlp"],
        ServiceKind::Process(p) => p.ports.keys().map(String::as_str).collect(),
    }
}

/// `{{port.NAME}}` must name a port of the same process; `{{service.PORT}}` a port of another.
fn check_placeholders(ctx: &mut Ctx, stack: &Stack, services_at: &YamlPath) {
    let mut problems = Vec::new();
    for (name, service) in &stack.services {
        let ServiceKind::Process(p) = &service.kind else {
            continue;
        };
        let own: Vec<&str> = p.ports.keys().map(String::as_str).collect();
        let at = services_at.key(name);
        let texts = p
            .command
            .iter()
            .enumerate()
            .map(|(i, arg)| (at.key("command").index(i), arg))
            .chain(p.env.iter().map(|(k, v)| (at.key("env").key(k), v)));
        for (path, text) in texts {
            for (offset, inner) in placeholders(text) {
                let problem = match inner.split_once('.') {
                    Some(("port", port)) if !own.contains(&port) => Some((
                        format!("placeholder names undeclared port `{port}`"),
                        if own.is_empty() {
                            format!("declare it under `ports:`, e.g. `ports: {{ {port}: 0 }}`")
                        } else {
                            format!("ports of `{name}` are {}", backticked(own.iter().copied()))
                        },
                    )),
                    Some(("port", _)) => None,
                    Some((other, port)) => match stack.services.get(other) {
                        None => Some((
                            format!("placeholder names unknown service `{other}`"),
                            format!(
                                "services are {}",
                                backticked(stack.services.keys().map(String::as_str))
                            ),
                        )),
                        Some(s) if !http_ports(s).contains(&port) => Some((
                            format!("placeholder names unknown port `{port}` of service `{other}`"),
                            format!("its ports are {}", backticked(http_ports(s))),
                        )),
                        Some(_) => None,
                    },
                    None => Some((
                        format!("invalid placeholder `{{{{{inner}}}}}`"),
                        "write `{{port.NAME}}` or `{{SERVICE.PORT}}`".to_owned(),
                    )),
                };
                if let Some((message, hint)) = problem {
                    problems.push((
                        path.clone(),
                        offset,
                        inner.chars().count() + 4,
                        message,
                        hint,
                    ));
                }
            }
        }
    }
    for (path, offset, len, message, hint) in problems {
        at_placeholder(ctx, &path, offset, len, message, hint);
    }
}

/// An error pointing at the placeholder `offset` characters into the string value at `path`.
fn at_placeholder(
    ctx: &mut Ctx,
    path: &YamlPath,
    offset: usize,
    len: usize,
    message: String,
    hint: String,
) {
    let start = ctx.index.content_start(path);
    let d = ctx.at_value(path, message);
    d.location.line = start.line;
    d.location.column = start.column + offset;
    d.len = len;
    d.hint = Some(hint);
}

/// `{{SERVICE}}` placeholders in a URL (a swarm's `url: "{{origin}}/live.m3u8"`) must name a
/// service that answers HTTP; the stack expands them to `http://127.0.0.1:PORT`
/// (`RunningStack::expand_urls`). Returns whether all were valid.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "for the swarm phase's `url:`, validated in the swarm part of issue 5"
    )
)]
pub(crate) fn check_url_placeholders(
    ctx: &mut Ctx,
    stack: &StackInfo,
    path: &YamlPath,
    text: &str,
) -> bool {
    let mut ok = true;
    let web: Vec<&str> = stack
        .stack
        .services
        .values()
        .filter(|s| !http_ports(s).is_empty())
        .map(|s| s.name.as_str())
        .collect();
    for (offset, inner) in placeholders(text) {
        let len = inner.chars().count() + 4;
        let problem = match stack.stack.services.get(inner) {
            Some(_) if web.contains(&inner) => None,
            Some(_) => Some((
                format!("placeholder names service `{inner}`, which has no HTTP port"),
                format!("services with one are {}", backticked(web.iter().copied())),
            )),
            // Written but invalid: reported already.
            None if stack.names.iter().any(|n| n == inner) => {
                ok = false;
                None
            }
            None => Some((
                format!("placeholder names unknown service `{inner}`"),
                match super::diagnostic::did_you_mean(inner, web.iter().copied()) {
                    Some(best) => format!("did you mean `{{{{{best}}}}}`?"),
                    None => format!(
                        "write `{{{{SERVICE}}}}` with one of {}",
                        backticked(web.iter().copied())
                    ),
                },
            )),
        };
        if let Some((message, hint)) = problem {
            ok = false;
            at_placeholder(ctx, path, offset, len, message, hint);
        }
    }
    ok
}

/// `{{…}}` placeholders in `text`: (character offset, inner text trimmed).
fn placeholders(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut consumed = 0;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        out.push((consumed + rest[..start].chars().count(), inner.trim()));
        let next = start + len + 2;
        consumed += rest[..next].chars().count();
        rest = &rest[next..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders() {
        assert_eq!(
            placeholders("--port={{port.http}} x {{ api.http }}"),
            [(7, "port.http"), (23, "api.http")]
        );
        assert!(placeholders("no {{ end").is_empty());
    }

    /// Problems of `url` (written at `url:` under the stack) as `line:column message (hint)`.
    fn url_problems(url: &str) -> Vec<String> {
        let source = format!(
            "stack:\n  services:\n    prometheus: {{ kind: prometheus }}\n    origin: {{ kind: ffmpeg-origin }}\n    worker: {{ kind: process, command: [x] }}\nurl: \"{url}\"\n"
        );
        let index = super::super::locate::SourceIndex::build(&source).unwrap();
        let mut ctx = Ctx::new(index);
        let root: Value = serde_yaml_ng::from_str(&source).unwrap();
        let info = stack(&mut ctx, &root["stack"], &YamlPath::root().key("stack"));
        assert!(ctx.diagnostics.is_empty(), "the stack is valid");
        let ok = check_url_placeholders(&mut ctx, &info, &YamlPath::root().key("url"), url);
        assert_eq!(ok, ctx.diagnostics.is_empty());
        ctx.diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{}:{} {} ({})",
                    d.location.line,
                    d.location.column,
                    d.message,
                    d.hint.as_deref().unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn url_placeholders_name_services_that_answer_http() {
        assert!(url_problems("{{origin}}/live.m3u8").is_empty());
        assert!(url_problems("{{ origin }}/live.m3u8").is_empty());
        assert_eq!(
            url_problems("{{origni}}/live.m3u8"),
            ["6:7 placeholder names unknown service `origni` (did you mean `{{origin}}`?)"]
        );
        assert_eq!(
            url_problems("x{{worker}}/a"),
            [
                "6:8 placeholder names service `worker`, which has no HTTP port (services with one are `prometheus`, `origin`)"
            ]
        );
    }
}

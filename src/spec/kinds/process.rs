//! The `process` service kind: any program of this machine, its named ports (allocated or
//! fixed), environment, readiness check and metrics path (`{{…}}` placeholders in its command
//! and env are checked by `placeholders`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::{Port, ServiceKind};
use crate::spec::decode::Ctx;
use crate::spec::diagnostic::backticked;
use crate::spec::locate::YamlPath;
use crate::spec::raw::Text;
use crate::spec::units::is_identifier;

pub(crate) const KIND: &str = "process";

const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProcess {
    #[expect(
        dead_code,
        reason = "read through RawKind; listed so `kind:` is a known field"
    )]
    pub(crate) kind: String,
    pub(crate) command: Vec<Text>,
    #[serde(default)]
    pub(crate) ports: BTreeMap<String, u16>,
    #[serde(default)]
    pub(crate) env: BTreeMap<String, Text>,
    /// `none` or a [`RawReady`] mapping; told apart by hand (no `untagged`).
    pub(crate) ready: Option<Value>,
    pub(crate) metrics: Option<String>,
    pub(crate) startup_timeout: Option<Text>,
    /// An `otel-collector` or `otlp-to-prometheus` service; injects `OTEL_EXPORTER_OTLP_*`.
    pub(crate) otlp: Option<String>,
    /// Extra OpenTelemetry resource attributes (`OTEL_RESOURCE_ATTRIBUTES`).
    #[serde(default)]
    pub(crate) resource: BTreeMap<String, Text>,
}

/// `{ http: /health }`, `{ http: /health, port: admin }`, `{ tcp: http }` or `{ log: "text" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReady {
    pub(crate) http: Option<String>,
    pub(crate) port: Option<String>,
    pub(crate) tcp: Option<String>,
    pub(crate) log: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessService {
    /// argv; `{{port.NAME}}` and `{{service.PORT}}` placeholders are expanded at start.
    pub command: Vec<String>,
    /// Named ports perfgate allocates (value 0) or fixes (non-zero).
    pub ports: BTreeMap<String, u16>,
    pub env: BTreeMap<String, String>,
    pub ready: ReadyCheck,
    /// Path scraped by Prometheus on the `http` port (or the only port), when the program exports metrics.
    pub metrics_path: Option<String>,
    pub startup_timeout: Duration,
    /// Service receiving the program's OTLP; injects `OTEL_EXPORTER_OTLP_ENDPOINT` and friends.
    pub otlp: Option<String>,
    /// Extra resource attributes for `OTEL_RESOURCE_ATTRIBUTES`.
    pub resource: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReadyCheck {
    /// GET `path` on the named port answers 2xx.
    Http { port: String, path: String },
    /// The named port accepts TCP connections.
    Tcp { port: String },
    /// A line of stdout or stderr contains this text.
    Log { contains: String },
    /// Nothing to wait for.
    None,
}

impl ProcessService {
    /// Every port as declared: each may be a load target, a `{{SERVICE.PORT}}` URL or a check.
    pub(crate) fn ports(&self) -> Vec<Port<'_>> {
        self.ports
            .iter()
            .map(|(name, &number)| Port {
                number,
                ..Port::http(name)
            })
            .collect()
    }
}

pub(crate) fn validate(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<ServiceKind> {
    let raw = ctx.de::<RawProcess>(value, at)?;
    if raw.command.is_empty() {
        ctx.at_value(&at.key("command"), "`command` is empty (hint: write the program and its arguments, e.g. `[python3, -m, http.server]`)");
    }
    let ports = raw.ports;
    let port_names: Vec<&str> = ports.keys().map(String::as_str).collect();
    for name in &port_names {
        if !is_identifier(name) {
            ctx.at_key(
                &at.key("ports").key(name),
                format!("invalid port name `{name}` (hint: use letters, digits, `_` and `-`)"),
            );
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
        } else if default_port(&port_names).is_none() {
            ctx.at_value(&path, "a metrics path needs an `http` port or exactly one port (hint: declare `ports: { http: 0 }`)");
        }
    }
    let startup_timeout = ctx.optional_duration(
        &at.key("startup_timeout"),
        raw.startup_timeout.as_ref().map(|t| t.0.as_str()),
        DEFAULT_STARTUP_TIMEOUT,
    );
    // A service with a problem (already reported) is still returned, with defaults in place of
    // what was wrong, so the checks that look at every service (placeholders, ports) report
    // their problems in the same run; the spec is refused either way.
    Some(ServiceKind::Process(ProcessService {
        command: raw.command.into_iter().map(|t| t.0).collect(),
        env: raw.env.into_iter().map(|(k, v)| (k, v.0)).collect(),
        ready: ready.unwrap_or(ReadyCheck::None),
        metrics_path: raw.metrics,
        startup_timeout: startup_timeout.unwrap_or(DEFAULT_STARTUP_TIMEOUT),
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

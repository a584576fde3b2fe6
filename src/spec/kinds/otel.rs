//! The OpenTelemetry service kinds: `otel-collector` (an OpenTelemetry collector, otelcol or
//! rotel) and `otlp-to-prometheus` (perfgate's own adapter), both OTLP/HTTP receivers that
//! other services name with `otlp:`.

use std::path::PathBuf;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::{Port, ServiceKind};
use crate::spec::decode::Ctx;
use crate::spec::locate::YamlPath;
use crate::spec::raw::Text;

pub(crate) const COLLECTOR: &str = "otel-collector";
pub(crate) const ADAPTER: &str = "otlp-to-prometheus";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOtelCollector {
    #[expect(
        dead_code,
        reason = "read through RawKind; listed so `kind:` is a known field"
    )]
    pub(crate) kind: String,
    pub(crate) export_to: String,
    /// `scrape` or `remote-write`: how the collector's metrics reach `export_to`.
    pub(crate) via: Option<String>,
    pub(crate) implementation: Option<String>,
    pub(crate) binary: Option<PathBuf>,
    pub(crate) image: Option<String>,
    #[serde(default)]
    pub(crate) args: Vec<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOtlpAdapter {
    #[expect(
        dead_code,
        reason = "read through RawKind; listed so `kind:` is a known field"
    )]
    pub(crate) kind: String,
    pub(crate) export: Option<String>,
}

/// An OpenTelemetry collector between OTLP senders and Prometheus.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelCollectorService {
    /// The `prometheus` service the collector's metrics end up in.
    pub export_to: String,
    /// How the metrics reach `export_to`: scraped from the collector (or its companion adapter),
    /// or remote-written into Prometheus.
    pub via: OtlpExportMode,
    pub implementation: CollectorImpl,
    /// Explicit path to an `otelcol-contrib`/`otelcol` or `rotel-agent` binary.
    pub binary: Option<PathBuf>,
    /// The image the docker backend runs it from (an otelcol image unless `implementation:
    /// rotel`); beats `PERFGATE_IMAGE_OTELCOL`/`_ROTEL`. The process backend ignores it.
    pub image: Option<String>,
    pub extra_args: Vec<String>,
}

/// Which collector runs an `otel-collector` service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CollectorImpl {
    /// `otelcol-contrib`/`otelcol` when found, else rotel (provisioned from PyPI).
    #[default]
    Auto,
    Otelcol,
    Rotel,
}

/// perfgate's own OTLP/HTTP → Prometheus adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpAdapterService {
    pub export: OtlpExportMode,
}

/// How translated series reach Prometheus (an adapter's `export:`, a collector's `via:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OtlpExportMode {
    /// Exposed on the adapter's `/metrics` (with OTLP timestamps) and scraped.
    #[default]
    Scrape,
    /// Written to the stack's Prometheus through its remote-write receiver.
    RemoteWrite,
}

impl OtelCollectorService {
    /// OTLP/HTTP in on `otlp`.
    pub(crate) fn ports(&self) -> Vec<Port<'_>> {
        vec![Port::otlp("otlp")]
    }
}

impl OtlpAdapterService {
    /// OTLP/HTTP in (and its `/metrics`) on `http`.
    pub(crate) fn ports(&self) -> Vec<Port<'_>> {
        vec![Port::otlp("http")]
    }
}

const IMPLEMENTATIONS: [&str; 3] = ["auto", "otelcol", "rotel"];
const EXPORT_MODES: [&str; 2] = ["scrape", "remote-write"];

pub(crate) fn collector(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<ServiceKind> {
    let raw = ctx.de::<RawOtelCollector>(value, at)?;
    let implementation = match raw.implementation.as_deref() {
        None | Some("auto") => CollectorImpl::Auto,
        Some("otelcol") => CollectorImpl::Otelcol,
        Some("rotel") => CollectorImpl::Rotel,
        Some(other) => {
            ctx.unknown_name(
                &at.key("implementation"),
                "collector implementation",
                other,
                &IMPLEMENTATIONS,
            );
            return None;
        }
    };
    let via = export_mode(ctx, raw.via.as_deref(), &at.key("via"))?;
    Some(ServiceKind::OtelCollector(OtelCollectorService {
        export_to: raw.export_to,
        via,
        implementation,
        binary: raw.binary,
        image: raw.image,
        extra_args: raw.args.into_iter().map(|t| t.0).collect(),
    }))
}

pub(crate) fn adapter(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<ServiceKind> {
    let raw = ctx.de::<RawOtlpAdapter>(value, at)?;
    let export = export_mode(ctx, raw.export.as_deref(), &at.key("export"))?;
    Some(ServiceKind::OtlpAdapter(OtlpAdapterService { export }))
}

/// An adapter's `export:` or a collector's `via:` (default `scrape`).
fn export_mode(ctx: &mut Ctx, written: Option<&str>, at: &YamlPath) -> Option<OtlpExportMode> {
    match written {
        None | Some("scrape") => Some(OtlpExportMode::Scrape),
        Some("remote-write") => Some(OtlpExportMode::RemoteWrite),
        Some(other) => {
            ctx.unknown_name(at, "export mode", other, &EXPORT_MODES);
            None
        }
    }
}

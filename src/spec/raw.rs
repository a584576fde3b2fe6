//! Raw serde shapes of a spec file (pass 1): the YAML as written, units still strings.
//!
//! Collections of independent items (services, phases, mix entries, assertions) stay
//! `serde_yaml_ng::Value`s here and are deserialized one by one, so one broken item does not hide
//! the problems of the others. Kinds are dispatched by hand rather than with internally tagged
//! enums, which buffer their content and lose the path of an error.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_yaml_ng::Value;

/// A scalar kept as text: strings as written, numbers and booleans as YAML spelled them, so that
/// `duration: 10` can be reported as a missing unit rather than a type mismatch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Text(pub(crate) String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpec {
    pub(crate) version: Option<u64>,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) stack: Option<Value>,
    #[serde(default)]
    pub(crate) load: Vec<Value>,
    #[serde(default)]
    pub(crate) assert: Vec<Value>,
    /// Each entry is a [`RawSnapshot`], read on its own.
    #[serde(default)]
    pub(crate) snapshot: Vec<Value>,
    /// Folder of the snapshot files, relative to the spec file.
    pub(crate) snapshot_dir: Option<String>,
    /// A [`RawCompare`], read on its own.
    pub(crate) compare: Option<Value>,
    /// Runs of the phases, each judged on its own and all together.
    pub(crate) repeat: Option<u32>,
}

/// `compare:`: one service of the stack in two variants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCompare {
    pub(crate) service: String,
    /// Keys merged over the service's own for the base (a mapping, checked by hand).
    pub(crate) base: Option<Value>,
    /// Keys merged over the service's own for the candidate (a mapping, checked by hand).
    pub(crate) candidate: Value,
    pub(crate) repeat: Option<u32>,
    pub(crate) seed: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStack {
    #[serde(default)]
    pub(crate) backend: RawBackend,
    #[serde(default)]
    pub(crate) services: IndexMap<String, Value>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawBackend {
    #[default]
    Auto,
    Process,
    Docker,
}

/// Service kinds as written in `kind:`; the ones reserved for later are listed so an unknown
/// kind's error can tell them apart from typos.
pub(crate) const SERVICE_KINDS: [&str; 6] = [
    "prometheus",
    "demo-api",
    "process",
    "otel-collector",
    "otlp-to-prometheus",
    "ffmpeg-origin",
];

/// Only peeks at `kind:`; the rest of the service is read by the kind's own shape.
#[derive(Debug, Deserialize)]
pub(crate) struct RawKind {
    pub(crate) kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrometheus {
    #[expect(
        dead_code,
        reason = "read through RawKind; listed so `kind:` is a known field"
    )]
    pub(crate) kind: String,
    pub(crate) scrape_interval: Option<Text>,
    pub(crate) binary: Option<PathBuf>,
    pub(crate) image: Option<String>,
    #[serde(default)]
    pub(crate) args: Vec<Text>,
    pub(crate) gates: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDemoApi {
    #[expect(
        dead_code,
        reason = "read through RawKind; listed so `kind:` is a known field"
    )]
    pub(crate) kind: String,
    pub(crate) seed: Option<u64>,
    pub(crate) latency_factor: Option<f64>,
    pub(crate) error_factor: Option<f64>,
    pub(crate) cpu_factor: Option<f64>,
    /// An `otel-collector` or `otlp-to-prometheus` service to export OTLP to.
    pub(crate) otlp: Option<String>,
    pub(crate) export_interval: Option<Text>,
}

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

/// A live HLS origin: FFmpeg encoding into a rolling playlist, served by perfgate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFfmpegOrigin {
    #[expect(
        dead_code,
        reason = "read through RawKind; listed so `kind:` is a known field"
    )]
    pub(crate) kind: String,
    /// `testsrc` (default) or `file`.
    pub(crate) source: Option<String>,
    /// The media file looped by `source: file`, relative to the spec's folder.
    pub(crate) path: Option<PathBuf>,
    pub(crate) resolution: Option<Text>,
    pub(crate) fps: Option<u32>,
    pub(crate) segment: Option<Text>,
    pub(crate) window: Option<u32>,
    pub(crate) bitrate: Option<Text>,
    pub(crate) binary: Option<PathBuf>,
    pub(crate) faults: Option<RawOriginFaults>,
}

/// Degradations the origin applies per request, to show that gates catch them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOriginFaults {
    pub(crate) latency: Option<Text>,
    pub(crate) jitter: Option<Text>,
    pub(crate) error_rate: Option<Text>,
    pub(crate) status: Option<u16>,
    pub(crate) applies_to: Option<String>,
    pub(crate) segment_404_after: Option<Text>,
    pub(crate) seed: Option<u64>,
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

/// One entry of `load:`: a name plus exactly one kind key (`http`, `pause`, `replicate`,
/// `freshness`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhase {
    pub(crate) phase: String,
    pub(crate) http: Option<RawHttp>,
    pub(crate) pause: Option<Text>,
    pub(crate) replicate: Option<RawReplicate>,
    pub(crate) freshness: Option<RawFreshness>,
    pub(crate) swarm: Option<RawSwarm>,
}

pub(crate) const PHASE_KINDS: [&str; 5] = ["http", "pause", "replicate", "freshness", "swarm"];

/// A swarm of FFmpeg HLS clients.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSwarm {
    pub(crate) client: Option<String>,
    pub(crate) url: String,
    pub(crate) clients: u32,
    pub(crate) ramp: Option<Text>,
    pub(crate) duration: Text,
    pub(crate) stall_after: Option<Text>,
    pub(crate) restart: Option<RawRestart>,
    pub(crate) decode: Option<bool>,
    pub(crate) per_client_metrics: Option<bool>,
    pub(crate) media_window: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRestart {
    pub(crate) max: Option<u32>,
    pub(crate) backoff: Option<Text>,
}

/// How long the load's requests take to become queryable (right after an `http` phase).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFreshness {
    pub(crate) query: String,
    pub(crate) paths: Option<String>,
    pub(crate) timeout: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReplicate {
    pub(crate) from: String,
    pub(crate) to: String,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, Text>,
    pub(crate) bearer_token_env: Option<String>,
    #[serde(rename = "match", default)]
    pub(crate) matchers: Vec<String>,
    #[serde(default)]
    pub(crate) exclude: Vec<String>,
    pub(crate) lookback: Option<Text>,
    pub(crate) step: Option<Text>,
    /// Name → a count or a list of values; told apart by hand (no `untagged`).
    #[serde(default)]
    pub(crate) labels: IndexMap<String, Value>,
    pub(crate) rate: Option<Text>,
    pub(crate) batch: Option<usize>,
    pub(crate) concurrency: Option<usize>,
    pub(crate) time_shift: Option<bool>,
    pub(crate) dry_run: Option<bool>,
    pub(crate) timeout: Option<Text>,
    pub(crate) hold: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttp {
    pub(crate) target: String,
    pub(crate) rate: Text,
    pub(crate) ramp: Option<RawRamp>,
    pub(crate) duration: Text,
    pub(crate) max_in_flight: Option<usize>,
    pub(crate) timeout: Option<Text>,
    /// Each entry is a [`RawRequest`], read on its own.
    pub(crate) mix: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRamp {
    pub(crate) from: Text,
    pub(crate) over: Text,
}

/// One weighted request; the method is the key holding the path (exactly one of them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    pub(crate) weight: Option<u32>,
    pub(crate) get: Option<String>,
    pub(crate) post: Option<String>,
    pub(crate) put: Option<String>,
    pub(crate) delete: Option<String>,
    pub(crate) json: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAssertion {
    pub(crate) name: String,
    pub(crate) during: Option<String>,
    /// PromQL; an assertion has this or `client`.
    #[serde(default)]
    pub(crate) query: Option<String>,
    /// `p50`, `p99`, …: the HTTP engine's exact statistic of the `during` phase.
    pub(crate) client: Option<String>,
    pub(crate) expect: Text,
    #[serde(rename = "for", default)]
    pub(crate) series: RawSeriesMode,
    #[serde(default)]
    pub(crate) eval: RawEvalMode,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) enum RawSeriesMode {
    #[default]
    #[serde(rename = "aggregate")]
    Aggregate,
    #[serde(rename = "each series")]
    EachSeries,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) enum RawEvalMode {
    #[default]
    #[serde(rename = "at end")]
    AtEnd,
    #[serde(rename = "throughout")]
    Throughout,
}

/// One entry of `snapshot:`: a query whose per-series results are kept in a snapshot file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnapshot {
    pub(crate) name: String,
    pub(crate) during: Option<String>,
    pub(crate) query: String,
    pub(crate) tolerance: Option<Text>,
}

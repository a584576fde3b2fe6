//! Raw serde shapes of a spec file (pass 1): the YAML as written, units still strings.
//!
//! Collections of independent items (services, phases, mix entries, assertions) stay
//! `serde_yaml_ng::Value`s here and are deserialized one by one, so one broken item does not hide
//! the problems of the others. Kinds are dispatched by hand rather than with internally tagged
//! enums, which buffer their content and lose the path of an error.

use std::collections::BTreeMap;
use std::fmt;

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
    /// Upper bounds of the client latency histogram, durations (read by `buckets`).
    pub(crate) latency_buckets: Option<Vec<Value>>,
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

/// Only peeks at `kind:`; the rest of the service is read by the kind's own shape.
#[derive(Debug, Deserialize)]
pub(crate) struct RawKind {
    pub(crate) kind: String,
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
    /// The built-in health verdict's limits, or `off` (read by `delivery`).
    pub(crate) delivered: Option<Value>,
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
    /// Each value a string, `{ env: NAME }` or `{ file: PATH }` (read by `secret::header_text`).
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, Value>,
    /// `{ bearer: … }` or `{ basic: … }` (read by `secret::auth`).
    pub(crate) auth: Option<Value>,
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
    pub(crate) give_up_after: Option<Text>,
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
    /// `{ bearer: … }` or `{ basic: … }` (read by `secret::auth`).
    pub(crate) auth: Option<Value>,
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
    /// Each value a string, `{ env: NAME }` or `{ file: PATH }` (read by `secret::header_text`).
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, Value>,
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

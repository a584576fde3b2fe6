//! The `demo-api` service kind: perfgate's built-in instrumented API, its factors (latency,
//! errors, CPU work) and its optional OTLP export.

use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::{Port, ServiceKind};
use crate::spec::decode::Ctx;
use crate::spec::limits::check_cpu_factor;
use crate::spec::locate::YamlPath;
use crate::spec::raw::Text;

pub(crate) const KIND: &str = "demo-api";

const DEFAULT_EXPORT_INTERVAL: Duration = Duration::from_secs(1);

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

#[derive(Debug, Clone, PartialEq)]
pub struct DemoApiService {
    /// Seed of the API's latency and error randomness.
    pub seed: u64,
    /// Multiplies every simulated latency (1.0 = as documented; 2.0 seeds a regression).
    pub latency_factor: f64,
    /// Multiplies every simulated error probability (0.0 = no injected errors).
    pub error_factor: f64,
    /// Multiplies the CPU work of GET /api/work (1.0 = about 2 ms per unit; 1.2 seeds a 20 %
    /// CPU regression). Finite, > 0, at most [`MAX_CPU_FACTOR`](crate::spec::MAX_CPU_FACTOR).
    pub cpu_factor: f64,
    /// Service receiving the API's OTLP export; `None` = Prometheus scrapes `/metrics`.
    pub otlp: Option<String>,
    /// How often the OTLP exporter sends (cumulative) metrics.
    pub export_interval: Duration,
}

impl DemoApiService {
    pub(crate) fn ports(&self) -> Vec<Port<'_>> {
        vec![Port::http("http")]
    }
}

pub(crate) fn validate(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<ServiceKind> {
    let raw = ctx.de::<RawDemoApi>(value, at)?;
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
    let cpu_factor = match check_cpu_factor(raw.cpu_factor.unwrap_or(1.0)) {
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
        DEFAULT_EXPORT_INTERVAL,
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

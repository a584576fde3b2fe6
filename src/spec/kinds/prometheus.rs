//! The `prometheus` service kind: its shape, its validation and its model (`gates:` is chosen
//! across the stack by `services::choose_gating`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::{Port, ServiceKind};
use crate::spec::decode::Ctx;
use crate::spec::locate::YamlPath;
use crate::spec::raw::Text;

pub(crate) const KIND: &str = "prometheus";

const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

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

#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusService {
    /// Global scrape interval (and evaluation interval) of the generated config.
    pub scrape_interval: Duration,
    /// Explicit path to a `prometheus` binary; beats `PERFGATE_PROMETHEUS`, PATH and the cache.
    pub binary: Option<PathBuf>,
    /// The image the docker backend runs it from, instead of one built from the local binary;
    /// beats `PERFGATE_IMAGE_PROMETHEUS`. The process backend ignores it.
    pub image: Option<String>,
    /// Extra command-line flags passed through verbatim.
    pub extra_args: Vec<String>,
    /// The Prometheus that assertions and snapshots query (exactly one per stack: the one
    /// written `gates: true`, else the first not written `gates: false`).
    pub gates: bool,
}

impl PrometheusService {
    pub(crate) fn ports(&self) -> Vec<Port<'_>> {
        vec![Port::http("http")]
    }
}

pub(crate) fn validate(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<ServiceKind> {
    let raw = ctx.de::<RawPrometheus>(value, at)?;
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

//! The service kinds, one file each (its raw shape, validation, model and ports): the list of
//! kinds is declared here once — its module, its `ServiceKind` variant, its `kind:` name and
//! validator in [`KINDS`], and one arm in each of `name` and `ports`. What a stack does with a
//! kind is planned by `stack::plan::kinds`.

mod demo_api;
mod origin;
mod otel;
mod process;
mod prometheus;

pub use demo_api::DemoApiService;
pub use origin::{FaultTarget, FfmpegOriginService, OriginFaults, OriginSource};
pub use otel::{CollectorImpl, OtelCollectorService, OtlpAdapterService, OtlpExportMode};
pub use process::{ProcessService, ReadyCheck};
pub use prometheus::PrometheusService;

use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::locate::YamlPath;

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceKind {
    Prometheus(PrometheusService),
    DemoApi(DemoApiService),
    Process(ProcessService),
    OtelCollector(OtelCollectorService),
    OtlpAdapter(OtlpAdapterService),
    FfmpegOrigin(FfmpegOriginService),
}

/// A kind's validation: the service's YAML → its model; `None` when it is invalid (reported).
pub(crate) type Validate = fn(&mut Ctx, &Value, &YamlPath) -> Option<ServiceKind>;

/// Every kind as written in `kind:`, with its validation, in the order error hints list them.
pub(crate) const KINDS: [(&str, Validate); 6] = [
    (prometheus::KIND, prometheus::validate),
    (demo_api::KIND, demo_api::validate),
    (process::KIND, process::validate),
    (otel::COLLECTOR, otel::collector),
    (otel::ADAPTER, otel::adapter),
    (origin::KIND, origin::validate),
];

impl ServiceKind {
    /// The kind as written in `kind:`.
    pub fn name(&self) -> &'static str {
        match self {
            ServiceKind::Prometheus(_) => prometheus::KIND,
            ServiceKind::DemoApi(_) => demo_api::KIND,
            ServiceKind::Process(_) => process::KIND,
            ServiceKind::OtelCollector(_) => otel::COLLECTOR,
            ServiceKind::OtlpAdapter(_) => otel::ADAPTER,
            ServiceKind::FfmpegOrigin(_) => origin::KIND,
        }
    }

    /// The service's named ports, in a stable order.
    pub fn ports(&self) -> Vec<Port<'_>> {
        match self {
            ServiceKind::Prometheus(s) => s.ports(),
            ServiceKind::DemoApi(s) => s.ports(),
            ServiceKind::Process(s) => s.ports(),
            ServiceKind::OtelCollector(s) => s.ports(),
            ServiceKind::OtlpAdapter(s) => s.ports(),
            ServiceKind::FfmpegOrigin(s) => s.ports(),
        }
    }

    /// Whether a service of this kind works with no load on it (an encoder producing a live
    /// stream), or may (a program perfgate does not know): its bring-up would disturb another
    /// run's load (`RunOptions::load_turns`).
    pub fn works_unloaded(&self) -> bool {
        match self {
            ServiceKind::FfmpegOrigin(_) | ServiceKind::Process(_) => true,
            ServiceKind::Prometheus(_)
            | ServiceKind::DemoApi(_)
            | ServiceKind::OtelCollector(_)
            | ServiceKind::OtlpAdapter(_) => false,
        }
    }

    /// Whether services can send OTLP to this one (`otlp: NAME`).
    pub fn receives_otlp(&self) -> bool {
        self.ports().iter().any(|p| p.otlp)
    }
}

/// A named port of a service: what `{{SERVICE.PORT}}` names, what the stack allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port<'a> {
    pub name: &'a str,
    /// Fixed as written (`kind: process`), or 0: a free loopback port is allocated.
    pub number: u16,
    /// It answers HTTP: it may be a load target, a `{{SERVICE.PORT}}` in a URL, a check.
    pub http: bool,
    /// The service's OTLP/HTTP receiver, the address `otlp: NAME` senders export to.
    pub otlp: bool,
}

impl<'a> Port<'a> {
    /// An allocated port that answers HTTP.
    pub(crate) fn http(name: &'a str) -> Self {
        Self {
            name,
            number: 0,
            http: true,
            otlp: false,
        }
    }

    /// An allocated port that receives OTLP over HTTP.
    pub(crate) fn otlp(name: &'a str) -> Self {
        Self {
            otlp: true,
            ..Self::http(name)
        }
    }
}

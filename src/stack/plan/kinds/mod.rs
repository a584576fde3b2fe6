//! One planner per service kind (`prometheus`: every Prometheus scrapes every target;
//! `demo_api`; `otel`: OTLP adapter, collectors, `OTEL_*` injection, with `otelcol`: the
//! generated config; `origin`; `external`: `kind: process`). Each says which tools its kind
//! runs and plans a service of it into `Planned` values; the kinds are dispatched here, one arm
//! each in `tools` and `plan`.

mod demo_api;
mod external;
mod origin;
mod otel;
mod otelcol;
pub mod prometheus;

use crate::spec::ServiceKind;
use crate::stack::error::StackError;
use crate::stack::need::ToolNeed;
use crate::stack::plan::context::PlanContext;
use crate::stack::plan::model::{Part, ScrapeTarget};

/// What planning one service gives: its part of the stack, or (a Prometheus) a plan finished
/// once every scrape target is known, and how it is scraped itself.
pub(crate) enum Planning {
    Part(Part),
    Prometheus(Box<prometheus::PendingPrometheus>, ScrapeTarget),
}

/// The tools a service of this kind runs (resolved by `choose` and the planners).
pub(crate) fn tools(kind: &ServiceKind) -> Vec<ToolNeed> {
    match kind {
        ServiceKind::Prometheus(s) => prometheus::tools(s),
        ServiceKind::DemoApi(_) => Vec::new(),
        ServiceKind::Process(_) => Vec::new(),
        ServiceKind::OtelCollector(s) => otel::collector_tools(s),
        ServiceKind::OtlpAdapter(_) => Vec::new(),
        ServiceKind::FfmpegOrigin(s) => origin::tools(s),
    }
}

/// Plans the service `name` of this kind against the addresses allocated up front.
pub(crate) fn plan(
    name: &str,
    kind: &ServiceKind,
    ctx: &PlanContext<'_>,
) -> Result<Planning, StackError> {
    match kind {
        ServiceKind::Prometheus(s) => prometheus::plan(name, s, ctx),
        ServiceKind::DemoApi(s) => demo_api::plan(name, s, ctx),
        ServiceKind::Process(s) => external::plan(name, s, ctx),
        ServiceKind::OtelCollector(s) => otel::plan_collector(name, s, ctx),
        ServiceKind::OtlpAdapter(s) => otel::plan_otlp_adapter(name, s, ctx),
        ServiceKind::FfmpegOrigin(s) => origin::plan(name, s, ctx),
    }
}

//! `plan`: every service of a spec planned for a backend, by kind, in start order; every
//! Prometheus last, once every scrape target is known.

use std::path::Path;
use std::time::Duration;

use super::context::PlanContext;
use super::demo_api::plan_demo_api;
use super::external::plan_external;
use super::model::{Part, ScrapeTarget, StackPlan};
use super::origin::plan_origin;
use super::otel::{plan_collector, plan_otlp_adapter};
use super::prometheus;
use crate::spec::{ServiceKind, Spec};
use crate::stack::backend::Backend;
use crate::stack::error::StackError;

/// Plans every service of `spec` into `run_dir` for `backend`: resolves tools (fail fast; under
/// docker a tool missing here may come from its image), allocates every port, builds command
/// lines and writes generated configs (Prometheus's included). `extra_targets`: what every
/// Prometheus scrapes besides the stack (the load engines' own metrics).
pub(crate) fn plan(
    spec: &Spec,
    extra_targets: &[ScrapeTarget],
    run_dir: &Path,
    backend: Backend,
) -> Result<StackPlan, StackError> {
    std::fs::create_dir_all(run_dir).map_err(|source| StackError::RunDir {
        path: run_dir.to_owned(),
        source,
    })?;
    let ctx = PlanContext::new(spec, run_dir, backend)?;
    let mut apps = Part::default();
    let mut proms = Vec::new();
    for (name, service) in &spec.stack.services {
        let part = match &service.kind {
            ServiceKind::Prometheus(p) => {
                let (pending, target) = prometheus::resolve(name, p, &ctx)?;
                proms.push(pending);
                Part {
                    services: Vec::new(),
                    targets: vec![target],
                }
            }
            ServiceKind::DemoApi(d) => plan_demo_api(name, d, &ctx)?,
            ServiceKind::OtlpAdapter(a) => plan_otlp_adapter(name, a, &ctx)?,
            ServiceKind::OtelCollector(c) => plan_collector(name, c, &ctx)?,
            ServiceKind::FfmpegOrigin(o) => plan_origin(name, o, &ctx)?,
            ServiceKind::Process(p) => plan_external(name, p, &ctx)?,
        };
        apps.services.extend(part.services);
        apps.targets.extend(part.targets);
    }
    apps.services.sort_by_key(|(rank, _)| *rank);
    let mut targets = apps.targets;
    targets.extend(extra_targets.iter().cloned());
    let mut plan = StackPlan {
        services: apps.services.into_iter().map(|(_, p)| p).collect(),
        prometheus: None,
        scrape_interval: Duration::from_secs(1),
        scrape_targets: 0,
    };
    // Every Prometheus scrapes every target, each other included; the gating one is the one
    // assertions query and remote-writing adapters write to.
    for pending in proms {
        if ctx.gating == Some(pending.name()) {
            plan.scrape_interval = pending.scrape_interval();
            plan.prometheus = Some(pending.addr());
            plan.scrape_targets = targets.len();
        }
        plan.services.push(pending.plan(&targets, run_dir)?);
    }
    Ok(plan)
}

//! `plan`: every service of a spec planned for a backend, by kind (`kinds::plan`), in start
//! order; every Prometheus last, once every scrape target is known. `needed_tools`: what the
//! spec's services and phases run.

use std::path::Path;
use std::time::Duration;

use super::context::PlanContext;
use super::kinds::{self, Planning};
use super::model::{Part, ScrapeTarget, StackPlan};
use crate::stack::ports::Reserved;
use crate::spec::{PhaseKind, Spec};
use crate::stack::backend::Backend;
use crate::stack::error::StackError;
use crate::stack::need::ToolNeed;

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
        match kinds::plan(name, &service.kind, &ctx)? {
            Planning::Part(part) => {
                apps.services.extend(part.services);
                apps.targets.extend(part.targets);
            }
            Planning::Prometheus(pending, target) => {
                proms.push(pending);
                apps.targets.push(target);
            }
        }
    }
    apps.services.sort_by_key(|(rank, _)| *rank);
    let mut targets = apps.targets;
    targets.extend(extra_targets.iter().cloned());
    let mut plan = StackPlan {
        services: apps.services.into_iter().map(|(_, p)| p).collect(),
        prometheus: None,
        scrape_interval: Duration::from_secs(1),
        scrape_targets: 0,
        reserved: Reserved::default(),
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
    plan.reserved = ctx.reserved.into_inner();
    Ok(plan)
}

/// The tools a run of `spec` resolves: its services', and FFmpeg for a swarm's clients.
pub(crate) fn needed_tools(spec: &Spec) -> Vec<ToolNeed> {
    let mut needed = Vec::new();
    for service in spec.stack.services.values() {
        needed.extend(kinds::tools(&service.kind));
    }
    if spec
        .phases
        .iter()
        .any(|p| matches!(p.kind, PhaseKind::Swarm(_)))
    {
        needed.push(ToolNeed::ffmpeg(None));
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_a_spec_needs_include_its_phases() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let names = |spec: &str| -> Vec<&str> {
            let spec = crate::spec::load(&root.join(spec)).expect("a valid spec");
            needed_tools(&spec).iter().map(|n| n.tool.name).collect()
        };
        assert_eq!(names("specs/quickstart.yaml"), ["prometheus"]);
        // The origin's encoder and the swarm's clients.
        let mut swarm = names("specs/hls-swarm.yaml");
        swarm.sort_unstable();
        assert_eq!(swarm, ["ffmpeg", "ffmpeg", "prometheus"]);
    }
}

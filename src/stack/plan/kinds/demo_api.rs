//! Planning a `demo-api` service: the built-in instrumented API on its loopback port, exporting
//! over OTLP to a receiver (`otlp:`) or scraped on `/metrics`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::stack::plan::context::PlanContext;
use crate::stack::plan::model::{Part, Planned, Program, Rank, ScrapeTarget};
use super::Planning;
use crate::demo_api::{DemoApiConfig, OtlpExport};
use crate::spec::DemoApiService;
use crate::stack::builtin;
use crate::stack::error::{StackError, io};
use crate::stack::ready::Readiness;

const STARTUP: Duration = Duration::from_secs(15);

pub(crate) fn plan(
    name: &str,
    d: &DemoApiService,
    ctx: &PlanContext<'_>,
) -> Result<Planning, StackError> {
    let addr = ctx.port(name, "http")?;
    let (otlp, target) = match &d.otlp {
        Some(receiver) => {
            let export = OtlpExport {
                endpoint: ctx.receivers.endpoint(receiver).map_err(io(name))?,
                interval: d.export_interval,
                service_name: name.to_owned(),
                instance: addr.to_string(),
            };
            (Some(export), None)
        }
        // With OTLP on, the same series arrive through the receiver; scraping `/metrics` as
        // well would duplicate them.
        None => {
            let target = ScrapeTarget::metrics(name, addr, false);
            (None, Some(target))
        }
    };
    let config = DemoApiConfig {
        listen: addr,
        seed: d.seed,
        latency_factor: d.latency_factor,
        error_factor: d.error_factor,
        cpu_factor: d.cpu_factor,
        otlp,
    };
    let env = builtin::demo_api(&config);
    let planned = Planned {
        name: name.to_owned(),
        kind: "demo-api",
        program: Program::Builtin { tool: None },
        args: Vec::new(),
        env,
        ports: BTreeMap::from([("http".to_string(), addr)]),
        ready: Readiness::Http {
            addr,
            path: "/health".into(),
        },
        timeout: STARTUP,
    };
    Ok(Planning::Part(Part::one(Rank::App, planned, target)))
}

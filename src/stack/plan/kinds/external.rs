//! Planning a `kind: process` service: a program of this machine on its allocated ports, with
//! `{{port.NAME}}` (its own ports) and `{{SERVICE.PORT}}` (another service's) expanded to port
//! numbers in its argv and env, `OTEL_*` injected when it names a receiver with `otlp:`.

use crate::stack::plan::context::PlanContext;
use crate::stack::plan::model::{Part, Planned, Program, Rank, ScrapeTarget};
use super::Planning;
use super::otel::otel_env;
use crate::spec::placeholders;
use crate::spec::{ProcessService, ReadyCheck};
use crate::stack::error::{StackError, io};
use crate::stack::ports::http_port;
use crate::stack::ready::Readiness;

pub(crate) fn plan(
    name: &str,
    p: &ProcessService,
    ctx: &PlanContext<'_>,
) -> Result<Planning, StackError> {
    let planned = planned(name, p, ctx).map_err(io(name))?;
    let target = match (&p.metrics_path, http_port(&planned.ports)) {
        (Some(path), Some(addr)) => Some(ScrapeTarget {
            job: name.to_owned(),
            addr,
            path: path.clone(),
            honor_labels: false,
        }),
        _ => None,
    };
    Ok(Planning::Part(Part::one(Rank::App, planned, target)))
}

fn planned(name: &str, p: &ProcessService, ctx: &PlanContext<'_>) -> std::io::Result<Planned> {
    let ports = ctx.addresses.get(name).cloned().unwrap_or_default();
    let lookup = |inner: &str| {
        let (service, port) = inner.split_once('.')?;
        let service = if service == "port" { name } else { service };
        Some(ctx.addresses.get(service)?.get(port)?.port().to_string())
    };
    let expand = |s: &str| placeholders::expand(s, lookup);
    let (program, args) = p
        .command
        .split_first()
        .ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut env = std::collections::BTreeMap::new();
    if let Some(receiver) = &p.otlp {
        let endpoint = ctx.receivers.endpoint(receiver)?;
        for (k, v) in otel_env(name, &endpoint, &p.resource) {
            env.insert(k.to_owned(), v);
        }
    }
    for (k, v) in &p.env {
        env.insert(k.clone(), expand(v));
    }
    let port_addr = |port: &str| {
        ports
            .get(port)
            .copied()
            .ok_or_else(|| std::io::Error::other(format!("no port named `{port}`")))
    };
    let ready = match &p.ready {
        ReadyCheck::Http { port, path } => Readiness::Http {
            addr: port_addr(port)?,
            path: path.clone(),
        },
        ReadyCheck::Tcp { port } => Readiness::Tcp(port_addr(port)?),
        ReadyCheck::Log { contains } => Readiness::Log(contains.clone()),
        ReadyCheck::None => Readiness::Started,
    };
    Ok(Planned {
        name: name.to_owned(),
        kind: "process",
        program: Program::External(expand(program)),
        args: args.iter().map(|a| expand(a)).collect(),
        env,
        ports,
        ready,
        timeout: p.startup_timeout,
    })
}

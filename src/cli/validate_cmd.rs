//! `perfgate validate`, `perfgate list` and `perfgate tools`.
//!
//! PromQL is checked by a real, throwaway Prometheus (started with no scrape targets through
//! the same process backend as a run): its parser is the one the gates will meet.

use std::path::Path;

use indexmap::IndexMap;

use super::args::{SpecArgs, ToolsArgs, ValidateArgs};
use crate::error::Exit;
use crate::prom::{PromClient, PromError};
use crate::spec::{
    self, Assertion, BackendChoice, Diagnostic, Location, PrometheusService, Service, ServiceKind,
    Spec, SpecError, Stack,
};
use crate::stack::{self, StackOptions};
use crate::tools;

pub fn validate(args: ValidateArgs) -> Exit {
    let mut specs = Vec::new();
    let mut exit = Exit::Success;
    for path in &args.specs {
        match spec::load(path) {
            Ok(s) => specs.push(s),
            Err(e) => {
                eprintln!("{e}");
                exit = Exit::InvalidSpec;
            }
        }
    }
    if !args.offline && specs.iter().any(|s| !s.assertions.is_empty()) {
        match check_promql(&specs) {
            Ok(errors) => {
                for e in errors {
                    eprintln!("{e}");
                    exit = Exit::InvalidSpec;
                }
            }
            Err(e) => {
                eprintln!("error: cannot check PromQL: {e}\n  hint: `--offline` skips that check");
                return Exit::StackFailed;
            }
        }
    }
    for s in &specs {
        if exit == Exit::Success {
            println!(
                "{}: ok ({} services, {} phases, {} assertions)",
                s.path.display(),
                s.stack.services.len(),
                s.phases.len(),
                s.assertions.len()
            );
        }
    }
    exit
}

/// Asks a throwaway Prometheus to parse every query; one `SpecError` per spec with rejects.
fn check_promql(specs: &[Spec]) -> Result<Vec<SpecError>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        let probe = promql_probe_spec();
        let stack = stack::start(
            &probe,
            &StackOptions {
                run_dir: scratch.path().to_owned(),
                ..StackOptions::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        let client = PromClient::new(stack.prometheus().ok_or("no prometheus")?);
        let mut errors = Vec::new();
        for spec in specs {
            let mut diagnostics = Vec::new();
            for a in spec.assertions.iter().filter(|a| a.client.is_none()) {
                // `99999s` has the length of `$phase`, so Prometheus's columns stay those of the file.
                let query = spec::expand_phase(&a.query, "99999s");
                match client.query(&query, Some(0.0)).await {
                    Err(PromError::Rejected { message, .. }) => {
                        diagnostics.push(promql_diagnostic(a, &message));
                    }
                    Err(e) => return Err(e.to_string()),
                    Ok(_) => {}
                }
            }
            if !diagnostics.is_empty() {
                let source = std::fs::read_to_string(&spec.path).unwrap_or_default();
                errors.push(SpecError::new(spec.path.clone(), source, diagnostics));
            }
        }
        stack.shutdown().await.map_err(|e| e.to_string())?;
        Ok(errors)
    })
}

fn promql_probe_spec() -> Spec {
    let service = Service {
        name: "promql-check".into(),
        kind: ServiceKind::Prometheus(PrometheusService {
            scrape_interval: std::time::Duration::from_secs(60),
            binary: None,
            image: None,
            extra_args: Vec::new(),
            gates: true,
        }),
    };
    Spec {
        name: "promql-check".into(),
        description: None,
        path: "promql-check".into(),
        stack: Stack {
            backend: BackendChoice::Process,
            services: IndexMap::from([(service.name.clone(), service)]),
        },
        phases: Vec::new(),
        assertions: Vec::new(),
        snapshots: Vec::new(),
        snapshot_dir: "snapshots".into(),
        comparison: None,
        repeat: 1,
        latency_buckets: Vec::new(),
    }
}

/// Maps Prometheus's `L:C: parse error: …` inside the query to a position in the spec file.
/// An error past the end (e.g. an unclosed parenthesis) points at the query's last character.
fn promql_diagnostic(a: &Assertion, message: &str) -> Diagnostic {
    let detail = message
        .split_once("\"query\": ")
        .map_or(message, |(_, rest)| rest);
    let mut location = a.query_location;
    let mut parts = detail.splitn(3, ':');
    if let (Some(l), Some(c), Some(_)) = (parts.next(), parts.next(), parts.next())
        && let (Ok(l), Ok(c)) = (l.trim().parse::<usize>(), c.trim().parse::<usize>())
    {
        let lines: Vec<&str> = a.query.trim_end().lines().collect();
        let (line, column) = if l > lines.len() {
            let last = lines.len().max(1);
            (last, lines.last().map_or(1, |t| t.chars().count()))
        } else {
            (l.max(1), c.max(1))
        };
        location = Location {
            line: a.query_location.line + line - 1,
            column: a.query_location.column + column - 1,
        };
    }
    Diagnostic::new(
        location,
        1,
        format!("prometheus rejects this query: {detail}"),
    )
    .with_hint("check the PromQL; `$phase` is replaced by the window length")
}

pub fn list(args: SpecArgs) -> Exit {
    let mut exit = Exit::Success;
    for path in &args.specs {
        match spec::load(path) {
            Ok(s) => {
                for a in &s.assertions {
                    println!("{}::{}: test", s.name, a.id);
                }
                for id in s.delivery_ids() {
                    println!("{}::{id}: test", s.name);
                }
                for q in &s.snapshots {
                    println!("{}::snapshot::{}: test", s.name, q.id);
                }
            }
            Err(e) => {
                eprintln!("{e}");
                exit = Exit::InvalidSpec;
            }
        }
    }
    exit
}

/// Resolves each listed tool (or the ones named), printing one line per tool; fails when any
/// cannot be had.
pub fn tools(args: &ToolsArgs) -> Exit {
    let known: Vec<&str> = tools::LISTED.iter().map(|t| t.name).collect();
    if let Some(unknown) = args.names.iter().find(|n| !known.contains(&n.as_str())) {
        eprintln!(
            "error: unknown tool `{unknown}` (hint: perfgate uses {})",
            known.join(", ")
        );
        return Exit::Usage;
    }
    let mut exit = Exit::Success;
    for tool in tools::LISTED {
        if !args.names.is_empty() && !args.names.iter().any(|n| n == tool.name) {
            continue;
        }
        match tools::resolve(tool, None::<&Path>) {
            Ok(t) => println!(
                "{} {} at {} ({})",
                t.name,
                t.version,
                t.path.display(),
                t.source
            ),
            Err(e) => {
                eprintln!("error: {e}");
                exit = Exit::StackFailed;
            }
        }
    }
    println!("cache: {}", tools::cache_dir().display());
    exit
}

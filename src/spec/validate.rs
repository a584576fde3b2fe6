//! Pass 2: a spec's text → the validated [`Spec`], collecting every problem with its location.

use std::collections::HashMap;
use std::path::Path;

use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::diagnostic::{Diagnostic, SpecError};
use super::locate::{SourceIndex, YamlPath};
use super::client_stat::ClientStat;
use super::limits::{MAX_REPEAT, MIN_REPEAT};
use super::kinds::ServiceKind;
use super::model::{Assertion, EvalMode, Location, PhaseKind, SeriesMode, Spec};
use super::named_query::{NamedQuery, check_named_query};
use super::raw::{RawAssertion, RawEvalMode, RawSeriesMode, RawSpec};
use super::services::StackInfo;
use super::units::{is_identifier, parse_expectation, slug};
use super::{compare, phases, services, snapshots};

/// Parses and validates a spec's text; `path` names it in the model and in diagnostics.
pub fn parse(source: &str, path: &Path) -> Result<Spec, SpecError> {
    let fail = |diagnostics: Vec<Diagnostic>| SpecError::new(path, source, diagnostics);
    let start = Location { line: 1, column: 1 };
    if let Some(too_deep) = super::bounded::too_deep(source) {
        return Err(fail(vec![too_deep]));
    }
    let parsed = serde_yaml_ng::from_str::<Value>(source);
    let index = SourceIndex::build(source);
    if let Ok(index) = &index
        && !index.duplicates.is_empty()
    {
        let diagnostics = index
            .duplicates
            .iter()
            .map(|(span, key, first)| {
                Diagnostic::new(span.location, span.len, format!("duplicate key `{key}`"))
                    .with_hint(format!(
                        "`{key}` is first written on line {first}; keep one"
                    ))
            })
            .collect();
        return Err(fail(diagnostics));
    }
    let mut root = match parsed {
        Ok(root) => root,
        Err(e) => return Err(fail(vec![yaml_error(&e, source)])),
    };
    let index = index.map_err(|(location, message)| {
        fail(vec![Diagnostic::new(
            location,
            1,
            format!("invalid YAML: {message}"),
        )])
    })?;
    if let Err(e) = root.apply_merge() {
        return Err(fail(vec![Diagnostic::new(
            start,
            1,
            format!("invalid YAML merge: {e}"),
        )]));
    }
    if root.is_null() {
        let d = Diagnostic::new(start, 1, "the spec is empty")
            .with_hint("a spec needs at least `stack:`; see docs/spec.md");
        return Err(fail(vec![d]));
    }
    let mut ctx = Ctx::new(index);
    ctx.spec_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let spec = spec(&mut ctx, &root, path);
    let mut diagnostics = ctx.diagnostics;
    match spec {
        Some(spec) if diagnostics.is_empty() => Ok(spec),
        _ => {
            diagnostics.sort_by_key(|d| (d.location.line, d.location.column));
            diagnostics.dedup();
            if diagnostics.is_empty() {
                diagnostics.push(Diagnostic::new(start, 1, "the spec is invalid"));
            }
            Err(fail(diagnostics))
        }
    }
}

/// A YAML syntax error from libyaml, whose messages say what construct was being read.
fn yaml_error(e: &serde_yaml_ng::Error, source: &str) -> Diagnostic {
    let location = e
        .location()
        .map_or(Location { line: 1, column: 1 }, |l| Location {
            line: l.line(),
            column: l.column(),
        });
    let text = e.to_string();
    if text.contains("more than one document") {
        return Diagnostic::new(location, 1, "a spec file holds a single YAML document")
            .with_hint("remove the extra `---` separators, or split the file");
    }
    let (problem, context) = match text.split_once(", while ") {
        Some((problem, context)) => (problem, Some(context)),
        None => (text.as_str(), None),
    };
    let problem = problem.split(" at line ").next().unwrap_or(problem);
    let d = Diagnostic::new(location, 1, format!("invalid YAML: {problem}"));
    if problem.contains("cannot start any token") && tab_at(source, location) {
        return d.with_hint("YAML does not allow tabs for indentation; indent with spaces");
    }
    match context {
        Some(context) => d.with_hint(format!("found while {context}")),
        None => d,
    }
}

/// Whether the character at `at` (1-based) of `source` is a tab.
fn tab_at(source: &str, at: Location) -> bool {
    let line = source.lines().nth(at.line.saturating_sub(1)).unwrap_or("");
    line.chars().nth(at.column.saturating_sub(1)) == Some('\t')
}

fn spec(ctx: &mut Ctx, root: &Value, path: &Path) -> Option<Spec> {
    let at = YamlPath::root();
    let raw = ctx.de::<RawSpec>(root, &at)?;
    if let Some(version) = raw.version
        && version != 1
    {
        ctx.at_value(
            &at.key("version"),
            format!("unsupported spec version `{version}` (hint: only `version: 1` is supported)"),
        );
    }
    let name = spec_name(ctx, raw.name.as_deref(), &at, path);
    let mut stack_value = raw.stack.clone().unwrap_or_else(|| {
        ctx.push(
            Diagnostic::new(Location { line: 1, column: 1 }, 1, "missing field `stack`")
                .with_hint("add `stack: { services: { ... } }` with the services to run"),
        );
        Value::Mapping(Default::default())
    });
    let compare_at = raw.compare.as_ref().map(|_| at.key("compare"));
    let comparison = match (&raw.compare, &compare_at) {
        (Some(value), Some(compare_at)) => compare::expand(ctx, value, &mut stack_value, compare_at),
        _ => None,
    };
    let stack = services::stack(ctx, &stack_value, &at.key("stack"));
    compare::check_claims(ctx, &raw.assert, &at.key("assert"), compare_at.as_ref());
    let load = phases::load(ctx, &raw.load, &at.key("load"), &stack);
    let http_phases: Vec<String> = load
        .phases
        .iter()
        .filter(|p| matches!(p.kind, PhaseKind::Http(_)))
        .map(|p| p.name.clone())
        .collect();
    let phases = PhaseNames {
        all: &load.names,
        http: &http_phases,
    };
    let assertions = assertions(ctx, &raw.assert, &at.key("assert"), &phases);
    let snapshot_queries =
        snapshots::snapshots(ctx, &raw.snapshot, &at.key("snapshot"), &load.names);
    check_queries_can_run(ctx, &raw, &stack, &at);
    let repeat = repetitions(ctx, &raw, &at);
    let latency_buckets = match &raw.latency_buckets {
        Some(written) => super::buckets::latency_buckets(ctx, written, &at.key("latency_buckets")),
        None => Some(crate::serve::LATENCY_BUCKETS.to_vec()),
    };
    Some(Spec {
        name,
        description: raw.description,
        path: path.to_path_buf(),
        stack: stack.stack,
        phases: load.phases,
        assertions: assertions?,
        snapshots: snapshot_queries?,
        snapshot_dir: snapshots::snapshot_dir(path, raw.snapshot_dir.as_deref()),
        comparison,
        repeat: repeat?,
        latency_buckets: latency_buckets?,
    })
}

/// `repeat:` of a plain spec: 2 to [`MAX_REPEAT`] runs (a comparison's goes under `compare:`).
fn repetitions(ctx: &mut Ctx, raw: &RawSpec, at: &YamlPath) -> Option<u32> {
    let Some(repeat) = raw.repeat else {
        return Some(1);
    };
    let at = at.key("repeat");
    if raw.compare.is_some() {
        ctx.at_key(&at, "a comparison's `repeat` goes under `compare:`")
            .hint = Some("move it: `compare: { ..., repeat: N }`".to_owned());
        return None;
    }
    if !(MIN_REPEAT..=MAX_REPEAT).contains(&repeat) {
        ctx.at_value(
            &at,
            format!("`repeat` is {repeat}; a spec runs its phases {MIN_REPEAT} to {MAX_REPEAT} times"),
        );
        return None;
    }
    Some(repeat)
}

/// What an assertion asks: its `query:`, or the `client:` statistic of its `during:` HTTP phase
/// (then the query is a description of it).
fn assertion_source(
    ctx: &mut Ctx,
    raw: &mut RawAssertion,
    at: &YamlPath,
    phases: &PhaseNames<'_>,
) -> Option<(String, Option<ClientStat>)> {
    let hint = "write `query:` with PromQL, or `client:` with one of mean, p50, p90, p99, max";
    let (query, client) = (raw.query.take(), raw.client.take());
    let text = match (query, client) {
        (Some(query), None) => return Some((query, None)),
        (Some(_), Some(_)) => {
            ctx.at_key(&at.key("client"), "an assertion has `query:` or `client:`, not both")
                .hint = Some(hint.to_owned());
            return None;
        }
        (None, None) => {
            ctx.at_value(at, "an assertion needs `query:` or `client:`")
                .hint = Some(hint.to_owned());
            return None;
        }
        (None, Some(text)) => text,
    };
    let stat = ctx.check(&at.key("client"), ClientStat::parse(&text))?;
    match raw.during.as_deref() {
        Some(phase) if phases.http.iter().any(|p| p == phase) => {
            Some((stat.describe(phase), Some(stat)))
        }
        Some(phase) if phases.all.iter().any(|p| p == phase) => {
            ctx.at_value(
                &at.key("during"),
                format!("`client:` reads an HTTP phase's latencies; `{phase}` is not an HTTP phase"),
            );
            None
        }
        Some(_) => Some((String::from("client"), Some(stat))),
        None => {
            ctx.at_key(&at.key("client"), "`client:` needs `during:` naming an HTTP phase")
                .hint = Some(format!("e.g. `during: {}`", phases.http.first().map_or("steady", String::as_str)));
            None
        }
    }
}

/// `name:` if given (it must be an identifier), else the file's stem made into one.
fn spec_name(ctx: &mut Ctx, name: Option<&str>, at: &YamlPath, path: &Path) -> String {
    if let Some(name) = name {
        if !is_identifier(name) {
            let hint = match slug(name) {
                s if s.is_empty() => "use letters, digits, `_` and `-`".to_owned(),
                s => format!("use letters, digits, `_` and `-`, e.g. `{s}`"),
            };
            ctx.at_value(&at.key("name"), format!("invalid spec name `{name}`"))
                .hint = Some(hint);
        }
        return name.to_owned();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    match slug(&stem) {
        _ if is_identifier(&stem) => stem.into_owned(),
        s if s.is_empty() => "spec".to_owned(),
        s => s,
    }
}

/// Assertions and snapshots need a gating Prometheus to ask and a load phase for their window.
fn check_queries_can_run(ctx: &mut Ctx, raw: &RawSpec, stack: &StackInfo, at: &YamlPath) {
    // `assert:` is named in the messages when present, else `snapshot:`.
    let section = if raw.assert.is_empty() {
        "snapshot"
    } else {
        "assert"
    };
    let queries = !raw.assert.is_empty() || !raw.snapshot.is_empty();
    // A service that failed validation may be the prometheus one: don't guess.
    if queries && stack.names.len() == stack.stack.services.len() {
        check_prometheus(ctx, &stack.stack, at, section);
    }
    if queries && raw.load.is_empty() {
        ctx.at_key(
            &at.key(section),
            format!(
                "{}s need at least one load phase to define their window",
                noun(section)
            ),
        )
        .hint =
            Some("add a phase under `load:`, e.g. `- { phase: steady, pause: 10s }`".to_owned());
    }
}

/// What the entries of a top-level query section are called in messages.
fn noun(section: &str) -> &'static str {
    if section == "assert" {
        "assertion"
    } else {
        "snapshot"
    }
}

fn check_prometheus(ctx: &mut Ctx, stack: &super::model::Stack, at: &YamlPath, section: &str) {
    let proms: Vec<&str> = stack
        .services
        .iter()
        .filter(|(_, s)| matches!(s.kind, ServiceKind::Prometheus(_)))
        .map(|(name, _)| name.as_str())
        .collect();
    let gating = stack.services.values().any(|s| match &s.kind {
        ServiceKind::Prometheus(p) => p.gates,
        _ => false,
    });
    match proms.as_slice() {
        [] => {
            ctx.at_key(
                &at.key(section),
                format!("{}s need a `prometheus` service to query", noun(section)),
            )
            .hint =
                Some("add `prometheus: { kind: prometheus }` under `stack.services`".to_owned());
        }
        [first, ..] if !gating => {
            ctx.at_key(
                &at.key(section),
                format!(
                    "{}s need a `prometheus` service to query, but every one has `gates: false`",
                    noun(section)
                ),
            )
            .hint = Some(format!("set `gates: true` on one, e.g. `{first}`"));
        }
        _ => {}
    }
}

/// The phases assertions may name: all of them in `during:`, the HTTP ones for `client:`.
struct PhaseNames<'a> {
    all: &'a [String],
    http: &'a [String],
}

fn assertions(
    ctx: &mut Ctx,
    items: &[Value],
    at: &YamlPath,
    phases: &PhaseNames<'_>,
) -> Option<Vec<Assertion>> {
    let mut out = Vec::new();
    let mut ok = true;
    let mut ids: HashMap<String, (String, usize)> = HashMap::new();
    for (i, value) in items.iter().enumerate() {
        let path = at.index(i);
        match assertion(ctx, value, &path, phases, &mut ids) {
            Some(a) => out.push(a),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn assertion(
    ctx: &mut Ctx,
    value: &Value,
    at: &YamlPath,
    phases: &PhaseNames<'_>,
    ids: &mut HashMap<String, (String, usize)>,
) -> Option<Assertion> {
    let mut raw = ctx.de::<RawAssertion>(value, at)?;
    let (query, client) = assertion_source(ctx, &mut raw, at, phases)?;
    let entry = NamedQuery {
        what: "assertion",
        becomes: "test",
        name: &raw.name,
        during: raw.during.as_deref(),
        query: &query,
    };
    let (id, ok) = check_named_query(ctx, at, &entry, phases.all, ids);
    let query_at = at.key("query");
    let expect = ctx.check(&at.key("expect"), parse_expectation(&raw.expect.0));
    if !ok {
        return None;
    }
    Some(Assertion {
        name: raw.name,
        id,
        query,
        client,
        during: raw.during,
        expect: expect?,
        mode: match raw.series {
            RawSeriesMode::Aggregate => SeriesMode::Aggregate,
            RawSeriesMode::EachSeries => SeriesMode::EachSeries,
        },
        eval: match raw.eval {
            RawEvalMode::AtEnd => EvalMode::AtEnd,
            RawEvalMode::Throughout => EvalMode::Throughout,
        },
        query_location: ctx.index.content_start(&query_at),
    })
}

//! Validation of `load:`: phase names and kinds, HTTP phases (target, rate, ramp, mix), and
//! `freshness` phases (right after an HTTP phase).

use std::collections::HashMap;
use std::time::Duration;

use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::diagnostic::backticked;
use super::locate::YamlPath;
use super::kinds::ServiceKind;
use super::model::{
    FreshnessPhase, HttpPhase, Method, Phase, PhaseKind, Ramp, WeightedRequest,
};
use super::raw::{PHASE_KINDS, RawFreshness, RawHttp, RawPhase, RawRamp, RawRequest};
use super::services::{StackInfo, http_ports};
use super::units::{Rate, is_identifier};

const DEFAULT_MAX_IN_FLIGHT: usize = 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_FRESHNESS_TIMEOUT: Duration = Duration::from_secs(30);

/// The validated phases, plus every phase name written (for `during:` checks).
pub(crate) struct LoadInfo {
    pub(crate) phases: Vec<Phase>,
    pub(crate) names: Vec<String>,
}

pub(crate) fn load(ctx: &mut Ctx, items: &[Value], at: &YamlPath, stack: &StackInfo) -> LoadInfo {
    let mut phases = Vec::new();
    let mut names = Vec::new();
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    for (i, value) in items.iter().enumerate() {
        let path = at.index(i);
        let Some(raw) = ctx.de::<RawPhase>(value, &path) else {
            // Still learn the name so `during:` does not report it as unknown.
            if let Some(name) = value.get("phase").and_then(Value::as_str) {
                names.push(name.to_owned());
            }
            continue;
        };
        let name_at = path.key("phase");
        let name = raw.phase.clone();
        if !is_identifier(&name) {
            ctx.at_value(&name_at, format!("invalid phase name `{name}` (hint: use letters, digits, `_` and `-`, starting with a letter or digit)"));
        }
        if let Some(line) = first_seen.get(&name) {
            ctx.at_value(&name_at, format!("duplicate phase `{name}`"))
                .hint = Some(format!(
                "phase names must be unique; `{name}` is first defined on line {line}"
            ));
        } else {
            let line = ctx.index.value(&name_at).location.line;
            first_seen.insert(name.clone(), line);
            names.push(name.clone());
        }
        let previous = i.checked_sub(1).and_then(|p| items.get(p));
        let delivered = raw.delivered.clone();
        if let Some(kind) = phase_kind(ctx, raw, &path, stack, previous, phases.last()) {
            let at = path.key("delivered");
            let delivery = super::delivery::delivery(ctx, delivered.as_ref(), kind.name(), &at);
            phases.push(Phase { name, kind, delivery });
        }
    }
    LoadInfo { phases, names }
}

/// `previous`: the entry written before this one; `last`: the last phase that validated.
fn phase_kind(
    ctx: &mut Ctx,
    raw: RawPhase,
    at: &YamlPath,
    stack: &StackInfo,
    previous: Option<&Value>,
    last: Option<&Phase>,
) -> Option<PhaseKind> {
    let name = &raw.phase;
    let given: Vec<&str> = [
        ("http", raw.http.is_some()),
        ("pause", raw.pause.is_some()),
        ("replicate", raw.replicate.is_some()),
        ("freshness", raw.freshness.is_some()),
        ("swarm", raw.swarm.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, present)| present.then_some(k))
    .collect();
    match given.as_slice() {
        [] => {
            ctx.at_key(
                &at.key("phase"),
                format!("phase `{name}` says nothing to do"),
            )
            .hint = Some(format!("add one of {}", backticked(PHASE_KINDS)));
            return None;
        }
        [_] => {}
        [_, second, ..] => {
            ctx.at_key(
                &at.key(second),
                format!(
                    "phase `{name}` has several kinds: {}",
                    backticked(given.iter().copied())
                ),
            )
            .hint = Some("split it into one phase per kind".to_owned());
            return None;
        }
    }
    if let Some(pause) = raw.pause {
        return ctx
            .duration(&at.key("pause"), &pause.0)
            .map(PhaseKind::Pause);
    }
    if let Some(replicate) = raw.replicate {
        return super::replicate::replicate_phase(ctx, replicate, &at.key("replicate"), stack)
            .map(PhaseKind::Replicate);
    }
    if let Some(swarm) = raw.swarm {
        return super::swarm::swarm_phase(ctx, swarm, &at.key("swarm"), stack)
            .map(PhaseKind::Swarm);
    }
    if let Some(freshness) = raw.freshness {
        return freshness_phase(ctx, freshness, &at.key("freshness"), stack, previous, last)
            .map(PhaseKind::Freshness);
    }
    let http = raw.http?;
    http_phase(ctx, http, &at.key("http"), stack).map(PhaseKind::Http)
}

/// A `freshness` phase must come right after the `http` phase whose requests it waits for.
fn freshness_phase(
    ctx: &mut Ctx,
    raw: RawFreshness,
    at: &YamlPath,
    stack: &StackInfo,
    previous: Option<&Value>,
    last: Option<&Phase>,
) -> Option<FreshnessPhase> {
    let has_prometheus = stack
        .stack
        .services
        .values()
        .any(|s| matches!(s.kind, ServiceKind::Prometheus(_)));
    if !has_prometheus {
        ctx.at_key(
            at,
            "a `freshness` phase needs a `prometheus` service to query",
        )
        .hint = Some("add `prometheus: { kind: prometheus }` under `stack.services`".to_owned());
        return None;
    }
    let follows_http = previous.is_some_and(|v| v.get("http").is_some());
    if !follows_http {
        ctx.at_key(at, "a `freshness` phase must come right after an `http` phase")
            .hint = Some(
            "it measures how long that phase's requests take to be queryable; move it after the load it measures"
                .to_owned(),
        );
        return None;
    }
    let mut ok = true;
    if raw.query.trim().is_empty() {
        ctx.at_value(&at.key("query"), "`query` is empty (hint: the service's own count of the load's requests, e.g. `sum(http_requests_total{job=\"api\"})`)");
        ok = false;
    }
    let paths = raw.paths.unwrap_or_else(|| ".*".to_owned());
    if let Some(problem) = super::units::regex_problem(&paths) {
        ctx.at_value(
            &at.key("paths"),
            format!("`paths` pattern `{paths}` is not a valid regex: {problem}"),
        );
        ok = false;
    }
    let timeout = ctx.optional_duration(
        &at.key("timeout"),
        raw.timeout.as_ref().map(|t| t.0.as_str()),
        DEFAULT_FRESHNESS_TIMEOUT,
    );
    // The preceding `http` phase failed validation: already reported.
    let Some(Phase {
        kind: PhaseKind::Http(http),
        ..
    }) = last
    else {
        return None;
    };
    ok.then_some(FreshnessPhase {
        query: raw.query,
        paths,
        target: http.target.clone(),
        timeout: timeout?,
    })
}

fn http_phase(ctx: &mut Ctx, raw: RawHttp, at: &YamlPath, stack: &StackInfo) -> Option<HttpPhase> {
    let target_ok = target(ctx, &raw.target, &at.key("target"), stack);
    let rate_at = at.key("rate");
    let rate = ctx.rate(&rate_at, &raw.rate.0);
    let duration = ctx.duration(&at.key("duration"), &raw.duration.0);
    let ramp = ramp(ctx, raw.ramp.as_ref(), at, rate, duration);
    let max_in_flight = raw.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
    if max_in_flight == 0 {
        ctx.at_value(
            &at.key("max_in_flight"),
            "`max_in_flight` must be at least 1",
        );
    }
    let timeout = ctx.optional_duration(
        &at.key("timeout"),
        raw.timeout.as_ref().map(|t| t.0.as_str()),
        DEFAULT_TIMEOUT,
    );
    let mix = mix(ctx, &raw.mix, &at.key("mix"));
    let auth = match &raw.auth {
        Some(value) => super::secret::auth(ctx, value, &at.key("auth")).map(Some),
        None => Some(None),
    };
    if !target_ok || max_in_flight == 0 {
        return None;
    }
    Some(HttpPhase {
        target: raw.target,
        rate: rate?,
        ramp: ramp?,
        duration: duration?,
        max_in_flight,
        timeout: timeout?,
        mix: mix?,
        auth: auth?,
    })
}

/// The phase's `ramp:` (`Some(None)`: none written; `None`: invalid, reported), checked against
/// its `rate` and `duration`.
fn ramp(
    ctx: &mut Ctx,
    raw: Option<&RawRamp>,
    at: &YamlPath,
    rate: Option<Rate>,
    duration: Option<Duration>,
) -> Option<Option<Ramp>> {
    let Some(r) = raw else {
        return Some(None);
    };
    let rate_at = at.key("rate");
    let ramp_at = at.key("ramp");
    let from = ctx.rate(&ramp_at.key("from"), &r.from.0);
    let over = ctx.duration(&ramp_at.key("over"), &r.over.0);
    let mut ok = true;
    if from.is_some_and(|f| f.0.is_infinite()) {
        ctx.at_value(
            &ramp_at.key("from"),
            "a ramp cannot start at `max` (hint: ramps need a finite rate such as `5/s`)",
        );
        ok = false;
    }
    if rate.is_some_and(|r| r.0.is_infinite()) {
        ctx.at_value(
            &rate_at,
            "a ramp cannot end at `rate: max` (hint: give a finite rate, or drop the ramp)",
        );
        ok = false;
    }
    if let (Some(over), Some(total)) = (over, duration)
        && over > total
    {
        ctx.at_value(
            &ramp_at.key("over"),
            "the ramp is longer than the phase's `duration`",
        );
        ok = false;
    }
    match (from, over, ok) {
        (Some(from), Some(over), true) => Some(Some(Ramp { from, over })),
        _ => None,
    }
}

/// The target must be a service that answers HTTP.
fn target(ctx: &mut Ctx, name: &str, at: &YamlPath, stack: &StackInfo) -> bool {
    match stack.stack.services.get(name) {
        Some(service) if http_ports(service).is_empty() => {
            ctx.at_value(
                at,
                format!("service `{name}` has no ports, so it cannot be a target"),
            )
            .hint = Some(format!(
                "declare its HTTP port, e.g. `ports: {{ http: 0 }}` under `stack.services.{name}`"
            ));
            false
        }
        Some(_) => true,
        // A service that was written but failed validation has been reported already.
        None if stack.names.iter().any(|n| n == name) => false,
        None => {
            let known: Vec<&str> = stack.names.iter().map(String::as_str).collect();
            ctx.unknown_name(at, "service", name, &known);
            false
        }
    }
}

fn mix(ctx: &mut Ctx, items: &[Value], at: &YamlPath) -> Option<Vec<WeightedRequest>> {
    if items.is_empty() {
        ctx.at_value(
            at,
            "the request `mix` is empty (hint: add e.g. `- { get: /health }`)",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, value) in items.iter().enumerate() {
        match request(ctx, value, &at.index(i)) {
            Some(r) => out.push(r),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn request(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<WeightedRequest> {
    let raw = ctx.de::<RawRequest>(value, at)?;
    let methods: Vec<(&str, Method, &String)> = [
        ("get", Method::Get, &raw.get),
        ("post", Method::Post, &raw.post),
        ("put", Method::Put, &raw.put),
        ("delete", Method::Delete, &raw.delete),
    ]
    .into_iter()
    .filter_map(|(key, method, path)| path.as_ref().map(|p| (key, method, p)))
    .collect();
    let (key, method, path) = match methods.as_slice() {
        [] => {
            ctx.at_value(at, "request names no method").hint = Some(
                "write the path under its method, e.g. `get: /health` or `post: /api/orders`"
                    .to_owned(),
            );
            return None;
        }
        [one] => *one,
        [_, (second, ..), ..] => {
            let names = backticked(methods.iter().map(|(k, ..)| *k));
            ctx.at_key(
                &at.key(second),
                format!("request has several methods: {names}"),
            )
            .hint = Some(
                "one request per entry; add another `mix` entry for the other method".to_owned(),
            );
            return None;
        }
    };
    let mut ok = true;
    let path_at = at.key(key);
    if !path.starts_with('/') {
        ctx.at_value(
            &path_at,
            format!("request path `{path}` must start with `/` (hint: `/{path}`)"),
        );
        ok = false;
    }
    if raw.weight == Some(0) {
        ctx.at_value(
            &at.key("weight"),
            "`weight` must be at least 1 (hint: remove the entry to stop sending it)",
        );
        ok = false;
    }
    if raw.json.is_some() && method == Method::Get {
        ctx.at_key(
            &at.key("json"),
            "a `get` request cannot carry a `json` body (hint: use `post` or `put`)",
        );
        ok = false;
    }
    let headers = super::secret::header_map(ctx, &raw.headers, &at.key("headers"));
    if !ok {
        return None;
    }
    Some(WeightedRequest {
        weight: raw.weight.unwrap_or(1),
        method,
        path: path.clone(),
        json: raw.json,
        headers: headers?,
    })
}

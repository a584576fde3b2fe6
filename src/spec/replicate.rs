//! Validation of `replicate:` phases: endpoints, selectors, exclusions, replication labels,
//! units and limits.

use std::collections::HashSet;
use std::time::Duration;

use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::limits::{MAX_COPIES, counted_values};
use super::locate::YamlPath;
use super::kinds::ServiceKind;
use super::model::{Endpoint, Rate, ReplicatePhase, ReplicationLabel};
use super::raw::RawReplicate;
use super::services::StackInfo;
use crate::prom::remote_write::RetryPolicy;

const DEFAULT_LOOKBACK: Duration = Duration::from_secs(300);
const DEFAULT_STEP: Duration = Duration::from_secs(15);
const DEFAULT_BATCH: usize = 2000;
const DEFAULT_CONCURRENCY: usize = 2;
const MAX_CONCURRENCY: usize = 64;
const MAX_BATCH: usize = 1_000_000;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Prometheus refuses range queries with more points per series than this.
const MAX_POINTS: u128 = 11_000;

pub(crate) fn replicate_phase(
    ctx: &mut Ctx,
    raw: RawReplicate,
    at: &YamlPath,
    stack: &StackInfo,
) -> Option<ReplicatePhase> {
    let from = endpoint(ctx, &raw.from, &at.key("from"), stack);
    let to = endpoint(ctx, &raw.to, &at.key("to"), stack);
    let mut ok = selectors_ok(ctx, &raw, at);
    let lookback = ctx.optional_duration(
        &at.key("lookback"),
        raw.lookback.as_ref().map(|t| t.0.as_str()),
        DEFAULT_LOOKBACK,
    );
    let step = ctx.optional_duration(
        &at.key("step"),
        raw.step.as_ref().map(|t| t.0.as_str()),
        DEFAULT_STEP,
    );
    ok &= points_ok(ctx, lookback, step, at);
    let labels = labels(ctx, &raw.labels, &at.key("labels"));
    ok &= not_into_itself(ctx, from.as_ref(), to.as_ref(), labels.as_deref(), at);
    let rate = match &raw.rate {
        Some(t) => ctx.rate(&at.key("rate"), &t.0),
        None => Some(Rate(f64::INFINITY)),
    };
    let batch = raw.batch.unwrap_or(DEFAULT_BATCH);
    let concurrency = raw.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    ok &= sender_ok(ctx, batch, concurrency, at);
    let timeout = ctx.optional_duration(
        &at.key("timeout"),
        raw.timeout.as_ref().map(|t| t.0.as_str()),
        DEFAULT_TIMEOUT,
    );
    let give_up_after = ctx.optional_duration(
        &at.key("give_up_after"),
        raw.give_up_after.as_ref().map(|t| t.0.as_str()),
        RetryPolicy::default().give_up_after,
    );
    let hold = match &raw.hold {
        Some(t) => ctx.check(&at.key("hold"), super::units::parse_duration(&t.0)),
        None => Some(Duration::ZERO),
    };
    let headers = super::secret::header_map(ctx, &raw.headers, &at.key("headers"));
    let auth = match &raw.auth {
        Some(value) => super::secret::auth(ctx, value, &at.key("auth")).map(Some),
        None => Some(None),
    };
    if !ok {
        return None;
    }
    let matchers = if raw.matchers.is_empty() {
        vec![r#"{__name__=~".+"}"#.to_owned()]
    } else {
        raw.matchers.clone()
    };
    Some(ReplicatePhase {
        from: from?,
        to: to?,
        headers: headers?,
        auth: auth?,
        matchers,
        exclude: raw.exclude,
        lookback: lookback?,
        step: step?,
        labels: labels?,
        rate: rate?,
        batch,
        concurrency,
        time_shift: raw.time_shift.unwrap_or(true),
        dry_run: raw.dry_run.unwrap_or(false),
        timeout: timeout?,
        give_up_after: give_up_after?,
        hold: hold?,
    })
}

/// Every `match` entry is a series selector and every `exclude` pattern a regex.
fn selectors_ok(ctx: &mut Ctx, raw: &RawReplicate, at: &YamlPath) -> bool {
    let mut ok = true;
    for (i, m) in raw.matchers.iter().enumerate() {
        if let Err(e) = selector_shape(m) {
            ctx.at_value(&at.key("match").index(i), e);
            ok = false;
        }
    }
    for (i, pattern) in raw.exclude.iter().enumerate() {
        if let Some(first) = super::units::regex_problem(pattern) {
            ctx.at_value(
                &at.key("exclude").index(i),
                format!("`exclude` pattern `{pattern}` is not a valid regex: {first}"),
            );
            ok = false;
        }
    }
    ok
}

/// `lookback` / `step` stays within what one Prometheus range query returns per series.
fn points_ok(
    ctx: &mut Ctx,
    lookback: Option<Duration>,
    step: Option<Duration>,
    at: &YamlPath,
) -> bool {
    if let (Some(l), Some(s)) = (lookback, step)
        && l.as_millis() / s.as_millis().max(1) > MAX_POINTS
    {
        ctx.at_value(
            &at.key("step"),
            format!("`lookback` / `step` is more than {MAX_POINTS} points per series, which Prometheus refuses"),
        )
        .hint = Some("use a larger `step` or a shorter `lookback`".into());
        return false;
    }
    true
}

/// A Prometheus replicated into itself needs labels that make the copies new series.
fn not_into_itself(
    ctx: &mut Ctx,
    from: Option<&Endpoint>,
    to: Option<&Endpoint>,
    labels: Option<&[ReplicationLabel]>,
    at: &YamlPath,
) -> bool {
    if let (Some(Endpoint::Service(a)), Some(Endpoint::Service(b)), Some(l)) = (from, to, labels)
        && a == b
        && l.is_empty()
    {
        ctx.at_value(
            &at.key("to"),
            format!("replicating `{a}` into itself without `labels` would rewrite the same series"),
        )
        .hint = Some("add replication labels, e.g. `labels: { replica: 2 }`".into());
        return false;
    }
    true
}

/// `batch` and `concurrency` within their limits.
fn sender_ok(ctx: &mut Ctx, batch: usize, concurrency: usize, at: &YamlPath) -> bool {
    let mut ok = true;
    if !(1..=MAX_BATCH).contains(&batch) {
        ctx.at_value(
            &at.key("batch"),
            format!("`batch` must be between 1 and {MAX_BATCH} samples"),
        );
        ok = false;
    }
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        ctx.at_value(
            &at.key("concurrency"),
            format!("`concurrency` must be between 1 and {MAX_CONCURRENCY}"),
        );
        ok = false;
    }
    ok
}

/// A `prometheus` service by name, or a loopback `http://` URL.
fn endpoint(ctx: &mut Ctx, text: &str, at: &YamlPath, stack: &StackInfo) -> Option<Endpoint> {
    if text.contains("://") {
        return match crate::prom::remote_write::check_loopback(text) {
            Ok(()) => Some(Endpoint::Url(text.trim_end_matches('/').to_owned())),
            Err(e) => {
                ctx.at_value(at, e.to_string());
                None
            }
        };
    }
    match stack.stack.services.get(text) {
        Some(s) if matches!(s.kind, ServiceKind::Prometheus(_)) => {
            Some(Endpoint::Service(text.to_owned()))
        }
        Some(_) => {
            ctx.at_value(at, format!("service `{text}` is not a `prometheus` service"))
                .hint = Some(
                "name a `prometheus` service, or give a loopback URL such as `http://127.0.0.1:9090`"
                    .into(),
            );
            None
        }
        None if stack.names.iter().any(|n| n == text) => None,
        None => {
            let known: Vec<&str> = stack
                .stack
                .services
                .iter()
                .filter(|(_, s)| matches!(s.kind, ServiceKind::Prometheus(_)))
                .map(|(n, _)| n.as_str())
                .collect();
            ctx.unknown_name(at, "prometheus service", text, &known);
            None
        }
    }
}

/// `name`, `{matchers}` or `name{matchers}`: what can be scoped to one metric.
fn selector_shape(m: &str) -> Result<(), String> {
    let m = m.trim();
    let name_ok = |n: &str| {
        n.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
        })
    };
    let (name, rest) = match m.find('{') {
        Some(open) => (&m[..open], Some(&m[open..])),
        None => (m, None),
    };
    let braces_ok = rest.is_none_or(|r| r.ends_with('}') && r.matches('{').count() == 1);
    if m.is_empty()
        || !name_ok(name.trim())
        || !braces_ok
        || (name.trim().is_empty() && rest.is_none())
    {
        return Err(format!(
            "`{m}` is not a series selector (hint: `up`, `{{job=\"api\"}}` or `http_requests_total{{code=\"200\"}}`)"
        ));
    }
    Ok(())
}

/// The replication labels in spec order, each with its values; at most `MAX_COPIES` copies of
/// a series in all.
fn labels(
    ctx: &mut Ctx,
    raw: &indexmap::IndexMap<String, Value>,
    at: &YamlPath,
) -> Option<Vec<ReplicationLabel>> {
    let mut out = Vec::new();
    let mut ok = true;
    let mut copies: u64 = 1;
    for (name, value) in raw {
        let label_at = at.key(name);
        if !label_name_ok(ctx, name, &label_at) {
            ok = false;
            continue;
        }
        let Some(values) = label_values(ctx, name, value, &label_at) else {
            ok = false;
            continue;
        };
        copies = copies.saturating_mul(values.len().max(1) as u64);
        out.push(ReplicationLabel {
            name: name.clone(),
            values,
        });
    }
    if ok && copies > MAX_COPIES {
        ctx.at_value(
            at,
            format!("the replication labels make {copies} copies of every series; at most {MAX_COPIES} are allowed"),
        );
        ok = false;
    }
    ok.then_some(out)
}

/// A Prometheus label name that is not reserved (`__…`).
fn label_name_ok(ctx: &mut Ctx, name: &str, label_at: &YamlPath) -> bool {
    let valid_name = !name.is_empty()
        && !name.starts_with("__")
        && name
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()));
    if !valid_name {
        ctx.at_key(
            label_at,
            format!("`{name}` is not a label name perfgate can replicate over"),
        )
        .hint = Some("use letters, digits and `_`, not starting with a digit or `__`".into());
    }
    valid_name
}

/// A label's values: a count (`3`: values `0`, `1`, `2`) or a list of distinct scalars.
fn label_values(
    ctx: &mut Ctx,
    name: &str,
    value: &Value,
    label_at: &YamlPath,
) -> Option<Vec<String>> {
    match value {
        Value::Number(n) => match n.as_u64() {
            Some(count) if (1..=MAX_COPIES).contains(&count) => Some(counted_values(count as u32)),
            _ => {
                ctx.at_value(
                    label_at,
                    format!("replication label `{name}` needs a count of at least 1"),
                )
                .hint = Some(format!("e.g. `{name}: 3`, or a list: `{name}: [a, b]`"));
                None
            }
        },
        Value::Sequence(items) => listed_values(ctx, name, items, label_at),
        _ => {
            ctx.at_value(
                label_at,
                format!("replication label `{name}` must be a count or a list of values"),
            )
            .hint = Some(format!("e.g. `{name}: 3` or `{name}: [a, b]`"));
            None
        }
    }
}

/// A list of label values: scalars, none empty, no duplicates, at least one.
fn listed_values(
    ctx: &mut Ctx,
    name: &str,
    items: &[Value],
    label_at: &YamlPath,
) -> Option<Vec<String>> {
    let mut ok = true;
    let mut values = Vec::new();
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let text = match item {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                ctx.at_value(&label_at.index(i), "a label value must be a scalar");
                ok = false;
                continue;
            }
        };
        if text.is_empty() {
            ctx.at_value(&label_at.index(i), super::limits::empty_label_value(name))
                .hint = Some("give every value at least one character, e.g. `[a, b]`".into());
            ok = false;
        } else if !seen.insert(text.clone()) {
            ctx.at_value(
                &label_at.index(i),
                format!("duplicate value `{text}` for replication label `{name}`"),
            );
            ok = false;
        }
        values.push(text);
    }
    if items.is_empty() {
        ctx.at_value(
            label_at,
            format!("replication label `{name}` has no values"),
        );
        ok = false;
    }
    ok.then_some(values)
}

//! A phase's `delivered:` key: the limits of its built-in health verdict (`<phase>::delivered`,
//! judged in `verdict::delivered`), which says whether the phase delivered the load the spec
//! asked for. On by default for every phase but `pause`; a map tightens or loosens its limits,
//! `off` turns it off.
//!
//! ```yaml
//! - phase: steady
//!   http: { target: api, rate: 100/s, duration: 10s, mix: [ { get: / } ] }
//!   delivered: { rate: 98%, transport_errors: 0.5%, send_lag: 20ms }
//! ```

use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::diagnostic::backticked;
use super::locate::YamlPath;
use super::raw::Text;
use super::units::parse_ratio;

/// The id suffix of a delivery verdict: `steady::delivered`.
pub const DELIVERY_SUFFIX: &str = "::delivered";

/// The id (and test name under the spec's) of `phase`'s delivery verdict.
pub fn delivery_id(phase: &str) -> String {
    format!("{phase}{DELIVERY_SUFFIX}")
}

/// The built-in health verdict's limits for one phase. Each applies to the phase kinds named.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delivery {
    /// `http` (open model): the share of the planned requests that must be answered (any
    /// status), i.e. the achieved rate over the requested one.
    pub rate: f64,
    /// `http`: the largest share of requests sent that may end without a response (timeout,
    /// refused or broken connection).
    pub transport_errors: f64,
    /// `http` (open model): the largest p99 of the generator's lateness against its schedule; a
    /// later generator is the bottleneck, not the service.
    pub send_lag: Duration,
    /// `replicate`: the most samples that may be dropped (not accepted by the receiver).
    pub dropped: u64,
    /// `swarm`: the share of clients that must have started (produced media at least once).
    pub clients: f64,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            rate: 0.95,
            transport_errors: 0.01,
            send_lag: Duration::from_millis(50),
            dropped: 0,
            clients: 1.0,
        }
    }
}

/// `delivered:` as written: `off` (or `false`), or a map of limits.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    rate: Option<Text>,
    transport_errors: Option<Text>,
    send_lag: Option<Text>,
    dropped: Option<u64>,
    clients: Option<Text>,
}

/// The keys `delivered:` may hold on a phase of `kind` (its key: `http`, `replicate`, …).
fn keys_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "http" => &["rate", "transport_errors", "send_lag"],
        "replicate" => &["dropped"],
        "swarm" => &["clients"],
        _ => &[],
    }
}

/// The delivery limits of a phase of `kind` (its key: `http`, `pause`, …; `None`: no health
/// verdict: `off`, or a `pause`), reporting what is wrong with `written` (the `delivered:`
/// value at `at`, if any).
pub(crate) fn delivery(
    ctx: &mut Ctx,
    written: Option<&Value>,
    kind: &str,
    at: &YamlPath,
) -> Option<Delivery> {
    let is_pause = kind == "pause";
    let Some(value) = written else {
        return (!is_pause).then(Delivery::default);
    };
    if matches!(value, Value::Bool(false)) || value.as_str() == Some("off") {
        return None;
    }
    if is_pause {
        ctx.at_key(at, "a `pause` phase delivers no load: it has no `delivered:` verdict")
            .hint = Some("remove `delivered:` from this phase".to_owned());
        return None;
    }
    if !value.is_mapping() {
        ctx.at_value(at, "`delivered:` is `off` or a map of limits").hint = Some(limits_hint(kind));
        return None;
    }
    let raw = ctx.de::<RawDelivery>(value, at)?;
    limits(ctx, raw, kind, at)
}

/// The limits this kind accepts, for hints.
fn limits_hint(kind: &str) -> String {
    match keys_of(kind) {
        [] => format!("`{kind}` phases have no limits to set; `off` turns the verdict off"),
        keys => format!("limits of `{kind}` phases: {}", backticked(keys.iter().copied())),
    }
}

/// The written limits over the defaults; a key this phase kind has no use for is an error.
fn limits(ctx: &mut Ctx, raw: RawDelivery, kind: &str, at: &YamlPath) -> Option<Delivery> {
    let written = [
        ("rate", raw.rate.is_some()),
        ("transport_errors", raw.transport_errors.is_some()),
        ("send_lag", raw.send_lag.is_some()),
        ("dropped", raw.dropped.is_some()),
        ("clients", raw.clients.is_some()),
    ];
    let allowed = keys_of(kind);
    let mut ok = true;
    for (key, _) in written.iter().filter(|(k, given)| *given && !allowed.contains(k)) {
        ok = false;
        ctx.at_key(
            &at.key(key),
            format!("`{key}` is not a limit of `{kind}` phases"),
        )
        .hint = Some(limits_hint(kind));
    }
    let mut out = Delivery::default();
    let mut share = |key: &str, text: Option<Text>, what: &str, into: &mut f64| {
        if let Some(text) = text {
            match ctx.check(&at.key(key), parse_ratio(what, &text.0)) {
                Some(v) => *into = v,
                None => ok = false,
            }
        }
    };
    share("rate", raw.rate, "delivered rate share", &mut out.rate);
    share("transport_errors", raw.transport_errors, "transport error share", &mut out.transport_errors);
    share("clients", raw.clients, "started client share", &mut out.clients);
    if let Some(text) = raw.send_lag {
        match ctx.duration(&at.key("send_lag"), &text.0) {
            Some(d) => out.send_lag = d,
            None => ok = false,
        }
    }
    if let Some(dropped) = raw.dropped {
        out.dropped = dropped;
    }
    ok.then_some(out)
}

//! Built-in health verdicts: every phase but `pause` gets one, `<phase>::delivered`, that says
//! whether it delivered the load the spec asked for (HTTP: the planned requests answered, few
//! without a response, a generator on schedule; replicate: no sample dropped; swarm: every
//! client started; freshness: in time). Judged on the engine's own account of each run of the
//! phase (every repetition of a `repeat:` or `compare:` run), with the limits of the phase's
//! `delivered:` key (`spec::Delivery`). A gate that PASSED on a phase that did not deliver is
//! made INCONCLUSIVE: what held under less load than asked proves nothing about the load asked.

use std::collections::BTreeMap;

use crate::prom::{Sample, Series};
use crate::report::{DeliveryCheck, Outcome, PhaseRecord, RunRecord, Verdict, Window};
use crate::spec::{Delivery, Phase, PhaseKind, Spec, delivery_id};

mod account;

use account::{Account, account, percent};

/// One delivery verdict for every phase of `spec` that has one and ran (`phases`: every run of
/// every phase, repetitions included).
pub fn judge_deliveries(spec: &Spec, phases: &[PhaseRecord]) -> Vec<Verdict> {
    spec.phases
        .iter()
        .filter_map(|phase| {
            let limits = phase.delivery.as_ref()?;
            let runs: Vec<&PhaseRecord> = phases.iter().filter(|p| p.is_of(&phase.name)).collect();
            (!runs.is_empty()).then(|| judge_phase(phase, limits, &runs))
        })
        .collect()
}

/// `phase`'s delivery verdict over its `runs` (never empty).
fn judge_phase(phase: &Phase, limits: &Delivery, runs: &[&PhaseRecord]) -> Verdict {
    let window = Window {
        start: runs[0].window.start,
        end: runs[runs.len() - 1].window.end,
    };
    let several = runs.len() > 1;
    let mut series = Vec::new();
    let mut shortfalls = Vec::new();
    let mut unread = Vec::new();
    for run in runs {
        let Some(Account { observed, shortfalls: short }) = account(phase, limits, run) else {
            unread.push(run.name.clone());
            continue;
        };
        series.extend(observed.into_iter().map(|(check, v)| observed_series(run, several, check, v)));
        shortfalls.extend(short.into_iter().map(|s| if several { format!("{}: {s}", run.name) } else { s }));
    }
    let outcome = match (unread.is_empty(), shortfalls.is_empty()) {
        (false, _) => Outcome::Error {
            message: format!("no engine outcome to judge for {}", unread.join(", ")),
        },
        (true, true) => Outcome::Pass,
        (true, false) => Outcome::Fail { reasons: shortfalls },
    };
    Verdict {
        id: delivery_id(&phase.name),
        name: format!("phase `{}` delivered its load", phase.name),
        query: format!("perfgate's own account of phase `{}`", phase.name),
        spec_query: String::new(),
        during: Some(phase.name.clone()),
        window,
        evaluated_at: window.end,
        expectation: expectation(phase, limits),
        mode: "built-in; the phase's `delivered:` tightens it or turns it off".to_owned(),
        series,
        outcome,
    }
}

fn observed_series(run: &PhaseRecord, several: bool, check: DeliveryCheck, v: f64) -> Series {
    let mut labels = BTreeMap::from([("check".to_owned(), check.id().to_owned())]);
    if several {
        labels.insert("run".to_owned(), run.name.clone());
    }
    Series {
        labels,
        samples: vec![Sample { t: run.window.end, v }],
    }
}

/// The limits in words, as the observed column words the values: `≥ 95 % answered, …`.
fn expectation(phase: &Phase, limits: &Delivery) -> String {
    match &phase.kind {
        PhaseKind::Http(_) => format!(
            "≥ {} answered, ≤ {} no response, lag p99 ≤ {} ms",
            percent(limits.rate),
            percent(limits.transport_errors),
            limits.send_lag.as_millis()
        ),
        PhaseKind::Replicate(_) => format!(
            "≤ {} dropped, a source with series, within its timeout",
            limits.dropped
        ),
        PhaseKind::Swarm(_) => format!("≥ {} started", percent(limits.clients)),
        PhaseKind::Freshness(_) => "queryable within its timeout".to_owned(),
        PhaseKind::Pause(_) => String::new(),
    }
}

/// Every gate that PASSED on a phase whose delivery verdict did not pass (its `during:` phase,
/// or any phase for a whole-run gate) made INCONCLUSIVE, saying which phase and why.
pub fn apply_delivery_guard(record: &mut RunRecord) {
    let undelivered: Vec<(String, String)> = record
        .verdicts
        .iter()
        .filter(|v| v.is_delivery() && !v.outcome.passed())
        .filter_map(|v| Some((v.during.clone()?, shortfall_summary(v))))
        .collect();
    if undelivered.is_empty() {
        return;
    }
    for verdict in record.verdicts.iter_mut().filter(|v| !v.is_delivery() && v.outcome.passed()) {
        let reasons: Vec<String> = undelivered
            .iter()
            .filter(|(phase, _)| verdict.during.as_ref().is_none_or(|d| d == phase))
            .map(|(phase, why)| {
                format!("phase `{phase}` did not deliver the load the spec asked for ({why}): a pass under less load proves nothing")
            })
            .collect();
        if !reasons.is_empty() {
            verdict.outcome = Outcome::Inconclusive { reasons };
        }
    }
}

/// The first reason a delivery verdict did not pass.
fn shortfall_summary(verdict: &Verdict) -> String {
    match &verdict.outcome {
        Outcome::Fail { reasons } | Outcome::Inconclusive { reasons } => {
            reasons.first().cloned().unwrap_or_default()
        }
        Outcome::Error { message } => message.clone(),
        Outcome::Pass => String::new(),
    }
}

#[cfg(test)]
mod tests;

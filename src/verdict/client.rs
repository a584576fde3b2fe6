//! Asking an assertion (`ask`): a `client:` assertion reads the HTTP engine's exact statistic of
//! the `during` phase (from its HDR histogram of every request) in the phase's outcome; any other
//! asks Prometheus its query (`evaluate`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::evaluate::{evaluate, judge};
use crate::load::PhaseOutcome;
use crate::load::http::HttpPhaseOutcome;
use crate::prom::{PromClient, Sample, Series};
use crate::report::{Outcome, PhaseRecord, Verdict, Window};
use crate::spec::{Assertion, ClientStat};

/// The verdict of `assertion` judged on `phase` (its `during:` phase in this run or repetition,
/// `None` for the whole load, `whole`): the engine's exact statistic for `client:`, else its
/// query asked over the phase's window.
pub async fn ask(
    client: &PromClient,
    assertion: &Assertion,
    phase: Option<&PhaseRecord>,
    whole: Window,
    step: Duration,
) -> Verdict {
    match assertion.client {
        Some(stat) => evaluate_client(assertion, stat, phase),
        None => evaluate(client, assertion, phase.map_or(whole, |p| p.window), step).await,
    }
}

/// The verdict of `assertion` (whose statistic is `stat`) on `phase`, the record of its
/// `during:` phase in this run (or repetition).
fn evaluate_client(assertion: &Assertion, stat: ClientStat, phase: Option<&PhaseRecord>) -> Verdict {
    let window = phase.map_or(Window { start: 0.0, end: 0.0 }, |p| p.window);
    let http = phase.and_then(|p| match &p.load {
        Some(PhaseOutcome::Http(outcome)) => Some(outcome),
        _ => None,
    });
    let (series, outcome) = match http.and_then(|h| value(h, stat)) {
        Some(v) => {
            let series = vec![Series {
                labels: BTreeMap::new(),
                samples: vec![Sample { t: window.end, v }],
            }];
            let outcome = judge(assertion, &series);
            (series, outcome)
        }
        None => (
            Vec::new(),
            Outcome::Error {
                message: format!(
                    "phase `{}` has no latencies to take the {} of (no HTTP outcome, or no request completed)",
                    assertion.during.as_deref().unwrap_or("?"),
                    stat.name()
                ),
            },
        ),
    };
    Verdict {
        id: assertion.id.clone(),
        name: assertion.name.clone(),
        query: assertion.query.clone(),
        spec_query: assertion.query.clone(),
        during: assertion.during.clone(),
        window,
        evaluated_at: window.end,
        expectation: assertion.expect.to_string(),
        mode: "exact, from the engine".to_owned(),
        series,
        outcome,
    }
}

/// The statistic, when the phase measured any latency.
fn value(outcome: &HttpPhaseOutcome, stat: ClientStat) -> Option<f64> {
    let l = &outcome.latency;
    (l.samples > 0).then_some(match stat {
        ClientStat::Mean => l.mean,
        ClientStat::P50 => l.p50,
        ClientStat::P90 => l.p90,
        ClientStat::P99 => l.p99,
        ClientStat::Max => l.max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CompareOp, Expectation, parse};

    fn phase(p50: f64, samples: u64) -> PhaseRecord {
        let outcome: HttpPhaseOutcome = serde_json::from_value(serde_json::json!({
            "phase": "steady", "requested_rate": 10.0, "achieved_rate": 10.0, "sent": samples,
            "completed": samples, "ok": samples,
            "status_classes": {"1xx": 0, "2xx": samples, "3xx": 0, "4xx": 0, "5xx": 0},
            "errors": {"timeout": 0, "connect": 0, "io": 0, "status_4xx": 0, "status_5xx": 0},
            "dropped": 0,
            "latency": {"samples": samples, "mean": p50, "p50": p50, "p90": p50, "p99": p50, "max": p50},
            "dispatch_lag": null, "duration": 1.0, "wall_duration": 1.0, "client_error": 0, "5xx": 0
        }))
        .expect("an HTTP outcome");
        PhaseRecord {
            name: "steady".into(),
            kind: "http".into(),
            window: Window { start: 1.0, end: 2.0 },
            load: Some(PhaseOutcome::Http(outcome)),
            noise: None,
        }
    }

    fn p50_under(limit: f64) -> Assertion {
        let spec = parse(
            &format!(
                "version: 1\nstack: {{ services: {{ prometheus: {{ kind: prometheus }}, api: {{ kind: demo-api }} }} }}\nload:\n  - phase: steady\n    http: {{ target: api, rate: 10/s, duration: 1s, mix: [{{ get: /health }}] }}\nassert:\n  - name: p50\n    during: steady\n    client: p50\n    expect: < {limit}\n"
            ),
            std::path::Path::new("t.yaml"),
        )
        .expect("a valid spec");
        let a = spec.assertions[0].clone();
        assert_eq!(a.expect, Expectation::Compare(CompareOp::Lt, limit));
        a
    }

    #[test]
    fn the_exact_statistic_is_judged_and_a_phase_without_latencies_is_an_error() {
        let a = p50_under(0.005);
        assert_eq!(a.client, Some(ClientStat::P50));
        assert_eq!(a.query, "client p50 latency of phase steady (exact)");
        let v = evaluate_client(&a, ClientStat::P50, Some(&phase(0.004, 100)));
        assert!(v.outcome.passed(), "{:?}", v.outcome);
        assert_eq!(v.series[0].samples[0].v, 0.004);
        assert_eq!(v.window.end, 2.0);
        let v = evaluate_client(&a, ClientStat::P50, Some(&phase(0.006, 100)));
        assert!(matches!(v.outcome, Outcome::Fail { .. }), "{:?}", v.outcome);
        let v = evaluate_client(&a, ClientStat::P50, Some(&phase(0.0, 0)));
        assert!(matches!(v.outcome, Outcome::Error { .. }), "{:?}", v.outcome);
        let v = evaluate_client(&a, ClientStat::P50, None);
        assert!(matches!(v.outcome, Outcome::Error { .. }), "{:?}", v.outcome);
    }
}

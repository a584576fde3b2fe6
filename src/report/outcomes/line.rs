//! The phase table's `load` column: one line per phase outcome, by engine.

use crate::load::PhaseOutcome;
use crate::load::freshness::FreshnessOutcome;
use crate::load::http::HttpPhaseOutcome;

/// `40.0/s of 40/s, 120 done, p99 316.4ms` and the like; empty for an outcome perfgate cannot
/// read (written by another version).
pub(crate) fn phase_line(outcome: &PhaseOutcome) -> String {
    let parts = match outcome {
        PhaseOutcome::Http(o) => http(o),
        PhaseOutcome::Freshness(o) => vec![freshness(o)],
        PhaseOutcome::Replicate(o) => {
            let mut parts = Vec::new();
            parts.extend(rates(o.requested_rate, o.achieved_rate));
            parts.push(done(o.completed));
            parts
        }
        PhaseOutcome::Swarm(o) => vec![done(o.completed)],
        PhaseOutcome::Unrecognised(_) => Vec::new(),
    };
    parts.join(", ")
}

/// A JSON number as the record holds it: non-finite values are `null` there, so not shown.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn rates(requested: Option<f64>, achieved: f64) -> Option<String> {
    let (req, got) = (requested.and_then(finite)?, finite(achieved)?);
    Some(format!("{got:.1}/s of {req:.0}/s"))
}

fn done(completed: u64) -> String {
    format!("{completed} done")
}

fn http(o: &HttpPhaseOutcome) -> Vec<String> {
    let mut parts = Vec::new();
    parts.extend(rates(o.requested_rate, o.achieved_rate));
    parts.push(done(o.completed));
    if let Some(p99) = finite(o.latency.p99) {
        parts.push(format!("p99 {:.1}ms", p99 * 1000.0));
    }
    if o.dropped > 0 {
        parts.push(format!("{} dropped", o.dropped));
    }
    parts
}

/// How long until the load's requests were counted.
fn freshness(o: &FreshnessOutcome) -> String {
    let observed = o
        .observed
        .and_then(finite)
        .map_or("?".into(), |v| format!("{v:.0}"));
    let expected = o.expected;
    match o.lag_seconds.and_then(finite) {
        Some(lag) => format!("counted after {lag:.2}s ({observed} of {expected})"),
        None => format!("NOT counted in time ({observed} of {expected})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn freshness_outcome(observed: f64, lag_seconds: Option<f64>) -> PhaseOutcome {
        PhaseOutcome::Freshness(FreshnessOutcome {
            query: "q".into(),
            target: "api".into(),
            paths: ".*".into(),
            expected: 297,
            observed: Some(observed),
            lag_seconds,
            polls: 3,
            last_error: None,
        })
    }

    #[test]
    fn a_freshness_outcome_says_when_the_load_was_counted() {
        let caught = freshness_outcome(297.0, Some(1.126));
        assert_eq!(phase_line(&caught), "counted after 1.13s (297 of 297)");
        let late = freshness_outcome(120.0, None);
        assert_eq!(phase_line(&late), "NOT counted in time (120 of 297)");
    }

    #[test]
    fn an_outcome_of_another_version_is_read_back_and_shown_empty() {
        let saved = serde_json::json!({"completed": "many"});
        let outcome = PhaseOutcome::from_saved("http", saved.clone());
        assert_eq!(outcome, PhaseOutcome::Unrecognised(saved.clone()));
        assert_eq!(outcome.to_json(), saved);
        assert_eq!(phase_line(&outcome), "");
    }
}

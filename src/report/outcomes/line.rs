//! The phase table's `load` column: one line per phase outcome, by engine.

use crate::load::PhaseOutcome;
use crate::load::freshness::FreshnessOutcome;
use crate::load::http::HttpPhaseOutcome;
use crate::load::replicate::ReplicateOutcome;

/// Non-2xx statuses named on an HTTP phase's line, the largest shares first; the rest are added
/// up as `other`.
const SHOWN_STATUSES: usize = 3;

/// `40.0/s of 40/s, 120 done, 1.7 % 503, p99 316.4ms` and the like; empty for an outcome
/// perfgate cannot read (written by another version).
pub(crate) fn phase_line(outcome: &PhaseOutcome) -> String {
    let parts = match outcome {
        PhaseOutcome::Http(o) => http(o),
        PhaseOutcome::Freshness(o) => vec![freshness(o)],
        PhaseOutcome::Replicate(o) => replicate(o),
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

/// A dry run says what it would have written, never "done"; a real one its drops.
fn replicate(o: &ReplicateOutcome) -> Vec<String> {
    let mut parts: Vec<String> = rates(o.requested_rate, o.achieved_rate).into_iter().collect();
    if o.dry_run {
        parts.push(format!("dry run: would write {} samples", o.completed));
        return parts;
    }
    parts.push(done(o.completed));
    if o.samples_dropped > 0 {
        parts.push(format!("{} dropped", o.samples_dropped));
    }
    parts
}

fn done(completed: u64) -> String {
    format!("{completed} done")
}

fn http(o: &HttpPhaseOutcome) -> Vec<String> {
    let mut parts = Vec::new();
    parts.extend(rates(o.requested_rate, o.achieved_rate));
    parts.push(done(o.completed));
    parts.extend(not_2xx(o));
    parts.extend(transport_errors(o));
    if let Some(p99) = finite(o.latency.p99) {
        parts.push(format!("p99 {:.1}ms", p99 * 1000.0));
    }
    if o.dropped > 0 {
        parts.push(format!("{} dropped", o.dropped));
    }
    parts
}

/// Each non-2xx answer's share of the requests that ended (responses and transport errors),
/// largest first: `82.0 % 429`. A record without `statuses` (older) gives them by class
/// (`1.7 % 5xx`).
fn not_2xx(o: &HttpPhaseOutcome) -> Vec<String> {
    let e = &o.errors;
    let ended = o.completed + e.timeout + e.connect + e.io;
    let mut shares: Vec<(u64, String)> = if o.statuses.is_empty() {
        let c = &o.status_classes;
        [
            (c.informational, "1xx"),
            (c.redirection, "3xx"),
            (c.client_error, "4xx"),
            (c.server_error, "5xx"),
        ]
        .into_iter()
        .map(|(n, class)| (n, class.to_owned()))
        .collect()
    } else {
        o.statuses
            .iter()
            .filter(|(code, _)| !(200..300).contains(*code))
            .map(|(code, n)| (*n, code.to_string()))
            .collect()
    };
    shares.retain(|(n, _)| *n > 0);
    if ended == 0 || shares.is_empty() {
        return Vec::new();
    }
    // Stable: equal shares keep the order of their codes.
    shares.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    if shares.len() > SHOWN_STATUSES {
        let rest = shares.split_off(SHOWN_STATUSES - 1);
        shares.push((rest.iter().map(|(n, _)| n).sum(), "other".to_owned()));
    }
    let percent = |n: u64| {
        let p = n as f64 * 100.0 / ended as f64;
        if p < 0.1 {
            "<0.1 %".to_owned()
        } else {
            format!("{p:.1} %")
        }
    };
    shares
        .into_iter()
        .map(|(n, what)| format!("{} {what}", percent(n)))
        .collect()
}

/// Requests that ended without a response, by kind: `42 transport errors (2 timeout, 40
/// connect)`.
fn transport_errors(o: &HttpPhaseOutcome) -> Option<String> {
    let e = &o.errors;
    let kinds: Vec<String> = [(e.timeout, "timeout"), (e.connect, "connect"), (e.io, "io")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{n} {kind}"))
        .collect();
    let total = e.timeout + e.connect + e.io;
    let noun = if total == 1 { "error" } else { "errors" };
    (total > 0).then(|| format!("{total} transport {noun} ({})", kinds.join(", ")))
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
    use crate::load::http::{ErrorCounts, LatencySummary, StatusClasses};

    /// A 100/s phase of 50 s whose responses had `statuses`, p99 1.8 ms.
    fn http_outcome(statuses: &[(u16, u64)], errors: ErrorCounts) -> HttpPhaseOutcome {
        let completed = statuses.iter().map(|(_, n)| n).sum();
        HttpPhaseOutcome {
            phase: "steady".into(),
            requested_rate: Some(100.0),
            achieved_rate: 100.0,
            sent: completed + errors.timeout + errors.connect + errors.io,
            completed,
            completed_by_endpoint: Default::default(),
            ok: 0,
            status_classes: StatusClasses::default(),
            statuses: statuses.iter().copied().collect(),
            errors,
            dropped: 0,
            latency: LatencySummary {
                samples: completed,
                p99: 0.0018,
                ..LatencySummary::default()
            },
            dispatch_lag: None,
            duration: 50.0,
            wall_duration: 50.0,
        }
    }

    fn replicate_outcome(dry_run: bool, dropped: u64) -> ReplicateOutcome {
        serde_json::from_value(serde_json::json!({
            "phase": "copy", "dry_run": dry_run, "source_metrics": 4, "excluded_metrics": 0,
            "source_series": 8, "source_samples": 80, "copies_per_series": 10,
            "series_written": 80, "samples_written": 800, "metadata_written": 4,
            "completed": 800, "requests": 8, "retries": 0, "bytes_sent": 1000,
            "bytes_uncompressed": 4000, "samples_dropped": dropped, "dropped": {},
            "messages": [], "requested_rate": null, "achieved_rate": 400.0,
            "wall_duration": 2.0, "timed_out": false
        }))
        .expect("a replicate outcome")
    }

    #[test]
    fn a_dry_run_says_what_it_would_write_and_a_real_one_its_drops() {
        let line = |o| phase_line(&PhaseOutcome::Replicate(o));
        assert_eq!(line(replicate_outcome(true, 0)), "dry run: would write 800 samples");
        assert_eq!(line(replicate_outcome(false, 0)), "800 done");
        assert_eq!(line(replicate_outcome(false, 12)), "800 done, 12 dropped");
    }

    fn line(o: HttpPhaseOutcome) -> String {
        phase_line(&PhaseOutcome::Http(o))
    }

    #[test]
    fn an_http_line_shows_the_share_of_each_non_2xx_status_and_transport_errors() {
        let clean = http_outcome(&[(200, 4990), (204, 10)], ErrorCounts::default());
        assert_eq!(line(clean), "100.0/s of 100/s, 5000 done, p99 1.8ms");
        let throttled = http_outcome(&[(200, 900), (429, 4100)], ErrorCounts::default());
        assert_eq!(line(throttled), "100.0/s of 100/s, 5000 done, 82.0 % 429, p99 1.8ms");
        let refused = ErrorCounts {
            timeout: 2,
            connect: 40,
            ..ErrorCounts::default()
        };
        assert_eq!(
            line(http_outcome(&[(200, 57), (503, 1)], refused)),
            "100.0/s of 100/s, 58 done, 1.0 % 503, 42 transport errors (2 timeout, 40 connect), p99 1.8ms"
        );
        let one = ErrorCounts {
            io: 1,
            ..ErrorCounts::default()
        };
        let rare = http_outcome(&[(200, 99_998), (500, 1)], one);
        assert_eq!(
            line(rare),
            "100.0/s of 100/s, 99999 done, <0.1 % 500, 1 transport error (1 io), p99 1.8ms"
        );
    }

    #[test]
    fn many_statuses_are_summed_as_other_and_older_records_shown_by_class() {
        let many = &[(200, 60), (301, 1), (404, 20), (429, 10), (500, 5), (503, 4)];
        assert_eq!(
            line(http_outcome(many, ErrorCounts::default())),
            "100.0/s of 100/s, 100 done, 20.0 % 404, 10.0 % 429, 10.0 % other, p99 1.8ms"
        );
        let mut older = http_outcome(&[], ErrorCounts::default());
        older.completed = 120;
        older.status_classes = StatusClasses {
            success: 118,
            server_error: 2,
            ..StatusClasses::default()
        };
        assert_eq!(line(older), "100.0/s of 100/s, 120 done, 1.7 % 5xx, p99 1.8ms");
    }

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

//! The expected count and the gauge's exposition.

use super::{FreshnessMetrics, expected_count};
use crate::load::http::{ErrorCounts, HttpPhaseOutcome, LatencySummary, StatusClasses};

fn outcome(by_endpoint: &[(&str, u64)]) -> HttpPhaseOutcome {
    HttpPhaseOutcome {
        phase: "p".into(),
        requested_rate: None,
        achieved_rate: 0.0,
        sent: 0,
        completed: by_endpoint.iter().map(|(_, n)| n).sum(),
        completed_by_endpoint: by_endpoint
            .iter()
            .map(|(e, n)| (e.to_string(), *n))
            .collect(),
        ok: 0,
        status_classes: StatusClasses::default(),
        statuses: Default::default(),
        errors: ErrorCounts::default(),
        dropped: 0,
        latency: LatencySummary::default(),
        dispatch_lag: None,
        duration: 1.0,
        wall_duration: 1.0,
    }
}

#[test]
fn expected_counts_matching_paths_of_the_target_over_every_phase() {
    let a = outcome(&[("/api/users", 10), ("/health", 50), ("/api/orders", 3)]);
    let b = outcome(&[("/api/users", 5)]);
    let other = outcome(&[("/api/users", 1000)]);
    let phases = [("api", &a), ("api", &b), ("web", &other)];
    assert_eq!(expected_count(phases, "api", "/api/.*"), 18);
    // Anchored, as PromQL's `=~`: `/api` alone matches no path here.
    assert_eq!(expected_count(phases, "api", "/api"), 0);
    assert_eq!(expected_count(phases, "api", ".*"), 68);
}

#[test]
fn the_gauge_renders_infinity_as_prometheus_reads_it() {
    let m = FreshnessMetrics::new();
    m.set("late", f64::INFINITY);
    m.set("ok", 1.25);
    let mut text = String::new();
    prometheus_client::encoding::text::encode_registry(&mut text, &m.registry).unwrap();
    assert!(
        text.contains("perfgate_freshness_seconds{phase=\"ok\"} 1.25\n"),
        "{text}"
    );
    let inf = text
        .lines()
        .find_map(|l| l.strip_prefix("perfgate_freshness_seconds{phase=\"late\"} "))
        .expect("late series");
    // Prometheus parses with Go's strconv.ParseFloat: "+Inf", "Inf" and "inf" all work.
    assert!(
        ["+Inf", "Inf", "inf"].contains(&inf),
        "unexpected infinity: {inf}"
    );
}

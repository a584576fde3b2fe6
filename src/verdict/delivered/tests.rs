//! Delivery verdicts judged on engine outcomes written by hand, phases read from real specs.

use std::path::Path;

use rstest::rstest;

use super::*;
use crate::load::PhaseOutcome;
use crate::load::replicate::ReplicateOutcome;
use crate::load::http::{ErrorCounts, HttpPhaseOutcome, LagSummary, LatencySummary, StatusClasses};
use crate::spec::parse;

/// A spec whose phase `steady` is 100/s for 10 s (1000 planned requests), with `delivered`
/// written under it when given.
fn spec(delivered: &str) -> Spec {
    let source = format!(
        "stack:\n  services:\n    prometheus: {{ kind: prometheus }}\n    api: {{ kind: demo-api }}\nload:\n  - phase: steady\n    http: {{ target: api, rate: 100/s, duration: 10s, mix: [{{ get: /health }}] }}\n{delivered}  - phase: rest\n    pause: 1s\n"
    );
    parse(&source, Path::new("t.yaml")).expect("a valid spec")
}

fn http(completed: u64, connect_errors: u64, lag_p99: f64) -> HttpPhaseOutcome {
    HttpPhaseOutcome {
        phase: "steady".into(),
        requested_rate: Some(100.0),
        achieved_rate: completed as f64 / 10.0,
        sent: completed + connect_errors,
        completed,
        completed_by_endpoint: BTreeMap::new(),
        ok: completed,
        status_classes: StatusClasses::default(),
        statuses: BTreeMap::new(),
        errors: ErrorCounts {
            connect: connect_errors,
            ..ErrorCounts::default()
        },
        dropped: 0,
        latency: LatencySummary::default(),
        dispatch_lag: Some(LagSummary {
            p50: 0.0,
            p99: lag_p99,
            max: lag_p99,
        }),
        duration: 10.0,
        wall_duration: 10.0,
    }
}

fn run(name: &str, outcome: HttpPhaseOutcome) -> PhaseRecord {
    PhaseRecord {
        name: name.into(),
        kind: "http".into(),
        window: Window { start: 0.0, end: 10.0 },
        load: Some(PhaseOutcome::Http(outcome)),
        noise: None,
    }
}

fn reasons(v: &Verdict) -> Vec<String> {
    match &v.outcome {
        Outcome::Fail { reasons } => reasons.clone(),
        Outcome::Pass => Vec::new(),
        other => panic!("{other:?}"),
    }
}

#[rstest]
#[case::all_answered(http(1000, 0, 0.001), &[])]
#[case::at_the_limits(http(950, 9, 0.050), &[])]
#[case::short_of_the_rate(
    http(840, 0, 0.001),
    &["answered 840 of 1000 planned requests (84 %, below the 95 % asked): 84.0/s of 100/s"]
)]
#[case::nothing_listening(
    http(0, 1000, 0.001),
    &[
        "answered 0 of 1000 planned requests (0 %, below the 95 % asked): 0.0/s of 100/s",
        "1000 of 1000 requests got no response (100 %, above the 1 % allowed): 0 timeout, 1000 connect, 0 io",
    ]
)]
#[case::late_generator(
    http(1000, 0, 0.0621),
    &["the load generator fell behind its schedule: send lag p99 62.1 ms above the 50 ms limit"]
)]
fn an_http_phase_is_judged_on_what_it_delivered(
    #[case] outcome: HttpPhaseOutcome,
    #[case] expected: &[&str],
) {
    let verdicts = judge_deliveries(&spec(""), &[run("steady", outcome)]);
    assert_eq!(verdicts.len(), 1, "a pause has no delivery verdict");
    assert_eq!(verdicts[0].id, "steady::delivered");
    assert_eq!(reasons(&verdicts[0]), expected);
}

#[test]
fn limits_written_on_the_phase_tighten_the_verdict() {
    let tight = spec("    delivered: { rate: 99%, transport_errors: 0.1%, send_lag: 5ms }\n");
    let verdicts = judge_deliveries(&tight, &[run("steady", http(985, 2, 0.006))]);
    assert_eq!(reasons(&verdicts[0]).len(), 3, "{:?}", verdicts[0].outcome);
    assert!(verdicts[0].expectation.starts_with("≥ 99 % answered, ≤ 0.1 % no response, lag p99 ≤ 5 ms"));
}

#[test]
fn a_phase_turned_off_has_no_verdict() {
    let off = spec("    delivered: off\n");
    assert!(judge_deliveries(&off, &[run("steady", http(0, 1000, 0.0))]).is_empty());
}

#[test]
fn every_repetition_of_a_phase_is_judged_and_named() {
    let runs = [
        run("steady (base 1)", http(1000, 0, 0.001)),
        run("steady (candidate 1)", http(500, 0, 0.001)),
    ];
    let verdict = &judge_deliveries(&spec(""), &runs)[0];
    let reasons = reasons(verdict);
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].starts_with("steady (candidate 1): answered 500 of 1000"), "{reasons:?}");
    assert_eq!(verdict.series.len(), 6, "three checks per run");
    assert_eq!(verdict.series[3].labels["run"], "steady (candidate 1)");
}

#[test]
fn a_pass_on_an_undelivered_phase_is_inconclusive() {
    let mut record = RunRecord::minimal("r");
    let fail = || Outcome::Fail { reasons: vec!["slow".into()] };
    record.verdicts = vec![
        Verdict::judged("on_steady", Some("steady"), Outcome::Pass),
        Verdict::judged("on_warmup", Some("warmup"), Outcome::Pass),
        Verdict::judged("whole", None, Outcome::Pass),
        Verdict::judged("failed", Some("steady"), fail()),
        Verdict::judged("steady::delivered", Some("steady"), Outcome::Fail { reasons: vec!["answered 0".into()] }),
        Verdict::judged("warmup::delivered", Some("warmup"), Outcome::Pass),
    ];
    apply_delivery_guard(&mut record);
    let word = |id: &str| record.verdict(id).unwrap().outcome.word();
    assert_eq!(
        ["on_steady", "on_warmup", "whole", "failed", "steady::delivered"].map(word),
        ["INCONCLUSIVE", "PASS", "INCONCLUSIVE", "FAIL", "FAIL"]
    );
    let Outcome::Inconclusive { reasons } = &record.verdict("on_steady").unwrap().outcome else {
        unreachable!()
    };
    assert_eq!(
        reasons[0],
        "phase `steady` did not deliver the load the spec asked for (answered 0): a pass under less load proves nothing"
    );
}

/// A replication whose receiver refused every connection: the phase's verdict fails naming
/// the drop reason and why the receiver was given up.
#[test]
fn a_replication_into_a_down_receiver_fails_saying_why() {
    let source = "stack:\n  services:\n    prometheus: { kind: prometheus }\nload:\n  - phase: copy\n    replicate: { from: prometheus, to: http://127.0.0.1:9/api/v1/write, labels: { c: 3 } }\n";
    let spec = parse(source, Path::new("r.yaml")).expect("a valid spec");
    let why = "the receiver at http://127.0.0.1:9/api/v1/write refused every connection for 10.0 s; gave up (last error: Connection refused (os error 111))";
    let outcome = ReplicateOutcome {
        phase: "copy".into(),
        dry_run: false,
        source_metrics: 4,
        excluded_metrics: 0,
        source_series: 9,
        source_samples: 189,
        stale_markers: 0,
        copies_per_series: 3,
        series_written: 0,
        samples_written: 0,
        metadata_written: 0,
        completed: 0,
        requests: 2,
        retries: 8,
        bytes_sent: 0,
        bytes_uncompressed: 2_450,
        samples_dropped: 567,
        dropped: BTreeMap::from([("receiver_down".to_owned(), 567)]),
        messages: vec![why.into()],
        requested_rate: None,
        achieved_rate: 0.0,
        wall_duration: 10.0,
        timed_out: false,
    };
    let record = PhaseRecord {
        name: "copy".into(),
        kind: "replicate".into(),
        window: Window { start: 0.0, end: 10.0 },
        load: Some(PhaseOutcome::Replicate(outcome)),
        noise: None,
    };
    let verdicts = judge_deliveries(&spec, &[record]);
    assert_eq!(
        reasons(&verdicts[0]),
        [format!("567 samples dropped (567 receiver_down), above the 0 allowed; {why}")]
    );
}

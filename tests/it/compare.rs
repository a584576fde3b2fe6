//! `compare:` end to end on real Prometheus and the demo API's CPU-bound endpoint: base and
//! candidate side by side, interleaved repetitions, the claim judged on paired values. A large
//! seeded regression (twice the CPU per request) fails; an unchanged candidate passes or is
//! INCONCLUSIVE, never FAIL.

use std::path::Path;

use perfgate::report::{Outcome, RunRecord, failure_message};
use perfgate::run::{RunOptions, run_spec};
use perfgate::spec;

use crate::support::slots;

/// `repeat:` of both fixtures: with 7 pairs one disturbed pair cannot decide the interval of
/// the median ratio on its own (with 3 or 5 it is an end of it).
const PAIRS: usize = 7;

fn run(name: &str) -> RunRecord {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/specs/compare")
        .join(name);
    let spec = spec::load(&path).expect("fixture spec is valid");
    let opts = RunOptions {
        out_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("compare"),
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        // The verdict itself is under test, not the noise guard (tests/it/noise.rs).
        noise_guard: false,
        ..RunOptions::default()
    };
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(run_spec(&spec, &opts))
}

/// The claim's verdict; every repetition ran both variants, in pairs.
fn claim(record: &RunRecord) -> &perfgate::report::Verdict {
    assert_eq!(record.failure, None, "the run broke");
    let steady: Vec<&str> = record
        .phases
        .iter()
        .filter(|p| p.name.starts_with("steady"))
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(steady.len(), 2 * PAIRS, "{steady:?}");
    for pair in 1..=PAIRS {
        for variant in ["base", "candidate"] {
            let name = format!("steady ({variant} {pair})");
            assert!(
                steady.contains(&name.as_str()),
                "{name} missing: {steady:?}"
            );
        }
    }
    let verdict = record
        .verdict("client_mean_latency_not_slower")
        .expect("the claim's verdict");
    assert_eq!(verdict.series.len(), 2, "base and candidate series");
    for s in &verdict.series {
        assert_eq!(s.samples.len(), PAIRS, "one value per pair: {s:?}");
        assert!(s.samples.iter().all(|p| p.v > 0.0), "{s:?}");
    }
    assert!(
        verdict.expectation.contains("candidate/base"),
        "{}",
        verdict.expectation
    );
    verdict
}

#[test]
fn a_doubled_cpu_cost_fails_the_comparison() {
    let _turn = slots::heavy();
    let record = run("regression.yaml");
    let verdict = claim(&record);
    assert!(
        matches!(verdict.outcome, Outcome::Fail { .. }),
        "{}",
        failure_message(&record, verdict).unwrap_or_else(|| verdict.expectation.clone())
    );
    let ratio = |s: usize| verdict.series[s].samples.iter().map(|p| p.v).sum::<f64>();
    assert!(ratio(1) > ratio(0) * 1.3, "{:?}", verdict.series);
}

#[test]
fn an_unchanged_candidate_never_fails_the_comparison() {
    let _turn = slots::heavy();
    let record = run("unchanged.yaml");
    let verdict = claim(&record);
    assert!(
        !matches!(
            verdict.outcome,
            Outcome::Fail { .. } | Outcome::Error { .. }
        ),
        "{}",
        failure_message(&record, verdict).unwrap_or_default()
    );
}

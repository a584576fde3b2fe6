//! `repeat:` end to end: the phases run N times on one stack, every assertion is asked in each
//! run and judged on all the values; a baseline saved from such a run keeps them, and a later run
//! is judged against that distribution.

use std::path::Path;

use perfgate::report::{Outcome, RunRecord};
use perfgate::run::{RunOptions, run_spec};
use perfgate::spec;

use crate::support::slots;

const RUNS: usize = 4;

fn run(dir: &Path, save: Option<&str>, baseline: Option<&str>) -> RunRecord {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/gates/repeated.yaml");
    let path = dir.join("repeated.yaml");
    std::fs::copy(&fixture, &path).expect("copy the fixture");
    let spec = spec::load(&path).expect("fixture spec is valid");
    let opts = RunOptions {
        out_dir: dir.join("out"),
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        save_baseline: save.map(str::to_owned),
        baseline: baseline.map(str::to_owned),
        noise_guard: false,
        ..RunOptions::default()
    };
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(run_spec(&spec, &opts))
}

#[test]
fn every_run_is_kept_and_a_later_run_is_judged_against_the_saved_distribution() {
    let _turn = slots::heavy();
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), Some("main"), None);
    assert_eq!(first.failure, None, "the run broke");
    let steady: Vec<&str> = first.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        steady,
        [
            "steady (run 1)",
            "steady (run 2)",
            "steady (run 3)",
            "steady (run 4)"
        ]
    );
    let under = first
        .verdict("p50_under_250ms")
        .expect("the threshold's verdict");
    assert_eq!(under.series[0].samples.len(), RUNS, "{under:?}");
    assert_eq!(under.mode, "4 runs");
    assert!(under.outcome.passed(), "{:?}", under.outcome);
    assert!(
        under.expectation.contains("median"),
        "{}",
        under.expectation
    );
    // A first save is judged against itself: the baseline it becomes.
    let near = first.verdict("p50_near_baseline").unwrap();
    assert!(near.outcome.passed(), "{:?}", near.outcome);
    assert!(dir.path().join("baselines/repeated/main.json").is_file());

    let second = run(dir.path(), None, Some("main"));
    let near = second.verdict("p50_near_baseline").unwrap();
    assert!(
        near.expectation.contains("median ratio to baseline"),
        "judged against the distribution: {}",
        near.expectation
    );
    assert!(
        !matches!(near.outcome, Outcome::Fail { .. } | Outcome::Error { .. }),
        "an unchanged service: {:?}",
        near.outcome
    );
}

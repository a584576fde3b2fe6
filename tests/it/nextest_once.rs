//! Under cargo-nextest every test case runs in its own process; each spec's stack must still
//! come up exactly once per test run. Runs the real `cargo nextest run` on the `specs` harness
//! with a fixture folder of specs and counts the report folders the run left.

use std::path::Path;
use std::process::Command;

use crate::support::slots;

#[test]
fn nextest_brings_each_stack_up_once() {
    let _turn = slots::heavy();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let probe = Command::new(&cargo).args(["nextest", "--version"]).output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "cargo-nextest is required for this test: `cargo install cargo-nextest --locked` (CI installs it)"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("nextest-once-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(&cargo)
        .current_dir(root)
        .args([
            "nextest",
            "run",
            "--test",
            "specs",
            "--no-fail-fast",
            "--color",
            "never",
        ])
        // Set by cargo for this test (perfgate has a build script); in the nested cargo's
        // environment it would make perfgate's fingerprint dirty and rebuild the binary that
        // tests running beside this one execute.
        .env_remove("OUT_DIR")
        .env("PERFGATE_SPECS", root.join("fixtures/specs/nextest"))
        .env("PERFGATE_OUT", &out)
        .output()
        .expect("cargo nextest runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "nextest failed:\n{stderr}");
    assert!(
        stderr.contains("4 tests run: 4 passed"),
        "expected the 3 gates and the one delivery verdict of once.yaml to run and pass:\n{stderr}"
    );
    let runs: Vec<_> = std::fs::read_dir(out.join("once"))
        .expect("a report folder for the spec")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("report.json").is_file())
        .collect();
    assert_eq!(runs.len(), 1, "the stack came up {} times", runs.len());
    // The run left who ran it: the nextest runner, gone now, so the next run removes its files.
    let owners: Vec<String> = std::fs::read_dir(out.join("shared"))
        .expect("the shared folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("runner-") && n.ends_with(".owner"))
        .collect();
    assert_eq!(owners.len(), 1, "{owners:?}");
    let owner = std::fs::read_to_string(out.join("shared").join(&owners[0])).unwrap();
    let (pid, start) = owner.trim().split_once(':').expect("PID:START");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let same = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(19))
        .is_some_and(|s| s == start);
    assert!(
        !same,
        "the runner {owner} of a finished nextest run is still alive"
    );
}

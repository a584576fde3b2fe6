//! Snapshot stability end to end, through `perfgate run` on a real stack: an accepted
//! snapshot stays byte-for-byte unchanged on a second run; a seeded latency regression fails
//! under `CI=true` without writing anything, and otherwise leaves a pending `.snap.new` whose
//! diff names the series and its old and new values. Baselines ride along: the first run
//! saves one, the regression breaks `within 40% of baseline`. The same snapshot also goes
//! through `cargo test`'s path: the `specs` harness's `<spec>::snapshot::<id>` trial.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::slots;

const SPEC: &str = "latency.yaml";
const SNAP: &str = "snapshots/latency__p50_latency_per_endpoint.snap";

/// Reports under `dir`, and insta's, CI's and baseline variables under the test's control.
fn isolated(cmd: &mut Command, dir: &Path) {
    cmd.env("PERFGATE_OUT", dir.join("out"))
        .env("NO_COLOR", "1")
        .env_remove("INSTA_UPDATE")
        .env_remove("INSTA_FORCE_PASS")
        .env_remove("PERFGATE_BASELINE")
        .env_remove("PERFGATE_BASELINES")
        // The verdicts are under test, not the noise guard (tests/it/noise.rs).
        .env("PERFGATE_NOISE_GUARD", "off");
    for var in ["CI", "TF_BUILD", "GITHUB_ACTIONS", "BUILDKITE", "GITLAB_CI"] {
        cmd.env_remove(var);
    }
}

/// `perfgate run` in `dir`.
fn run(dir: &Path, args: &[&str], ci: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.arg("run")
        .arg("--quiet")
        .args(args)
        .arg(SPEC)
        .current_dir(dir);
    isolated(&mut cmd, dir);
    if ci {
        cmd.env("CI", "true");
    }
    cmd.output().expect("perfgate runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn hash(path: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    std::fs::read(path).expect("snapshot file").hash(&mut h);
    h.finish()
}

fn set_latency_factor(dir: &Path, factor: &str) {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/snapshots/latency.yaml"),
    )
    .unwrap();
    let spec = source.replace("latency_factor: 1.0", &format!("latency_factor: {factor}"));
    std::fs::write(dir.join(SPEC), spec).unwrap();
}

#[test]
fn snapshots_are_stable_and_a_seeded_regression_is_pending_for_review() {
    let _turn = slots::heavy();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let snap = dir.join(SNAP);
    let pending = dir.join(format!("{SNAP}.new"));
    set_latency_factor(dir, "1.0");

    // First run: nothing stored, insta leaves a pending snapshot and the run fails; the run is
    // saved as baseline `main`, and its baseline gate, judged against the baseline it becomes,
    // passes.
    let first = run(dir, &["--save-baseline", "main"], false);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    assert!(!text(&first).contains("no baseline"), "{}", text(&first));
    assert!(
        text(&first).contains("baseline `main` saved"),
        "{}",
        text(&first)
    );
    assert!(pending.is_file(), "no pending snapshot\n{}", text(&first));
    std::fs::rename(&pending, &snap).unwrap(); // what `cargo insta accept` does
    let accepted = hash(&snap);

    // Same stack again, saved as a second baseline: within tolerance, the file is untouched and
    // the run passes; `b2` is judged against itself, not against `main`.
    let second = run(dir, &["--save-baseline", "b2"], false);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let b2: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("baselines/latency/b2.json")).expect("b2 saved"),
    )
    .unwrap();
    assert_eq!(b2["baseline"]["name"], "b2", "{b2:#}");
    assert_eq!(
        hash(&snap),
        accepted,
        "an unchanged stack rewrote the snapshot"
    );
    assert!(!pending.exists(), "{}", text(&second));
    assert!(dir.join("baselines/latency/main.json").is_file());

    // Seeded regression under CI: fails, writes nothing.
    set_latency_factor(dir, "2.0");
    let ci = run(dir, &[], true);
    let out = text(&ci);
    assert_eq!(ci.status.code(), Some(1), "{out}");
    assert!(!pending.exists(), "CI mode wrote a pending snapshot\n{out}");
    assert_eq!(hash(&snap), accepted);
    assert!(out.contains("snapshot changed beyond tolerance"), "{out}");
    assert!(out.contains(r#"{endpoint="/api/users"}: "#), "{out}");
    assert!(out.contains("is not within 40% of the baseline"), "{out}");

    // Seeded regression locally: a pending snapshot for `cargo insta review`. Judged against a
    // baseline that was never saved, the baseline gate names the command that saves it.
    let local = run(dir, &["--baseline", "release"], false);
    assert_eq!(local.status.code(), Some(1), "{}", text(&local));
    assert!(
        text(&local).contains("no baseline `release`"),
        "{}",
        text(&local)
    );
    assert_eq!(hash(&snap), accepted);
    let new = std::fs::read_to_string(&pending).expect("pending snapshot");
    let old = std::fs::read_to_string(&snap).unwrap();
    let line = |s: &str| {
        s.lines()
            .find(|l| l.contains(r#"{endpoint="/api/users"}"#))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert_ne!(line(&new), line(&old), "the users series did not move");
    let value = |l: String| -> f64 { l.rsplit(' ').next().unwrap().parse().unwrap() };
    let (was, now) = (value(line(&old)), value(line(&new)));
    assert!(now > was * 1.4, "p50 {was} → {now}");
    assert_eq!(
        new.lines().find(|l| l.contains("/health")),
        old.lines().find(|l| l.contains("/health")),
        "an unaffected series changed"
    );
}

/// `cargo test --test specs` on a folder holding only the latency spec.
fn harness(dir: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["test", "--quiet", "--test", "specs", "--"])
        .args(args)
        // Set by cargo for this test; the nested cargo would rebuild perfgate's binary under
        // the tests running beside this one (tests/it/nextest_once.rs).
        .env_remove("OUT_DIR")
        .env("PERFGATE_SPECS", dir);
    isolated(&mut cmd, dir);
    cmd.output().expect("cargo test runs")
}

#[test]
fn the_specs_harness_checks_snapshots_as_trials() {
    let _turn = slots::heavy();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let snap = dir.join(SNAP);
    let pending = dir.join(format!("{SNAP}.new"));
    set_latency_factor(dir, "1.0");
    const TRIAL: &str = "latency::snapshot::p50_latency_per_endpoint";

    let list = harness(dir, &["--list"]);
    assert!(
        text(&list).contains(&format!("{TRIAL}: test")),
        "{}",
        text(&list)
    );

    // Nothing stored yet: the trial fails and leaves a pending snapshot.
    let first = harness(dir, &["--exact", TRIAL]);
    assert!(!first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("1 failed"), "{}", text(&first));
    assert!(pending.is_file(), "no pending snapshot\n{}", text(&first));
    std::fs::rename(&pending, &snap).unwrap();
    let accepted = hash(&snap);

    // Accepted and unchanged: the trial passes and the file is untouched.
    let second = harness(dir, &["--exact", TRIAL]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("1 passed"), "{}", text(&second));
    assert_eq!(
        hash(&snap),
        accepted,
        "an unchanged stack rewrote the snapshot"
    );
    assert!(!pending.exists(), "{}", text(&second));
}

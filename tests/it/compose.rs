//! compose/ holds what `perfgate compose` writes for the project's own specs: this fails when
//! the files drift from a fresh generation, checks every compose file with `docker-compose
//! config`, and brings the quickstart's up with images built by `perfgate images build`, waits
//! for Prometheus and the API to answer on their published ports, and takes it down again.
//!
//! Without a Docker daemon the daemon-dependent parts say SKIPPED and why (under `CI`, fail).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::docker::daemon_or_skip;
use crate::support::slots;

const SPECS: [&str; 2] = ["quickstart", "otel"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, relative, sorted; Prometheus data folders left by `up` excluded.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if e.file_name() != "data" {
                    stack.push(p);
                }
            } else if e.file_name() != ".gitignore" {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn perfgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("perfgate runs")
}

#[test]
fn compose_files_match_a_fresh_generation() {
    let fresh = tempfile::tempdir().unwrap();
    let mut args = vec!["compose", "--out", fresh.path().to_str().unwrap()];
    let specs: Vec<String> = SPECS.iter().map(|s| format!("specs/{s}.yaml")).collect();
    args.extend(specs.iter().map(String::as_str));
    let out = perfgate(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checked_in = root().join("compose");
    assert_eq!(
        files(fresh.path()),
        files(&checked_in),
        "compose/ has other files than `perfgate compose` writes (regenerate: `perfgate compose {}`)",
        specs.join(" ")
    );
    for file in files(fresh.path()) {
        assert_eq!(
            std::fs::read_to_string(checked_in.join(&file)).unwrap(),
            std::fs::read_to_string(fresh.path().join(&file)).unwrap(),
            "compose/{} drifted (regenerate: `perfgate compose {}`)",
            file.display(),
            specs.join(" ")
        );
    }
}

fn compose(spec: &str, args: &[&str]) -> std::process::Output {
    Command::new("docker-compose")
        .current_dir(root().join("compose"))
        .args([
            "-p",
            &format!("{spec}-check"),
            "-f",
            &format!("{spec}.yaml"),
        ])
        .args(args)
        .output()
        .expect("docker-compose runs (Debian package docker-compose)")
}

/// Takes the project down whatever happens to the test.
struct Down(&'static str);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = compose(self.0, &["down", "--volumes", "--timeout", "3"]);
        let _ =
            std::fs::remove_dir_all(root().join("compose").join(self.0).join("prometheus/data"));
    }
}

fn answers(url: &str) -> bool {
    Command::new("curl")
        .args(["--silent", "--fail", "--max-time", "1", url])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn compose_files_are_valid_and_the_quickstart_comes_up() {
    if !daemon_or_skip("compose_files_are_valid_and_the_quickstart_comes_up") {
        return;
    }
    let _turn = slots::one_of("docker");
    for spec in SPECS {
        let out = compose(spec, &["config", "--quiet"]);
        assert!(
            out.status.success(),
            "{spec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let built = perfgate(&["images", "build"]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let _down = Down("quickstart");
    let up = compose("quickstart", &["up", "--detach"]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    // Ports as compose/quickstart.yaml publishes them: the API, then Prometheus.
    let deadline = Instant::now() + Duration::from_secs(60);
    let ready = |url: &str| loop {
        if answers(url) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        ready("http://127.0.0.1:19000/health"),
        "the API never answered"
    );
    assert!(
        ready("http://127.0.0.1:19001/-/ready"),
        "Prometheus never got ready"
    );
    // Prometheus reaches the API over the pod's loopback, as in a perfgate run.
    let scraped = loop {
        let out = Command::new("curl")
            .args([
                "--silent",
                "--max-time",
                "1",
                "http://127.0.0.1:19001/api/v1/query?query=up%7Bjob%3D%22api%22%7D",
            ])
            .output()
            .expect("curl");
        let body = String::from_utf8_lossy(&out.stdout).into_owned();
        if body.contains(r#""1"]"#) || Instant::now() > deadline {
            break body;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        scraped.contains(r#""1"]"#),
        "the API was never scraped: {scraped}"
    );
}

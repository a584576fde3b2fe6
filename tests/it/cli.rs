//! The `perfgate` binary as users meet it: exit codes, error messages naming files and tools,
//! log tails of dying services, Ctrl-C teardown.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rstest::rstest;

use crate::support::slots;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir(test: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{test}-{}", std::process::id()))
}

fn perfgate(args: &[&str], out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.current_dir(root())
        .args(args)
        .env("PERFGATE_OUT", out)
        .env("NO_COLOR", "1")
        // Exit codes of verdicts are under test here, not the noise guard (tests/it/noise.rs).
        .env("PERFGATE_NOISE_GUARD", "off");
    cmd
}

fn run(args: &[&str], test: &str) -> (i32, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = perfgate(args, &out_dir(test))
        .output()
        .expect("perfgate runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.code().unwrap_or(-1), text)
}

#[rstest]
#[case::gate_failed(&["run", "fixtures/specs/gates/failing.yaml"], 1, &["FAIL", "gate failed: impossible throughput", "> 1000000000", "report.json"])]
#[case::usage(&["run"], 2, &["Usage"])]
#[case::invalid_spec(&["run", "fixtures/specs/cli/missing.yaml"], 3, &["fixtures/specs/cli/missing.yaml", "cannot read spec"])]
#[case::stack_failed(&["run", "fixtures/specs/cli/dies_at_start.yaml"], 4, &["service `broken` exited before it was ready", "exit status: 7", "cannot open config", "broken.log"])]
#[case::nothing_ran(&["run", "fixtures/specs/cli/no_assertions.yaml"], 5, &["nothing ran"])]
#[case::filtered_out(&["run", "specs/quickstart.yaml", "--filter", "no-such-gate"], 5, &["nothing ran"])]
#[case::promql_rejected(&["validate", "fixtures/specs/cli/bad_promql.yaml"], 3, &["prometheus rejects this query", "fixtures/specs/cli/bad_promql.yaml:17:"])]
#[case::validate_ok(&["validate", "specs/quickstart.yaml"], 0, &["specs/quickstart.yaml: ok"])]
#[case::list(&["list", "specs/quickstart.yaml"], 0, &["quickstart::p99_latency_under_500ms: test", "quickstart::steady::delivered: test"])]
fn exit_codes_and_messages(#[case] args: &[&str], #[case] code: i32, #[case] needles: &[&str]) {
    let _turn = slots::heavy();
    let test = args.join("-").replace(['/', '.'], "_");
    let (got, text) = run(args, &test);
    assert_eq!(got, code, "exit code of perfgate {args:?}; output:\n{text}");
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

/// An executable shell script `dir/name`.
fn fake_tool(dir: &Path, name: &str, script: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let fake = dir.join(name);
    std::fs::write(&fake, format!("#!/bin/sh\n{script}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    fake
}

/// A fake `prometheus` that reports an old version.
fn old_prometheus(dir: &Path) -> PathBuf {
    fake_tool(
        dir,
        "prometheus",
        "echo 'prometheus, version 2.20.0 (branch: HEAD)'",
    )
}

#[test]
fn an_explicit_too_old_prometheus_is_refused_by_name_and_version() {
    let dir = out_dir("old-prometheus");
    let fake = old_prometheus(&dir.join("bin"));
    let output = perfgate(&["tools", "prometheus"], &dir)
        .env("PERFGATE_PROMETHEUS", &fake)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    for needle in [
        "prometheus >= 2.33.0",
        "is 2.20.0, older than 2.33.0",
        "PERFGATE_PROMETHEUS",
        "hint:",
    ] {
        assert!(
            stderr.contains(needle),
            "{needle:?} missing from:\n{stderr}"
        );
    }
}

#[test]
fn a_too_old_prometheus_on_path_is_skipped_not_used() {
    let dir = out_dir("old-on-path");
    let bin = dir.join("bin");
    old_prometheus(&bin);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = perfgate(&["tools", "prometheus"], &dir)
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("prometheus "), "{stdout}");
    assert!(
        !stdout.contains("2.20.0"),
        "the old binary was used: {stdout}"
    );
    assert!(!stdout.contains(&bin.display().to_string()), "{stdout}");
}

#[test]
fn an_explicit_too_old_ffmpeg_is_refused_after_asking_it_with_its_own_flag() {
    let dir = out_dir("old-ffmpeg");
    // FFmpeg takes `-version`; anything else would print no version here.
    let fake = fake_tool(
        &dir,
        "ffmpeg",
        "[ \"$1\" = -version ] && echo 'ffmpeg version 4.4.2-0+deb11u1 Copyright'",
    );
    let output = perfgate(&["tools", "ffmpeg"], &dir)
        .env("PERFGATE_FFMPEG", &fake)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    for needle in [
        "ffmpeg >= 5.1.0",
        "is 4.4.2, older than 5.1.0",
        "PERFGATE_FFMPEG",
        "pip download --no-deps imageio-ffmpeg",
    ] {
        assert!(
            stderr.contains(needle),
            "{needle:?} missing from:\n{stderr}"
        );
    }
}

/// Children of `pid` (all threads), from /proc.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.filter_map(Result::ok) {
            if let Ok(text) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
    }
    out
}

/// A debug build of perfgate (as a user's crate compiles it under `cargo test`) refuses to judge
/// its HTTP phases unless told to accept it: the engine's own work would be the service's
/// latency. perfgate's own suite accepts it (.cargo/config.toml); this run does not.
#[test]
fn an_unoptimised_engine_fails_its_http_phases_with_the_fix() {
    let _turn = slots::heavy();
    let output = perfgate(
        &["run", "fixtures/specs/nextest/once.yaml"],
        &out_dir("unoptimised"),
    )
    .env_remove("PERFGATE_UNOPTIMISED")
    .output()
    .expect("perfgate runs");
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    for needle in [
        "gate failed: phase `short` delivered its load",
        "perfgate was compiled without optimisation (a debug build)",
        "`opt-level = 3` and `debug-assertions = false`",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

/// Every file a run writes (report folder, service logs, generated configs) and both streams,
/// searched for each byte string of `secrets`: the places a secret must never reach.
fn leaks(out: &Path, streams: &[&[u8]], secrets: &[&str]) -> Vec<String> {
    let mut places: Vec<(String, Vec<u8>)> = streams
        .iter()
        .enumerate()
        .map(|(i, bytes)| (format!("stream {i}"), bytes.to_vec()))
        .collect();
    let mut paths = vec![out.to_path_buf()];
    while let Some(path) = paths.pop() {
        if path.is_dir() {
            paths.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            places.push((
                path.display().to_string(),
                std::fs::read(&path).unwrap_or_default(),
            ));
        }
    }
    let mut found = Vec::new();
    for (place, bytes) in &places {
        for secret in secrets {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                found.push(format!("{secret} in {place}"));
            }
        }
    }
    found
}

/// Credentials from the environment reach the service and nothing else: a run with a known
/// token and key leaves them in no file it wrote and on neither stream, and a missing variable
/// is named without a value.
#[test]
fn secrets_from_the_environment_appear_in_no_output_of_a_run() {
    let _turn = slots::heavy();
    let out = out_dir("secrets");
    let (token, key) = ("tok-7f3a9c-secret", "key-51bd0e-secret");
    let output = perfgate(&["run", "fixtures/specs/cli/secrets.yaml"], &out)
        .env("PERFGATE_TEST_TOKEN", token)
        .env("PERFGATE_TEST_KEY", key)
        .output()
        .expect("perfgate runs");
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        out.join("secrets").is_dir(),
        "no report folder under {}",
        out.display()
    );
    let found = leaks(&out, &[&output.stdout, &output.stderr], &[token, key]);
    assert!(found.is_empty(), "secrets leaked: {found:?}");
    let missing = perfgate(
        &["validate", "--offline", "fixtures/specs/cli/secrets.yaml"],
        &out,
    )
    .env_remove("PERFGATE_TEST_TOKEN")
    .env("PERFGATE_TEST_KEY", key)
    .output()
    .expect("perfgate runs");
    let text = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(3), "{text}");
    assert!(
        text.contains("environment variable `PERFGATE_TEST_TOKEN` is not set"),
        "{text}"
    );
    assert!(!text.contains(key), "{text}");
}

#[test]
fn ctrl_c_stops_every_service_writes_the_report_and_exits_130() {
    let _turn = slots::heavy();
    let dir = out_dir("ctrl-c");
    let mut child = perfgate(&["run", "fixtures/specs/gates/panicking.yaml"], &dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let services = loop {
        let kids = children(child.id());
        if kids.len() >= 2 {
            break kids;
        }
        assert!(Instant::now() < deadline, "services never started");
        std::thread::sleep(Duration::from_millis(100));
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    for pid in services {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or at most a zombie waiting for init to reap it.
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "pid {pid} survived Ctrl-C: {stat}"
        );
    }
    // What CI reads was written before perfgate exited, marked interrupted.
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.join("panicking"))
        .expect("a report folder")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let json = std::fs::read_to_string(runs[0].join("report.json")).expect("report.json");
    let record: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(record["failure"]["kind"], "interrupted", "{json}");
    let message = record["failure"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("interrupted by SIGINT after"),
        "{message}"
    );
    for file in ["summary.md", "junit.xml"] {
        let text = std::fs::read_to_string(runs[0].join(file)).expect(file);
        assert!(text.contains("interrupted by SIGINT"), "{file}:\n{text}");
    }
}

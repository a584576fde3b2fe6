//! The docker backend on a real Docker daemon, with images built by perfgate from local binaries
//! (nothing can be pulled here): the quickstart and the OpenTelemetry chain pass in containers;
//! no container or network of a run is left after it, also after a panic inside a phase; services
//! run as the user running perfgate; Prometheus runs from the image a spec names; a
//! missing daemon fails at once with a message naming the process backend. `backend: auto` on a
//! machine without Prometheus (nothing on PATH, an empty tool cache, `$PERFGATE_OFFLINE`) runs
//! the quickstart in containers from Prometheus's image, and says why; with no image either, or
//! no daemon, it fails naming every place it looked.
//!
//! Without a daemon these tests say SKIPPED and why; under `CI` they fail instead.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perfgate::run::{ProgressEvent, RunOptions, run_spec};

use crate::support::docker::{daemon_or_skip, docker, leftovers};
use crate::support::slots;

// Tests that count the daemon's containers and networks, or build and tag images, take
// `slots::one_of("docker")`: one at a time. The daemon may be shared with other perfgate
// processes (other test runs on the same machine): they look only at their own runs.

/// `cmd.output()` that also returns the child's pid.
fn output_and_pid(cmd: &mut Command) -> (u32, std::process::Output) {
    let child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("perfgate runs");
    let pid = child.id();
    (pid, child.wait_with_output().expect("perfgate runs"))
}

fn assert_nothing_left(pid: u32, after: &str) {
    let (containers, networks) = leftovers(pid);
    assert!(
        containers.is_empty(),
        "containers left after {after}: {containers}"
    );
    assert!(
        networks.is_empty(),
        "networks left after {after}: {networks}"
    );
}

/// The text of `file` in the (one) run folder under `spec_out`.
fn run_file(spec_out: &Path, file: &str) -> String {
    let path = std::fs::read_dir(spec_out)
        .expect("a report folder")
        .filter_map(Result::ok)
        .map(|e| e.path().join(file))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no {file} under {}", spec_out.display()));
    std::fs::read_to_string(path).unwrap()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_quickstart_and_the_otel_chain_pass_in_containers() {
    if !daemon_or_skip("the_quickstart_and_the_otel_chain_pass_in_containers") {
        return;
    }
    let _turn = slots::one_of("docker");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("docker-specs");
    let _ = std::fs::remove_dir_all(&out);
    let (pid, run) = output_and_pid(
        Command::new(env!("CARGO_BIN_EXE_perfgate"))
            .current_dir(root())
            .args(["run", "--quiet", "specs/quickstart.yaml", "specs/otel.yaml"])
            .env("PERFGATE_BACKEND", "docker")
            .env("PERFGATE_OUT", &out)
            .env("NO_COLOR", "1"),
    );
    let text = output_text(&run);
    assert_eq!(run.status.code(), Some(0), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    // The services really ran in containers: their records name the images' follower logs.
    assert!(
        run_file(&out.join("quickstart"), "stack/api.log").contains("0.0.0.0:"),
        "the api did not listen on all interfaces of its container"
    );
    assert_nothing_left(pid, "two runs");
}

#[test]
fn a_panic_inside_a_phase_leaves_no_container_behind() {
    if !daemon_or_skip("a_panic_inside_a_phase_leaves_no_container_behind") {
        return;
    }
    let _turn = slots::one_of("docker");
    let seen: Arc<Mutex<String>> = Arc::default();
    let seen_in_phase = Arc::clone(&seen);
    let opts = RunOptions {
        out_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("docker-panic"),
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        progress: Some(Arc::new(move |event| {
            if let ProgressEvent::PhaseStarted { .. } = event {
                let running = leftovers(std::process::id()).0;
                let ids: Vec<&str> = running.lines().collect();
                let mut inspect = vec!["inspect", "--format", "user={{.Config.User}}"];
                inspect.extend(ids);
                *seen_in_phase.lock().unwrap() = docker(&inspect);
                panic!("injected panic inside a phase");
            }
        })),
        ..RunOptions::default()
    };
    let spec = perfgate::spec::load(&root().join("fixtures/specs/docker/panicking.yaml"))
        .expect("fixture spec is valid");
    let outcome = std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(run_spec(&spec, &opts))
    })
    .join();
    assert!(outcome.is_err(), "the injected panic did not happen");
    let users = seen.lock().unwrap().clone();
    assert!(
        users.lines().count() >= 3,
        "expected the pod, prometheus and the api, saw {users}"
    );
    // Every service runs as the user running perfgate (the pod, which writes nothing, as its
    // image's default).
    let id = |flag| {
        let out = Command::new("id").arg(flag).output().expect("id");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let me = format!("user={}:{}", id("-u"), id("-g"));
    let as_me = users.lines().filter(|u| *u == me).count();
    assert_eq!(
        as_me,
        users.lines().count() - 1,
        "users {users:?}, expected {me}"
    );
    assert_nothing_left(std::process::id(), "a panic");
}

#[test]
fn without_a_daemon_the_docker_backend_fails_at_once_and_names_the_process_backend() {
    let started = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .current_dir(root())
        .args(["run", "--quiet", "fixtures/specs/docker/panicking.yaml"])
        .env("DOCKER_HOST", "unix:///nonexistent/perfgate-test.sock")
        .env(
            "PERFGATE_OUT",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("docker-none"),
        )
        .output()
        .expect("perfgate runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("no Docker daemon is reachable"), "{stderr}");
    assert!(stderr.contains("backend: process"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?} to give up",
        started.elapsed()
    );
}

/// `perfgate` as on a machine without Prometheus: PATH without it, an empty tool cache, nothing
/// fetched (`$PERFGATE_OFFLINE`), no `$PERFGATE_PROMETHEUS`; `backend: auto`.
fn perfgate_without_prometheus(test: &str) -> Command {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let without: Vec<_> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("prometheus").exists())
        .collect();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&scratch);
    let cache = scratch.join("empty-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let mut perfgate = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    perfgate
        .current_dir(root())
        .env("PATH", std::env::join_paths(without).unwrap())
        .env("PERFGATE_CACHE_DIR", &cache)
        .env("PERFGATE_OFFLINE", "1")
        .env("PERFGATE_BACKEND", "auto")
        .env("PERFGATE_OUT", scratch.join("out"))
        .env("NO_COLOR", "1")
        .env_remove("PERFGATE_PROMETHEUS")
        .env_remove("PERFGATE_IMAGE_PROMETHEUS");
    perfgate
}

fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn auto_runs_in_containers_when_prometheus_is_only_an_image() {
    let test = "auto_runs_in_containers_when_prometheus_is_only_an_image";
    if !daemon_or_skip(test) {
        return;
    }
    let _turn = slots::one_of("docker");
    // The images as an air-gapped machine would have received them (`perfgate images build`
    // where the tools are, then `docker save` / `docker load`): here, built from this machine's.
    images_built();
    let (pid, run) = output_and_pid(perfgate_without_prometheus(test).args([
        "run",
        "--quiet",
        "specs/quickstart.yaml",
    ]));
    let text = output_text(&run);
    assert_eq!(run.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "on the docker backend (auto: not on this machine: prometheus from image perfgate/prometheus:latest)"
        ),
        "{text}"
    );
    assert!(!text.contains("FAIL"), "{text}");
    assert_nothing_left(pid, "a run on auto's docker backend");
}

/// `perfgate images build`, once per test binary: `perfgate/<tool>:latest` for every tool.
fn images_built() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let build = Command::new(env!("CARGO_BIN_EXE_perfgate"))
            .args(["images", "build"])
            .output()
            .expect("perfgate images build");
        assert!(build.status.success(), "{}", output_text(&build));
    });
}

#[test]
fn prometheus_runs_from_the_image_the_spec_names() {
    if !daemon_or_skip("prometheus_runs_from_the_image_the_spec_names") {
        return;
    }
    let _turn = slots::one_of("docker");
    images_built();
    let named = "perfgate-test/prometheus:spec";
    docker(&["tag", "perfgate/prometheus:latest", named]);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("docker-spec-image");
    let _ = std::fs::remove_dir_all(&out);
    let (pid, run) = output_and_pid(
        Command::new(env!("CARGO_BIN_EXE_perfgate"))
            .current_dir(root())
            .args(["run", "--quiet", "fixtures/specs/docker/spec_image.yaml"])
            .env("PERFGATE_OUT", &out)
            .env_remove("PERFGATE_BACKEND"),
    );
    docker(&["rmi", named]);
    let text = output_text(&run);
    assert_eq!(run.status.code(), Some(0), "{text}");
    let report = run_file(&out.join("docker-spec-image"), "report.json");
    assert!(report.contains(&format!("(image {named})")), "{report}");
    assert_nothing_left(pid, "a run from a named image");
}

/// Runs the quickstart without Prometheus, with `var=value` set; it must fail to start (exit
/// code 4) and name each of `expected` in its error.
fn quickstart_without_prometheus_fails_saying(
    test: &str,
    var: &str,
    value: &str,
    expected: &[&str],
) {
    let run = perfgate_without_prometheus(test)
        .env(var, value)
        .args(["run", "--quiet", "specs/quickstart.yaml"])
        .output()
        .expect("perfgate runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(4), "{stderr}");
    for expected in expected {
        assert!(stderr.contains(expected), "`{expected}` missing:\n{stderr}");
    }
}

#[test]
fn auto_without_prometheus_or_its_image_names_every_place_it_looked() {
    let test = "auto_without_prometheus_or_its_image_names_every_place_it_looked";
    if !daemon_or_skip(test) {
        return;
    }
    quickstart_without_prometheus_fails_saying(
        test,
        "PERFGATE_IMAGE_PROMETHEUS",
        "perfgate/no-such-image:0",
        &[
            "prometheus >= 2.33.0",
            "provisioning: skipped: $PERFGATE_OFFLINE is set",
            "the docker backend cannot stand in: no image of prometheus",
            "$PERFGATE_IMAGE_PROMETHEUS: not held by the Docker daemon",
        ],
    );
}

#[test]
fn auto_without_prometheus_or_a_daemon_says_both() {
    quickstart_without_prometheus_fails_saying(
        "auto_without_prometheus_or_a_daemon_says_both",
        "DOCKER_HOST",
        "unix:///nonexistent/perfgate-test.sock",
        &[
            "prometheus >= 2.33.0",
            "the docker backend cannot stand in: no Docker daemon is reachable",
        ],
    );
}

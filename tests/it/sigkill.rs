//! Nothing of a run outlives it, whatever kills it: SIGKILL of `perfgate run` mid-phase leaves
//! no service process of that run alive within 10 s on the process backend, and no container,
//! network or `docker logs --follow` follower on the docker backend (its keeper removes them).
//! Each test looks only at the processes and containers of its own run (other tests run
//! beside it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::docker::{daemon_or_skip, leftovers};
use crate::support::slots;

/// How long after the SIGKILL nothing of the run may be left.
const GONE_WITHIN: Duration = Duration::from_secs(10);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sigkill-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A process told apart from a later one with the same pid: pid and start time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Proc {
    pid: u32,
    start: u64,
}

/// State, parent and start time of `pid` (fields 3, 4 and 22 of `/proc/PID/stat`).
fn stat(pid: u32) -> Option<(String, u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = text[text.rfind(')')? + 1..].split_whitespace().collect();
    Some((
        fields.first()?.to_string(),
        fields.get(1)?.parse().ok()?,
        fields.get(19)?.parse().ok()?,
    ))
}

/// Running (not zombie) and still the same process.
fn alive(p: Proc) -> bool {
    stat(p.pid).is_some_and(|(state, _, start)| state != "Z" && start == p.start)
}

/// Every process below `root` (children, theirs, …), with the command line of each.
fn descendants(root: u32) -> Vec<(Proc, String)> {
    let procs: Vec<(u32, u32, u64)> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| stat(pid).map(|(_, ppid, start)| (pid, ppid, start)))
        .collect();
    let mut found = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for &(pid, ppid, start) in &procs {
            if ppid == parent {
                parents.push(pid);
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                found.push((Proc { pid, start }, cmdline));
            }
        }
    }
    found
}

/// `perfgate run SPEC` in the background, its report under `out`.
fn start_run(spec: &str, out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .current_dir(root())
        .args(["run", "--quiet", spec])
        .env("PERFGATE_OUT", out)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("perfgate runs")
}

/// The address of job `job` in the run's generated Prometheus config, once written.
fn scrape_target(out: &Path, job: &str) -> Option<String> {
    let config = std::fs::read_dir(out)
        .ok()?
        .flatten()
        .flat_map(|spec| {
            std::fs::read_dir(spec.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|run| run.path().join("stack/prometheus/prometheus.yml"))
        .find_map(|path| std::fs::read_to_string(path).ok())?;
    let after = config.split(&format!("job_name: \"{job}\"")).nth(1)?;
    let target = after.split("targets: [\"").nth(1)?;
    Some(target.split('"').next()?.to_owned())
}

/// `GET /metrics` of `address` (nothing if it does not answer).
fn metrics(address: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

/// Waits until the run under `out` is in its phase: the load engine's series on perfgate's own
/// `/metrics` count requests sent.
fn wait_for_phase(out: &Path, run: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            matches!(run.try_wait(), Ok(None)),
            "perfgate ended before its phase"
        );
        let served = scrape_target(out, "perfgate").is_some_and(|engine| {
            metrics(&engine)
                .lines()
                .any(|l| l.starts_with("perfgate_http_requests_total{"))
        });
        if served {
            return;
        }
        assert!(Instant::now() < deadline, "the run never reached its phase");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The processes of `procs` still running, as `PID COMMAND`.
fn running(procs: &[(Proc, String)]) -> Vec<String> {
    procs
        .iter()
        .filter(|(p, _)| alive(*p))
        .map(|(p, cmd)| format!("{} {cmd}", p.pid))
        .collect()
}

/// SIGKILLs `run` and waits until `left` says nothing is left, or `GONE_WITHIN` passed: what
/// was left then.
fn kill_and_wait(run: &mut Child, left: impl Fn() -> Vec<String>) -> Vec<String> {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("SIGKILL");
    run.wait().expect("perfgate reaped");
    let deadline = Instant::now() + GONE_WITHIN;
    loop {
        let now_left = left();
        if now_left.is_empty() || Instant::now() >= deadline {
            return now_left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigkill_mid_phase_leaves_no_service_process() {
    let _turn = slots::heavy();
    let out = out_dir("process");
    let mut run = start_run("fixtures/specs/gates/panicking.yaml", &out);
    wait_for_phase(&out, &mut run);
    let procs = descendants(run.id());
    let services = procs
        .iter()
        .filter(|(_, cmd)| cmd.contains("prometheus") || cmd.contains("perfgate"))
        .count();
    assert!(services >= 2, "expected prometheus and the api: {procs:?}");
    let left = kill_and_wait(&mut run, || running(&procs));
    assert!(
        left.is_empty(),
        "still running {GONE_WITHIN:?} after SIGKILL of perfgate:\n{}",
        left.join("\n")
    );
}

#[test]
fn sigkill_mid_phase_leaves_no_container_network_or_log_follower() {
    if !daemon_or_skip("sigkill_mid_phase_leaves_no_container_network_or_log_follower") {
        return;
    }
    let _turn = slots::one_of("docker");
    let out = out_dir("docker");
    let mut run = start_run("fixtures/specs/docker/panicking.yaml", &out);
    wait_for_phase(&out, &mut run);
    let pid = run.id();
    let procs = descendants(pid);
    let followers = procs
        .iter()
        .filter(|(_, c)| c.contains("logs --follow"))
        .count();
    assert!(
        followers >= 2,
        "expected a log follower per service: {procs:?}"
    );
    let (containers, networks) = leftovers(pid);
    assert!(
        containers.lines().count() >= 3 && networks.lines().count() == 1,
        "expected the pod, prometheus, the api and one network: {containers} {networks}"
    );
    let left = kill_and_wait(&mut run, || {
        let (containers, networks) = leftovers(pid);
        let mut left = running(&procs);
        left.extend(
            containers
                .lines()
                .chain(networks.lines())
                .map(str::to_owned),
        );
        left
    });
    assert!(
        left.is_empty(),
        "left {GONE_WITHIN:?} after SIGKILL of perfgate:\n{}",
        left.join("\n")
    );
}

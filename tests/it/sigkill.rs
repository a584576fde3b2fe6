//! Nothing of a run outlives it, whatever kills it: SIGKILL of `perfgate run` mid-phase leaves
//! no service process of that run alive within 10 s on the process backend, and no container,
//! network or `docker logs --follow` follower on the docker backend (its keeper removes them).
//! What a run and its keeper both killed left is swept at the start of the next run, and by
//! `perfgate clean` (containers and networks of gone owners of this host only). Each test looks
//! only at the processes and containers of its own run (other tests run beside it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::docker::{daemon_or_skip, docker, leftovers};
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

/// `perfgate ARGS`, its reports under `out`, its keepers' journals in `out/state`.
fn perfgate(args: &[&str], out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.current_dir(root())
        .args(args)
        .env("PERFGATE_OUT", out)
        .env("PERFGATE_STATE_DIR", out.join("state"))
        .env("NO_COLOR", "1");
    cmd
}

/// `perfgate run SPEC` in the background, its report under `out`.
fn start_run(spec: &str, out: &Path) -> Child {
    perfgate(&["run", "--quiet", spec], out)
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

/// Whether process `pid` is a keeper (`PERFGATE_KEEPER_OF` in its environment).
fn is_keeper(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
        env.split(|&b| b == 0)
            .any(|v| v.starts_with(b"PERFGATE_KEEPER_OF="))
    })
}

#[test]
fn what_a_run_and_its_keeper_both_killed_left_is_swept_by_the_next_run() {
    let _turn = slots::heavy();
    let out = out_dir("sweep");
    let mut run = start_run("fixtures/specs/gates/panicking.yaml", &out);
    wait_for_phase(&out, &mut run);
    let procs = descendants(run.id());
    let (keepers, services): (Vec<_>, Vec<_>) =
        procs.into_iter().partition(|(p, _)| is_keeper(p.pid));
    assert_eq!(keepers.len(), 1, "one keeper per run: {keepers:?}");
    let kill = |p: Proc| {
        let pid = nix::unistd::Pid::from_raw(p.pid as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("SIGKILL");
    };
    kill(keepers[0].0);
    let left = kill_and_wait(&mut run, || running(&keepers));
    assert!(left.is_empty(), "the keeper survived SIGKILL: {left:?}");
    // Without their keeper, the services outlive the run (as every run's did before keepers).
    assert_eq!(running(&services).len(), services.len(), "{services:?}");
    let next = perfgate(&["run", "fixtures/specs/cli/dies_at_start.yaml"], &out)
        .output()
        .expect("perfgate runs");
    let stderr = String::from_utf8_lossy(&next.stderr);
    assert!(stderr.contains("removed what killed runs left"), "{stderr}");
    let deadline = Instant::now() + GONE_WITHIN;
    while !running(&services).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        running(&services),
        Vec::<String>::new(),
        "left after the sweep"
    );
}

#[test]
fn perfgate_clean_removes_networks_of_a_gone_owner_of_this_host_only() {
    if !daemon_or_skip("perfgate_clean_removes_networks_of_a_gone_owner_of_this_host_only") {
        return;
    }
    let _turn = slots::one_of("docker");
    let out = out_dir("clean");
    let me = std::process::id();
    let start = stat(me).expect("this process").2;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let create = |name: &str, owner: String, host: &str| {
        let (owner, host) = (
            format!("dev.perfgate.owner={owner}"),
            format!("dev.perfgate.host={}", host.trim()),
        );
        docker(&[
            "network", "create", "--label", &owner, "--label", &host, name,
        ]);
    };
    let [gone, live, elsewhere] =
        ["gone", "live", "elsewhere"].map(|n| format!("perfgate-clean-{me}-{n}"));
    // The same pid with another start time: a process that is gone.
    create(&gone, format!("{me}:{}", start + 1), &host);
    create(&live, format!("{me}:{start}"), &host);
    create(&elsewhere, format!("{me}:{}", start + 1), "another-host");
    let clean = perfgate(&["clean"], &out).output().expect("perfgate runs");
    let stdout = String::from_utf8_lossy(&clean.stdout);
    let networks = docker(&["network", "ls", "--format", "{{.Name}}"]);
    let _ = Command::new("docker")
        .args(["network", "rm", &live, &elsewhere, &gone])
        .output();
    assert!(clean.status.success(), "{stdout}");
    assert!(stdout.contains(&gone), "{stdout}");
    assert!(!networks.lines().any(|n| n == gone), "{networks}");
    for kept in [&live, &elsewhere] {
        assert!(
            networks.lines().any(|n| n == kept),
            "{kept} removed: {stdout}"
        );
    }
}

/// Interrupts during docker bring-up, at most (the test stays under about a minute).
const INTERRUPTS: usize = 10;

#[test]
fn ctrl_c_at_random_moments_of_a_docker_bring_up_leaves_no_container() {
    use rand::{Rng, SeedableRng};
    if !daemon_or_skip("ctrl_c_at_random_moments_of_a_docker_bring_up_leaves_no_container") {
        return;
    }
    let _turn = slots::one_of("docker");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let began = Instant::now();
    let (mut tries, mut with_containers) = (0, 0);
    while tries < INTERRUPTS && began.elapsed() < Duration::from_secs(50) {
        tries += 1;
        let out = out_dir(&format!("interrupt-{tries}"));
        let mut run = start_run("fixtures/specs/docker/panicking.yaml", &out);
        // Bring-up (pod, prometheus, api) takes a few seconds here; interrupt anywhere in it.
        std::thread::sleep(Duration::from_millis(rng.random_range(0..4000)));
        let pid = run.id();
        if !leftovers(pid).0.is_empty() {
            with_containers += 1;
        }
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .expect("SIGINT");
        run.wait().expect("perfgate exits");
        let (containers, networks) = leftovers(pid);
        assert!(
            containers.is_empty() && networks.is_empty(),
            "interrupt {tries} (seed {seed}) left containers [{containers}] networks [{networks}]"
        );
    }
    eprintln!("{tries} interrupts, {with_containers} with containers up, seed {seed}");
    assert!(
        with_containers >= 2,
        "only {with_containers} of {tries} interrupts came with containers up (seed {seed})"
    );
}

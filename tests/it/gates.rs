//! Gates against real components: real Prometheus (provisioned by perfgate if missing), the
//! demo API as a child process, the HTTP engine. A passing gate, a failing one, `during`
//! windows, and teardown after success and after a panic.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use perfgate::report::{Outcome, RunRecord, failure_message};
use perfgate::run::{ProgressEvent, RunOptions, run_spec};
use perfgate::spec;

use crate::support::slots;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/specs/gates")
        .join(name)
}

fn options() -> RunOptions {
    RunOptions {
        out_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("gates"),
        progress: None,
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        // The verdicts are under test, not the noise guard (tests/it/noise.rs).
        noise_guard: false,
        ..RunOptions::default()
    }
}

fn run(name: &str, opts: RunOptions) -> RunRecord {
    let spec = spec::load(&fixture(name)).expect("fixture spec is valid");
    run_blocking(&spec, &opts)
}

fn run_blocking(spec: &spec::Spec, opts: &RunOptions) -> RunRecord {
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(run_spec(spec, opts))
}

/// True while a process with this pid exists (zombies included).
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn during_windows_select_their_phase_and_every_child_is_gone_after() {
    let _turn = slots::heavy();
    let record = run("windows.yaml", options());
    assert_eq!(record.failure, None, "run failed");
    for v in &record.verdicts {
        assert!(
            v.outcome.passed(),
            "{}",
            failure_message(&record, v).unwrap_or_default()
        );
    }
    let slow = record.verdict("slow_phase_sees_the_slow_rate").unwrap();
    let fast = record.verdict("fast_phase_sees_the_fast_rate").unwrap();
    assert!(
        slow.window.end <= fast.window.start + 0.05,
        "windows overlap"
    );
    let value = |v: &perfgate::report::Verdict| v.series[0].samples[0].v;
    assert!(
        value(fast) > 2.0 * value(slow),
        "{} vs {}",
        value(fast),
        value(slow)
    );
    let endpoints = &record
        .verdict("every_endpoint_answered_200")
        .unwrap()
        .series;
    assert!(!endpoints.is_empty());

    assert!(!record.services.is_empty());
    for s in &record.services {
        assert!(!alive(s.pid), "{} (pid {}) outlived the run", s.name, s.pid);
    }
    assert!(record.report_json().is_file());
}

#[test]
fn failing_gate_reports_query_value_expectation_window_and_report() {
    let _turn = slots::heavy();
    let record = run("failing.yaml", options());
    assert_eq!(record.failure, None, "run failed");
    let bad = record.verdict("impossible_throughput").unwrap();
    let Outcome::Fail { .. } = &bad.outcome else {
        panic!("expected a failure, got {:?}", bad.outcome);
    };
    let observed = bad.series[0].samples[0].v;
    assert!(observed > 5.0 && observed < 40.0, "observed {observed}");
    let message = failure_message(&record, bad).unwrap();
    for needle in [
        "gate failed: impossible throughput",
        "sum(rate(http_requests_total[",
        "> 1000000000",
        "phase `short`",
        &perfgate::report::format_value(observed),
        "report.json",
    ] {
        assert!(
            message.contains(needle),
            "{needle:?} missing from:\n{message}"
        );
    }
    assert!(
        record
            .verdict("health_never_fails")
            .unwrap()
            .outcome
            .passed()
    );
    assert_eq!(record.exit(), perfgate::error::Exit::GateFailed);
}

#[test]
fn a_panic_inside_a_phase_leaves_no_child_behind() {
    // It reads perfgate's process-wide registry of live children: no other stack may run.
    let _turn = slots::alone();
    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let mut opts = options();
    let seen_in_phase = Arc::clone(&seen);
    opts.progress = Some(Arc::new(move |event| {
        if let ProgressEvent::PhaseStarted { .. } = event {
            *seen_in_phase.lock().unwrap() = perfgate::reaper::live_groups();
            panic!("injected panic inside a phase");
        }
    }));
    let outcome = std::thread::spawn(move || run("panicking.yaml", opts)).join();
    assert!(outcome.is_err(), "the injected panic did not happen");
    let pids = seen.lock().unwrap().clone();
    assert!(
        pids.len() >= 2,
        "expected prometheus and the api running, saw {pids:?}"
    );
    for pid in pids {
        assert!(!alive(pid), "pid {pid} outlived the panic");
    }
}

#[test]
fn a_process_reaches_another_service_through_its_port_placeholder() {
    let _turn = slots::heavy();
    let record = run("cross_service_ports.yaml", options());
    assert_eq!(record.failure, None, "run failed");
    let port = |name: &str| {
        let s = record.services.iter().find(|s| s.name == name).expect(name);
        s.ports["http"].port()
    };
    let (api, own) = (port("api"), port("probe"));
    let probe = record.services.iter().find(|s| s.name == "probe").unwrap();
    let log = std::fs::read_to_string(&probe.log).expect("probe log");
    let line = format!("api answered ok own {own} env {api}");
    assert!(log.lines().any(|l| l == line), "no `{line}` in:\n{log}");
    assert_ne!(api, own);
}

#[test]
fn a_freshness_phase_that_times_out_fails_its_gate_with_infinity() {
    let _turn = slots::heavy();
    let record = run("freshness_timeout.yaml", options());
    assert_eq!(record.failure, None, "run failed");
    let never = record.phases.iter().find(|p| p.name == "never").unwrap();
    let load = never.load.as_ref().expect("freshness outcome").to_json();
    assert!(load["lag_seconds"].is_null(), "{load}");
    assert!(load["expected"].as_u64() >= Some(15), "{load}");
    assert!(
        never.window.seconds() >= 1.5,
        "ended before its timeout: {never:?}"
    );
    let gate = record.verdict("counted_within_3s").unwrap();
    let Outcome::Fail { .. } = &gate.outcome else {
        panic!("expected a failure, got {:?}", gate.outcome);
    };
    // Prometheus read perfgate's +Inf as infinity, not as a parse error or a missing series.
    assert_eq!(gate.series[0].samples[0].v, f64::INFINITY);
}

/// The reproduction: another program on the port a spec fixes, and a service that would
/// survive its own failed bind. The run stops before starting anything, naming the port and the
/// program holding it (here this test process), instead of measuring the other program.
#[test]
fn a_fixed_port_another_program_holds_fails_the_stack_naming_it() {
    let _turn = slots::heavy();
    let other = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let port = other.local_addr().unwrap().port();
    let record = run_text(&read_fixture("fixed_port.yaml").replace("PORT", &port.to_string()));
    assert_eq!(record.exit(), perfgate::error::Exit::StackFailed);
    let message = &record.failure.as_ref().expect("a failure").message;
    let holder = format!("pid {} (", std::process::id());
    for needle in [&format!("port `http` ({port}) is already in use"), &holder] {
        assert!(
            message.contains(needle.as_str()),
            "{needle:?} missing from:\n{message}"
        );
    }
    assert!(
        record.services.is_empty(),
        "something started: {:?}",
        record.services
    );
}

#[test]
fn a_program_that_does_not_exist_is_named() {
    let _turn = slots::heavy();
    let text = read_fixture("fixed_port.yaml")
        .replace("PORT", "0")
        .replace("command: [sh, -c,", "command: [./no-such-server,");
    let record = run_text(&text);
    assert_eq!(record.exit(), perfgate::error::Exit::StackFailed);
    let message = &record.failure.as_ref().expect("a failure").message;
    let needle = "service `web` could not be started: program `./no-such-server` not found";
    assert!(
        message.contains(needle),
        "{needle:?} missing from:\n{message}"
    );
}

/// The reproduction: a target with nothing listening. The load never reached it, so the
/// run fails on the phase's delivery verdict, which names the refused connections, and the gate
/// that would pass under any load is INCONCLUSIVE instead of PASS.
#[test]
fn a_load_that_never_reached_its_target_fails_its_delivery_verdict() {
    let _turn = slots::heavy();
    let record = run("undelivered.yaml", options());
    assert_eq!(record.failure, None, "run failed");
    let delivered = record
        .verdict("steady::delivered")
        .expect("a delivery verdict");
    let Outcome::Fail { reasons } = &delivered.outcome else {
        panic!("expected a failure, got {:?}", delivered.outcome);
    };
    assert!(
        reasons[0].starts_with("answered 0 of 20 planned requests (0 %"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("requests got no response (100 %"),
        "{reasons:?}"
    );
    let gate = record.verdict("prometheus_is_up").unwrap();
    assert_eq!(gate.outcome.word(), "INCONCLUSIVE", "{:?}", gate.outcome);
    assert_eq!(record.exit(), perfgate::error::Exit::GateFailed);
    let message = failure_message(&record, delivered).unwrap();
    assert!(message.contains("because:  answered 0 of 20"), "{message}");
}

/// The readiness port answered by a program outside the service's process group (here one the
/// service itself left in a session of its own): the stack fails naming it, nothing is loaded.
#[test]
fn a_readiness_port_answered_by_another_program_fails_the_stack() {
    let _turn = slots::heavy();
    let record = run("answered_by_another.yaml", options());
    let message = record
        .failure
        .as_ref()
        .map(|f| f.message.clone())
        .unwrap_or_default();
    // The server the fixture left behind: `held by pid N (python3)`.
    let stray = message
        .split_once("is held by pid ")
        .and_then(|(_, rest)| rest.split_once(' '))
        .and_then(|(pid, _)| pid.parse::<i32>().ok());
    if let Some(pid) = stray {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert_eq!(
        record.exit(),
        perfgate::error::Exit::StackFailed,
        "{message}"
    );
    assert!(
        message.contains("service `web` looked ready, but port"),
        "{message}"
    );
    assert!(
        message.contains("(python3), outside the service's process group"),
        "{message}"
    );
    assert!(record.phases.is_empty(), "a phase ran: {:?}", record.phases);
}

fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture")
}

/// Runs a spec written by the test (in a temporary folder).
fn run_text(text: &str) -> RunRecord {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.yaml");
    std::fs::write(&path, text).unwrap();
    let spec = spec::load(&path).expect("the test's spec is valid");
    run_blocking(&spec, &options())
}

/// Two runs sharing turns at the load (as the libtest harness runs its specs): the second's
/// stack comes up while the first loads, and no two phases overlap.
#[test]
fn runs_sharing_turns_overlap_bring_up_but_never_load() {
    // One slot for both stacks: they take turns at the load, so one is idle at any time (and
    // taking two slots one after the other could wait forever behind a test waiting to be
    // alone).
    let _turn = slots::heavy();
    let turns = Arc::new(tokio::sync::Semaphore::new(1));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let opts = RunOptions {
                load_turns: Some(Arc::clone(&turns)),
                ..options()
            };
            std::thread::spawn(move || run("turns.yaml", opts))
        })
        .collect();
    let mut records: Vec<RunRecord> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    for record in &records {
        assert_eq!(record.failure, None, "run failed");
        assert!(
            record.verdicts.iter().all(|v| v.outcome.passed()),
            "{:?}",
            record.verdicts
        );
    }
    records.sort_by(|a, b| {
        a.phases[0]
            .window
            .start
            .total_cmp(&b.phases[0].window.start)
    });
    let (first, second) = (&records[0].phases[0].window, &records[1].phases[0].window);
    assert!(
        first.end <= second.start,
        "loads overlapped: {first:?} and {second:?}"
    );
    // A stack coming up after the first run ended would wait ≥ 5 s for Prometheus's first
    // discovery tick alone; one that came up meanwhile only waits for the first's verdicts
    // and teardown.
    let gap = second.start - first.end;
    assert!(
        gap < 4.5,
        "the second load started {gap:.1} s after the first ended"
    );
}

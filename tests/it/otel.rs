//! The OpenTelemetry pipeline on real processes: demo API → rotel → perfgate's OTLP adapter →
//! Prometheus (rotel provisioned from PyPI when missing), demo API → adapter → Prometheus, the
//! `OTEL_*` environment of a user's process, and a collector killed mid-phase.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perfgate::report::{FailureKind, RunRecord, failure_message};
use perfgate::run::{ProgressEvent, RunOptions, run_spec};
use perfgate::spec;

use crate::support::slots;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn options(test: &str) -> RunOptions {
    RunOptions {
        out_dir: Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("otel")
            .join(test),
        progress: None,
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        ..RunOptions::default()
    }
}

fn run(spec_path: &Path, opts: &RunOptions) -> RunRecord {
    let spec = spec::load(spec_path).expect("spec is valid");
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(run_spec(&spec, opts))
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The log of service `name`.
fn log_of(record: &RunRecord, name: &str) -> String {
    let service = record
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} recorded"));
    std::fs::read_to_string(&service.log).expect("service log")
}

/// Each exact-count gate compared at least two series: a vacuous pass would hide loss.
fn assert_compared_series(record: &RunRecord, ids: &[&str]) {
    for id in ids {
        let v = record.verdict(id).expect(id);
        assert!(v.series.len() >= 2, "{id}: {:?}", v.series);
    }
}

fn assert_all_passed(record: &RunRecord) {
    assert_eq!(record.failure, None, "run failed");
    assert!(!record.verdicts.is_empty());
    for v in &record.verdicts {
        assert!(
            v.outcome.passed(),
            "{}",
            failure_message(record, v).unwrap_or_default()
        );
    }
    for s in &record.services {
        assert!(!alive(s.pid), "{} (pid {}) outlived the run", s.name, s.pid);
    }
}

#[test]
fn api_through_rotel_and_adapter_counts_every_request_exactly_once() {
    let _turn = slots::heavy();
    let record = run(&root().join("specs/otel.yaml"), &options("rotel"));
    assert_all_passed(&record);
    let collector = record
        .services
        .iter()
        .find(|s| s.name == "collector")
        .expect("collector recorded");
    let tool = collector.tool.as_deref().unwrap_or("");
    assert!(
        tool.starts_with("rotel-agent"),
        "implementation recorded: {tool}"
    );
    assert!(
        record
            .services
            .iter()
            .any(|s| s.name == "collector-to-prometheus"),
        "the companion adapter runs"
    );
    assert_compared_series(
        &record,
        &[
            "every_request_arrives_exactly_once",
            "histogram_counts_match_requests",
        ],
    );
    let lag = freshness(&record, "caught-up");
    assert!(lag > 0.0 && lag < 4.0, "freshness {lag} s");
}

/// The lag a `freshness` phase recorded, checked against the query's count.
fn freshness(record: &RunRecord, phase: &str) -> f64 {
    let p = record
        .phases
        .iter()
        .find(|p| p.name == phase)
        .expect("freshness phase recorded");
    let load = p.load.as_ref().expect("freshness outcome").to_json();
    let expected = load["expected"].as_f64().expect("expected count");
    assert!(expected > 100.0, "the load's /api requests: {load}");
    assert!(load["observed"].as_f64() >= Some(expected), "{load}");
    load["lag_seconds"].as_f64().expect("caught up in time")
}

#[test]
fn api_through_rotel_writing_remotely_counts_every_request_exactly_once() {
    let _turn = slots::heavy();
    let record = run(
        &root().join("fixtures/specs/otel/rotel_remote_write.yaml"),
        &options("rotel-remote-write"),
    );
    assert_all_passed(&record);
    assert_compared_series(
        &record,
        &[
            "every_request_arrives_exactly_once",
            "histogram_buckets_sum_to_the_request_count",
        ],
    );
    let log = log_of(&record, "collector-to-prometheus");
    assert!(log.contains("export: remote-write to http://"), "{log}");
    let lag = freshness(&record, "caught-up");
    assert!(lag > 0.0 && lag < 5.0, "freshness {lag} s");
}

#[test]
fn api_straight_into_the_adapter_counts_every_request_exactly_once() {
    let _turn = slots::heavy();
    let record = run(
        &root().join("fixtures/specs/otel/direct.yaml"),
        &options("direct"),
    );
    assert_all_passed(&record);
    assert_compared_series(&record, &["every_request_arrives_exactly_once"]);
}

#[test]
fn api_into_the_adapter_writing_remotely_counts_every_request_exactly_once() {
    let _turn = slots::heavy();
    let record = run(
        &root().join("fixtures/specs/otel/remote_write.yaml"),
        &options("remote-write"),
    );
    assert_all_passed(&record);
    assert_compared_series(&record, &["every_request_arrives_exactly_once"]);
    let log = log_of(&record, "ingest");
    assert!(log.contains("export: remote-write to http://"), "{log}");
}

#[test]
fn a_process_pointed_at_a_receiver_gets_the_otel_environment() {
    let _turn = slots::heavy();
    let record = run(
        &root().join("fixtures/specs/otel/process_env.yaml"),
        &options("env"),
    );
    let ingest = record
        .services
        .iter()
        .find(|s| s.name == "ingest")
        .expect("ingest recorded");
    let log = log_of(&record, "worker");
    let endpoint = format!(
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://{}",
        ingest.ports["http"]
    );
    for line in [
        endpoint.as_str(),
        "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
        "OTEL_SERVICE_NAME=worker",
        "OTEL_RESOURCE_ATTRIBUTES=service.instance.id=worker,deployment.environment=ci,team=perf%20gate",
        // The service's own `env:` wins over what perfgate injects.
        "OTEL_METRIC_EXPORT_INTERVAL=250",
    ] {
        assert!(
            log.lines().any(|l| l == line),
            "missing `{line}` in:\n{log}"
        );
    }
}

/// The pid of the rotel started by this test: its command line names the run folder.
fn rotel_pid(out_dir: &Path) -> Option<u32> {
    let marker = out_dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains("rotel-agent") && cmdline.contains(&marker)
        })
}

/// Kills the collector once the phase has been under way for two seconds.
fn killer(out_dir: PathBuf) -> Arc<dyn Fn(ProgressEvent) + Send + Sync> {
    let done = Mutex::new(false);
    Arc::new(move |event| {
        let ProgressEvent::PhaseTick { elapsed, .. } = event else {
            return;
        };
        let mut done = done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *done || elapsed < Duration::from_secs(2) {
            return;
        }
        if let Some(pid) = rotel_pid(&out_dir) {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            *done = true;
        }
    })
}

#[test]
fn a_collector_killed_mid_phase_fails_the_run_with_its_log_tail() {
    let _turn = slots::heavy();
    let mut opts = options("killed");
    opts.progress = Some(killer(opts.out_dir.clone()));
    let started = Instant::now();
    let record = run(
        &root().join("fixtures/specs/otel/collector_killed.yaml"),
        &opts,
    );
    let failure = record.failure.as_ref().expect("the run fails");
    assert_eq!(
        failure.kind,
        FailureKind::StackFailed,
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("service `collector` (otel-collector) exited during the run"),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains("Starting Rotel"),
        "log tail: {}",
        failure.message
    );
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "the 60 s phase was not cut short: {:?}",
        started.elapsed()
    );
    assert!(
        record.verdicts.is_empty(),
        "nothing is judged on a broken stack"
    );
    for s in &record.services {
        assert!(!alive(s.pid), "{} (pid {}) outlived the run", s.name, s.pid);
    }
}

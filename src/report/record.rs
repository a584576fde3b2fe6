//! The run record: everything a run produced, serialisable (report.json, and the results file
//! that nextest's one-process-per-test runs share).

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Exit;
use crate::load::PhaseOutcome;
use crate::prom::Series;
use crate::stack::ServiceRecord;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    /// The perfgate version that wrote this record.
    #[serde(default)]
    pub perfgate_version: String,
    pub spec: String,
    pub spec_path: PathBuf,
    pub run_id: String,
    pub report_dir: PathBuf,
    /// Unix seconds.
    pub started_at: f64,
    /// The backend the stack ran on and why: `docker backend (auto: not on this machine: …)`.
    #[serde(default)]
    pub backend: String,
    /// Every service started and ready.
    pub bring_up_ms: u64,
    /// From ready to every scrape target reporting `up == 1` (Prometheus sends its first
    /// discovered targets to the scrapers on a fixed 5 s tick).
    pub first_scrape_ms: u64,
    pub services: Vec<ServiceRecord>,
    pub phases: Vec<PhaseRecord>,
    pub verdicts: Vec<Verdict>,
    /// Set when the run broke before every assertion could be judged.
    pub failure: Option<Failure>,
    /// One per `snapshot:` query, compared with the stored snapshot file.
    #[serde(default)]
    pub snapshots: Vec<SnapshotOutcome>,
    /// One range query per assertion over the whole run, for report.html.
    #[serde(default)]
    pub plots: Vec<Plot>,
    /// The saved baseline `within X of baseline` assertions were judged against.
    #[serde(default)]
    pub baseline: Option<BaselineRef>,
    /// Where this run was saved as a baseline (`--save-baseline`), when it was; not in
    /// report.json.
    #[serde(skip)]
    pub saved_as: Option<PathBuf>,
}

/// A snapshot query's result, per series, against the stored snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapshotOutcome {
    pub id: String,
    pub name: String,
    /// The query as written in the spec (stored in the snapshot file).
    pub template: String,
    /// The query as sent, `$phase` expanded.
    pub query: String,
    pub during: Option<String>,
    pub window: Window,
    pub tolerance: String,
    /// The snapshot file (`<snapshot_dir>/<spec>__<id>.snap`).
    pub file: PathBuf,
    pub series: Vec<Series>,
    pub status: SnapshotStatus,
    /// Every series of the stored or the new outcome, old and new value side by side.
    pub changes: Vec<SeriesChange>,
    /// The snapshot body handed to insta: stored values kept where within tolerance.
    pub contents: String,
    /// Set when the query failed (status `error`).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotStatus {
    /// Every value within tolerance of the stored one: the snapshot file stays as it is.
    Unchanged,
    /// A value moved beyond tolerance, or series came or went.
    Changed,
    /// No snapshot stored yet.
    New,
    /// The query could not be evaluated.
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesChange {
    /// `{endpoint="/health"}`.
    pub series: String,
    /// `None`: the series is new.
    pub old: Option<f64>,
    /// `None`: the series is gone.
    pub new: Option<f64>,
    /// The new value is within tolerance of the old one (the old one is kept).
    pub within: bool,
}

/// A range query over the whole run at the scrape interval, drawn in report.html.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Plot {
    /// The assertion's id.
    pub id: String,
    pub query: String,
    pub window: Window,
    pub step_seconds: f64,
    pub series: Vec<Series>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaselineRef {
    pub name: String,
    pub path: PathBuf,
    /// The run the baseline was saved from; `None` when no baseline was found.
    pub run_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// The error the message was made from, with its chain of causes. Not saved: a record read
    /// back has the message only.
    #[serde(skip)]
    pub cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Failure {
    pub fn new(kind: FailureKind, error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            kind,
            message: error.to_string(),
            cause: Some(Arc::new(error)),
        }
    }
}

/// Two failures are the same when they say the same: the cause is not saved.
impl PartialEq for Failure {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    StackFailed,
    RunFailed,
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) ended the run; the record holds what was measured
    /// before it.
    Interrupted,
}

/// A time window in unix seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Window {
    pub start: f64,
    pub end: f64,
}

impl Window {
    pub fn seconds(&self) -> f64 {
        self.end - self.start
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(from = "SavedPhase")]
pub struct PhaseRecord {
    pub name: String,
    pub kind: String,
    pub window: Window,
    /// The load engine's own account of the phase (requested vs achieved, latency, errors);
    /// `None` for a pause.
    pub load: Option<PhaseOutcome>,
    /// How disturbed the machine was during the phase; absent from older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<PhaseNoise>,
}

/// How disturbed the machine was over a phase (from /proc and the HTTP engine's dispatcher),
/// and the noise guard's limits it broke. Percentages of all cores, but perfgate's own CPU,
/// which is of one core.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PhaseNoise {
    /// Every core's time not idle nor waiting on I/O, whoever used it.
    pub cpu_busy_percent: f64,
    /// CPU time the hypervisor gave to other guests.
    pub steal_percent: f64,
    pub iowait_percent: f64,
    /// The 1-minute load average at the phase's end.
    pub load_average: f64,
    /// perfgate's own CPU use (the load engines and its `/metrics`), percent of one core.
    pub perfgate_cpu_percent: f64,
    /// HTTP phases: the 99th percentile of how late the engine issued requests, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_lag_p99_ms: Option<f64>,
    /// The noise guard's limits this phase broke, as sentences; empty: a quiet phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disturbed: Vec<String>,
}

impl PhaseRecord {
    /// The record name of phase `phase` in a repetition `label`: `steady (run 2)`,
    /// `steady (candidate 3)`.
    pub fn repetition_name(phase: &str, label: &str) -> String {
        format!("{phase} ({label})")
    }

    /// Whether this is a record of phase `phase`, run once or in any repetition.
    pub fn is_of(&self, phase: &str) -> bool {
        self.name == phase
            || self
                .name
                .strip_prefix(phase)
                .is_some_and(|rest| rest.starts_with(" (") && rest.ends_with(')'))
    }
}

/// A phase as report.json holds it: the outcome is read by the phase's kind.
#[derive(Deserialize)]
struct SavedPhase {
    name: String,
    kind: String,
    window: Window,
    load: Option<serde_json::Value>,
    #[serde(default)]
    noise: Option<PhaseNoise>,
}

impl From<SavedPhase> for PhaseRecord {
    fn from(saved: SavedPhase) -> Self {
        let load = saved
            .load
            .map(|value| PhaseOutcome::from_saved(&saved.kind, value));
        Self {
            name: saved.name,
            kind: saved.kind,
            window: saved.window,
            load,
            noise: saved.noise,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub id: String,
    pub name: String,
    /// The query as sent, `$phase` expanded.
    pub query: String,
    /// The query as the spec wrote it (`$phase` kept): what a baseline is matched on. Empty in
    /// records written before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub spec_query: String,
    pub during: Option<String>,
    pub window: Window,
    /// When the instant query was evaluated (unix seconds): the window's end.
    pub evaluated_at: f64,
    pub expectation: String,
    pub mode: String,
    pub series: Vec<Series>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    /// The query ran; values broke the expectation (or there were none).
    Fail {
        reasons: Vec<String>,
    },
    /// The query could not be evaluated.
    Error {
        message: String,
    },
    /// The measurement cannot decide: its interval straddles the tolerance, the machine was too
    /// noisy, or there were too few values. Neither a pass nor a failure of the service.
    Inconclusive {
        reasons: Vec<String>,
    },
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Pass)
    }

    pub fn inconclusive(&self) -> bool {
        matches!(self, Outcome::Inconclusive { .. })
    }

    /// `PASS`, `FAIL`, `ERROR` or `INCONCLUSIVE`, as every rendering shows it.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail { .. } => "FAIL",
            Outcome::Error { .. } => "ERROR",
            Outcome::Inconclusive { .. } => "INCONCLUSIVE",
        }
    }
}

/// Records for the tests of what reads and rewrites them (the verdict guards, baselines).
#[cfg(test)]
impl RunRecord {
    /// A record of spec `s` (`specs/s.yaml`) with no phase and no verdict.
    pub(crate) fn minimal(run_id: &str) -> Self {
        serde_json::from_value(serde_json::json!({
            "spec": "s", "spec_path": "specs/s.yaml", "run_id": run_id, "report_dir": "out",
            "started_at": 0.0, "bring_up_ms": 0, "first_scrape_ms": 0, "services": [],
            "phases": [], "verdicts": [], "failure": null,
        }))
        .expect("a minimal record")
    }
}

#[cfg(test)]
impl Verdict {
    /// Gate `id` (query `q`, `< 1`) judged on `during` over the window 0..1 s, with `outcome`.
    pub(crate) fn judged(id: &str, during: Option<&str>, outcome: Outcome) -> Self {
        Self {
            id: id.into(),
            name: id.into(),
            query: "q".into(),
            spec_query: "q".into(),
            during: during.map(str::to_owned),
            window: Window { start: 0.0, end: 1.0 },
            evaluated_at: 1.0,
            expectation: "< 1".into(),
            mode: "every series".into(),
            series: Vec::new(),
            outcome,
        }
    }
}

impl RunRecord {
    pub fn verdict(&self, id: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.id == id)
    }

    pub fn snapshot(&self, id: &str) -> Option<&SnapshotOutcome> {
        self.snapshots.iter().find(|s| s.id == id)
    }

    pub fn plot(&self, id: &str) -> Option<&Plot> {
        self.plots.iter().find(|p| p.id == id)
    }

    pub fn report_json(&self) -> PathBuf {
        self.report_dir.join("report.json")
    }

    /// The exit code this run deserves on its own.
    pub fn exit(&self) -> Exit {
        match &self.failure {
            Some(Failure {
                kind: FailureKind::StackFailed,
                ..
            }) => Exit::StackFailed,
            Some(_) => Exit::RunFailed,
            None if self.verdicts.is_empty() => Exit::NothingRan,
            None if self.verdicts.iter().all(|v| v.outcome.passed()) => Exit::Success,
            None if self
                .verdicts
                .iter()
                .all(|v| v.outcome.passed() || v.outcome.inconclusive()) =>
            {
                Exit::Inconclusive
            }
            None => Exit::GateFailed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_cause_but_saves_and_compares_its_message_only() {
        let io = std::io::Error::other("bind: address in use");
        let failure = Failure::new(FailureKind::StackFailed, io);
        assert_eq!(failure.message, "bind: address in use");
        assert!(failure.cause.is_some());
        let json = serde_json::to_value(&failure).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "stack-failed", "message": "bind: address in use"})
        );
        let back: Failure = serde_json::from_value(json).unwrap();
        assert!(back.cause.is_none());
        assert_eq!(back, failure);
    }
}

//! One run of one spec: the only module that knows every subsystem. Stack up → targets
//! scraped → phases in order → wait for the last scrape → judge every assertion → stack down →
//! report written. Never panics on a broken run: the record says what broke.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::load::{self, EngineMetrics, EngineProgress};
use crate::prom::PromClient;
use crate::report::{self, Failure, FailureKind, PhaseRecord, RunRecord, Window};
use crate::spec::Spec;
use crate::stack::{
    self, Backend, RunningStack, StackError, StackOptions, prometheus::ScrapeTarget,
};
use crate::verdict::{BaselineChoice, evaluate};

/// How long targets get to report `up == 1` after Prometheus is ready.
const TARGETS_UP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);
/// How often services are checked for an unexpected exit during phases.
const WATCH: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct RunOptions {
    /// Reports go to `<out_dir>/<spec>/<run-id>/`.
    pub out_dir: PathBuf,
    /// Receives live progress of each phase (the CLI draws it; tests pass `None`).
    pub progress: Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>,
    /// The executable hosting built-in services (tests pass the `perfgate` binary).
    pub host_executable: Option<PathBuf>,
    /// The baseline `within X of baseline` assertions are judged against (`perfgate run
    /// --baseline NAME`); `None` means the one being saved, else `$PERFGATE_BASELINE`, else
    /// `main`.
    pub baseline: Option<String>,
    /// Save the run as this baseline when it did not break (`--save-baseline NAME`).
    pub save_baseline: Option<String>,
    /// The backend, when the caller has chosen it (the CLI, to print it first); `None`: chosen
    /// at the start of the run.
    pub backend: Option<stack::BackendDecision>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            out_dir: default_out_dir(),
            progress: None,
            host_executable: None,
            baseline: None,
            save_baseline: None,
            backend: None,
        }
    }
}

/// What a run tells its observer while it goes.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    StackUp {
        services: usize,
        took: Duration,
    },
    TargetsUp {
        took: Duration,
    },
    PhaseStarted {
        name: String,
        duration: Duration,
    },
    PhaseTick {
        name: String,
        elapsed: Duration,
        /// The engine's own snapshot; `progress.line()` is what a progress bar shows.
        progress: Box<EngineProgress>,
    },
    PhaseEnded {
        name: String,
    },
    Evaluating,
}

/// See [`crate::paths::out_dir`].
pub fn default_out_dir() -> PathBuf {
    crate::paths::out_dir()
}

use crate::clock::unix_now;

fn run_id() -> String {
    format!(
        "{}-{}",
        crate::clock::compact_stamp(unix_now()),
        std::process::id()
    )
}

/// Runs `spec` end to end and writes its report. The record is returned whatever happened.
pub async fn run_spec(spec: &Spec, opts: &RunOptions) -> RunRecord {
    crate::reaper::install_signal_handler();
    let run_id = run_id();
    let report_dir = opts.out_dir.join(&spec.name).join(&run_id);
    let mut record = RunRecord {
        perfgate_version: env!("CARGO_PKG_VERSION").to_owned(),
        spec: spec.name.clone(),
        spec_path: spec.path.clone(),
        run_id,
        report_dir: report_dir.clone(),
        started_at: unix_now(),
        backend: String::new(),
        bring_up_ms: 0,
        first_scrape_ms: 0,
        services: Vec::new(),
        phases: Vec::new(),
        verdicts: Vec::new(),
        failure: None,
        snapshots: Vec::new(),
        plots: Vec::new(),
        baseline: None,
    };
    if let Err(error) = drive(spec, opts, &mut record).await {
        record.failure = Some(error.into());
    }
    let choice = BaselineChoice::new(opts.baseline.as_deref(), opts.save_baseline.as_deref());
    crate::verdict::apply_baseline(spec, &mut record, &choice);
    if let (Some(name), None) = (&opts.save_baseline, &record.failure)
        && let Err(e) = crate::verdict::save_baseline(&record, name)
    {
        tracing::warn!("could not save baseline `{name}`: {e}");
    }
    if let Err(e) = report::write_report(&record) {
        tracing::warn!(
            "could not write the report to {}: {e}",
            report_dir.display()
        );
    }
    record
}

/// Why a run broke. The record keeps it as its `Failure`: the message, the kind that picks the
/// exit code, and this error itself as the cause.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("engine metrics endpoint: {0}")]
    EngineEndpoint(#[source] std::io::Error),
    #[error(transparent)]
    EngineAddress(std::io::Error),
    #[error("{0}")]
    TargetsDown(String),
    #[error(transparent)]
    Phase(#[from] load::PhaseError),
    #[error("{0}")]
    NotScraped(String),
    #[error("teardown: {0}")]
    Teardown(#[source] StackError),
}

impl RunError {
    fn kind(&self) -> FailureKind {
        match self {
            Self::Stack(_) | Self::EngineEndpoint(_) | Self::EngineAddress(_) => {
                FailureKind::StackFailed
            }
            Self::TargetsDown(_) => FailureKind::StackFailed,
            Self::Phase(_) | Self::NotScraped(_) | Self::Teardown(_) => FailureKind::RunFailed,
        }
    }
}

impl From<RunError> for Failure {
    fn from(error: RunError) -> Self {
        Failure::new(error.kind(), error)
    }
}

async fn drive(spec: &Spec, opts: &RunOptions, record: &mut RunRecord) -> Result<(), RunError> {
    let notify = |e: ProgressEvent| {
        if let Some(p) = &opts.progress {
            p(e);
        }
    };
    let metrics = Arc::new(EngineMetrics::new());
    load::declare_series(&metrics, &spec.phases);
    let backend = match &opts.backend {
        Some(chosen) => chosen.clone(),
        None => stack::choose_backend(spec)?,
    };
    record.backend = backend.to_string();
    // Under the docker backend Prometheus scrapes the engines from inside a container.
    let engine_ip = match backend.backend {
        Backend::Docker => stack::host_address_for_containers()?,
        Backend::Process => stack::loopback(0).ip(),
    };
    let listener = tokio::net::TcpListener::bind((engine_ip, 0))
        .await
        .map_err(RunError::EngineEndpoint)?;
    let engine_addr = listener.local_addr().map_err(RunError::EngineAddress)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let exporter = tokio::spawn(load::serve_metrics(listener, Arc::clone(&metrics), async {
        let _ = stop_rx.await;
    }));

    let options = StackOptions {
        run_dir: record.report_dir.join("stack"),
        extra_targets: vec![ScrapeTarget {
            job: "perfgate".into(),
            addr: engine_addr,
            path: "/metrics".into(),
            honor_labels: false,
        }],
        host_executable: opts.host_executable.clone(),
        backend: Some(backend),
    };
    let mut stack = stack::start(spec, &options).await?;
    record.services = stack.records();
    record.bring_up_ms = stack.bring_up.as_millis() as u64;
    notify(ProgressEvent::StackUp {
        services: stack.services().len(),
        took: stack.bring_up,
    });

    let outcome = drive_stack(spec, &mut stack, &metrics, record, &notify).await;
    let stopping = Instant::now();
    let stopped = stack.shutdown().await;
    tracing::debug!(took = ?stopping.elapsed(), "stack stopped");
    let _ = stop_tx.send(());
    let _ = exporter.await;
    outcome?;
    stopped.map_err(RunError::Teardown)
}

async fn drive_stack(
    spec: &Spec,
    stack: &mut RunningStack,
    metrics: &Arc<EngineMetrics>,
    record: &mut RunRecord,
    notify: &impl Fn(ProgressEvent),
) -> Result<(), RunError> {
    let prom = stack.prometheus().map(PromClient::new);
    if let Some(client) = &prom {
        let waited = Instant::now();
        wait_targets_up(client, spec, stack.scrape_targets())
            .await
            .map_err(RunError::TargetsDown)?;
        record.first_scrape_ms = waited.elapsed().as_millis() as u64;
        notify(ProgressEvent::TargetsUp {
            took: waited.elapsed(),
        });
    }
    run_phases(spec, stack, prom.as_ref(), metrics, record, notify).await?;
    let Some(client) = prom else {
        return Ok(());
    };
    notify(ProgressEvent::Evaluating);
    judge(spec, stack.scrape_interval(), &client, record).await
}

/// Every phase in order, each prepared against the stack and run while the stack is watched.
async fn run_phases(
    spec: &Spec,
    stack: &mut RunningStack,
    prom: Option<&PromClient>,
    metrics: &EngineMetrics,
    record: &mut RunRecord,
    notify: &impl Fn(ProgressEvent),
) -> Result<(), RunError> {
    let mut history = load::LoadHistory::new();
    for phase in &spec.phases {
        notify(ProgressEvent::PhaseStarted {
            name: phase.name.clone(),
            duration: phase.duration(),
        });
        let start = unix_now();
        let prepared = load::PhaseRun::prepare(phase, &*stack, prom).await?;
        let observe = |progress: EngineProgress| {
            notify(ProgressEvent::PhaseTick {
                name: phase.name.clone(),
                elapsed: progress.elapsed(),
                progress: Box::new(progress),
            })
        };
        let running = prepared.run(&phase.name, metrics, &mut history, observe);
        let load = guarded(stack, running).await??;
        record.phases.push(PhaseRecord {
            name: phase.name.clone(),
            kind: phase.kind.name().into(),
            window: Window {
                start,
                end: unix_now(),
            },
            load,
        });
        notify(ProgressEvent::PhaseEnded {
            name: phase.name.clone(),
        });
    }
    Ok(())
}

/// Once every target was scraped after the load: every assertion judged at the end of its
/// window, then snapshots and plots collected.
async fn judge(
    spec: &Spec,
    settle: Duration,
    client: &PromClient,
    record: &mut RunRecord,
) -> Result<(), RunError> {
    let whole = Window {
        start: record
            .phases
            .first()
            .map_or(record.started_at, |p| p.window.start),
        end: record.phases.last().map_or_else(unix_now, |p| p.window.end),
    };
    let judging = Instant::now();
    wait_scraped_after(client, whole.end, settle)
        .await
        .map_err(RunError::NotScraped)?;
    tracing::debug!(waited = ?judging.elapsed(), "every target scraped after the last phase");
    for assertion in &spec.assertions {
        let window = match &assertion.during {
            Some(phase) => record
                .phases
                .iter()
                .find(|p| &p.name == phase)
                .map_or(whole, |p| p.window),
            None => whole,
        };
        record
            .verdicts
            .push(evaluate(client, assertion, window, settle).await);
    }
    crate::snapshot::collect_snapshots(client, spec, record, whole).await;
    crate::snapshot::collect_plots(client, record, whole, settle).await;
    tracing::debug!(took = ?judging.elapsed(), "judged, snapshots and plots collected");
    Ok(())
}

/// The addresses and URLs phases resolve their targets against.
impl load::StackView for RunningStack {
    fn http_endpoint(&self, service: &str) -> Option<std::net::SocketAddr> {
        RunningStack::http_endpoint(self, service)
    }

    fn expand_urls(&self, text: &str) -> Result<String, String> {
        RunningStack::expand_urls(self, text)
    }
}

/// Runs `work` while watching the stack: a service that exits meanwhile (a crashed collector, a
/// killed API) fails the run at once with its log tail, instead of the phase running on against
/// a broken pipeline or waiting for data that will never come.
async fn guarded<T>(
    stack: &mut RunningStack,
    work: impl std::future::Future<Output = T>,
) -> Result<T, RunError> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return Ok(out),
            () = tokio::time::sleep(WATCH) => {
                stack.check_alive()?;
            }
        }
    }
}

/// Waits until every one of the `expected` scrape targets reports `up == 1` (not just those
/// scraped so far), so the first phase starts with a baseline sample of every series.
async fn wait_targets_up(client: &PromClient, spec: &Spec, expected: usize) -> Result<(), String> {
    let started = Instant::now();
    let mut last = String::from("no answer yet");
    while started.elapsed() < TARGETS_UP_TIMEOUT {
        match client.query("up", None).await {
            Ok(v)
                if v.series.len() >= expected.max(1)
                    && v.series.iter().all(|s| s.samples[0].v == 1.0) =>
            {
                let jobs = v.series.len();
                tracing::debug!(jobs, spec = %spec.name, "all targets up");
                return Ok(());
            }
            Ok(v) => {
                last = v
                    .series
                    .iter()
                    .filter(|s| s.samples.first().is_none_or(|p| p.v != 1.0))
                    .map(|s| s.labels.get("job").cloned().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", ");
                if last.is_empty() {
                    last = format!("none; {} of {expected} scraped so far", v.series.len());
                }
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(POLL).await;
    }
    Err(format!(
        "scrape targets were not all up after {TARGETS_UP_TIMEOUT:?}: down: {last}"
    ))
}

/// Waits until every target has been scraped at or after unix time `t`, so the values at `t`
/// are in the TSDB before anything is evaluated there.
async fn wait_scraped_after(client: &PromClient, t: f64, interval: Duration) -> Result<(), String> {
    let deadline = Instant::now() + interval * 10 + Duration::from_secs(10);
    loop {
        // `max by` first: replicated copies of `up` carry a target's job and instance but
        // never get newer samples; the target's own series is always the freshest.
        if let Ok(v) = client
            .query("min(max by (job, instance) (timestamp(up)))", None)
            .await
            && v.series
                .first()
                .and_then(|s| s.samples.first())
                .is_some_and(|p| p.v >= t)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "prometheus did not scrape every target after {} within the deadline",
                crate::clock::unix_to_utc(t)
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

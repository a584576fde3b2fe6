//! One run of one spec: the only module that knows every subsystem. Stack up → targets
//! scraped → phases in order → wait for the last scrape → judge every assertion → stack down →
//! report written. Never panics on a broken run: the record says what broke.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::load::{self, EngineMetrics};
use crate::prom::PromClient;
use crate::report::{self, RunRecord, Window};
use crate::spec::Spec;
use crate::stack::{
    self, Backend, RunningStack, StackOptions, prometheus::ScrapeTarget,
};
use crate::verdict::{BaselineChoice, ask};

mod compare;
mod error;
mod phases;
mod progress;
mod repeat;
mod repetition;
mod turn;

use error::RunError;
use phases::{phase_of, run_phases, span, wait_scraped_after, wait_targets_up};
use repetition::Repetition;
use turn::LoadTurn;
pub use progress::ProgressEvent;

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
    /// A FAIL judged on a phase the machine disturbed becomes INCONCLUSIVE (docs/reports.md,
    /// "Noise guard"). On unless `$PERFGATE_NOISE_GUARD` is `off`; tests of a verdict itself
    /// turn it off.
    pub noise_guard: bool,
    /// The backend, when the caller has chosen it (the CLI, to print it first); `None`: chosen
    /// at the start of the run.
    pub backend: Option<stack::BackendDecision>,
    /// Turns at the load shared by runs on one machine (one permit: one load at a time): a run
    /// takes its turn once its stack is up and scraped and holds it until its stack is down,
    /// so other runs come up meanwhile (the libtest harness runs its specs so). `None`: the run
    /// waits for no one.
    pub load_turns: Option<Arc<tokio::sync::Semaphore>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            out_dir: default_out_dir(),
            progress: None,
            host_executable: None,
            baseline: None,
            save_baseline: None,
            noise_guard: std::env::var("PERFGATE_NOISE_GUARD").map_or(true, |v| v != "off"),
            backend: None,
            load_turns: None,
        }
    }
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
        saved_as: None,
    };
    // Held until the report is written: a signal lets this run write it before perfgate exits.
    let _finishing = crate::reaper::finishing();
    let ended = tokio::select! {
        outcome = drive(spec, opts, &mut record) => Ok(outcome),
        signal = crate::reaper::interrupted() => Err(signal),
    };
    let phases = record.phases.len();
    let outcome = ended.unwrap_or_else(|signal| Err(RunError::Interrupted { signal, phases }));
    if let Err(error) = outcome {
        record.failure = Some(error.into());
    }
    let choice = BaselineChoice::new(opts.baseline.as_deref(), opts.save_baseline.as_deref());
    crate::verdict::apply_baseline(spec, &mut record, &choice);
    let deliveries = crate::verdict::judge_deliveries(spec, &record.phases);
    record.verdicts.extend(deliveries);
    // After every verdict is final: a baseline re-judges from the values.
    crate::verdict::apply_delivery_guard(&mut record);
    if opts.noise_guard {
        crate::verdict::apply_noise_guard(&mut record);
    }
    if let Some(name) = &opts.save_baseline {
        save_as_baseline(&mut record, name);
    }
    if let Err(e) = report::write_report(&record) {
        tracing::warn!(
            "could not write the report to {}: {e}",
            report_dir.display()
        );
    }
    record
}

/// Saves `record` as baseline `name`, unless it is unfit to be one.
fn save_as_baseline(record: &mut RunRecord, name: &str) {
    if let Some(why) = crate::verdict::unfit_for_baseline(record) {
        tracing::debug!("not saved as baseline `{name}`: {why}");
        return;
    }
    match crate::verdict::save_baseline(record, name) {
        Ok(path) => record.saved_as = Some(path),
        Err(e) => tracing::warn!("could not save baseline `{name}`: {e}"),
    }
}

async fn drive(spec: &Spec, opts: &RunOptions, record: &mut RunRecord) -> Result<(), RunError> {
    let notify = |e: ProgressEvent| {
        if let Some(p) = &opts.progress {
            p(e);
        }
    };
    let metrics = Arc::new(EngineMetrics::with_latency_buckets(&spec.latency_buckets));
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
    let mut turn = LoadTurn::new(opts.load_turns.as_ref());
    turn.take_early(spec).await;
    let mut stack = stack::start(spec, &options).await?;
    record.services = stack.records();
    record.bring_up_ms = stack.bring_up.as_millis() as u64;
    notify(ProgressEvent::StackUp {
        services: stack.services().len(),
        took: stack.bring_up,
    });

    let outcome = drive_stack(spec, &mut stack, &metrics, record, &notify, &mut turn).await;
    let stopping = Instant::now();
    let stopped = stack.shutdown().await;
    tracing::debug!(took = ?stopping.elapsed(), "stack stopped");
    drop(turn);
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
    turn: &mut LoadTurn,
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
    turn.take().await;
    if let Some(client) = prom.as_ref().filter(|_| spec.comparison.is_some() || spec.repeat > 1) {
        let repetition = Repetition {
            stack,
            client,
            metrics,
            notify,
        };
        match &spec.comparison {
            Some(comparison) => compare::drive_comparison(spec, comparison, repetition, record).await?,
            None => repeat::drive_repeated(spec, repetition, record).await?,
        }
        notify(ProgressEvent::Evaluating);
        let whole = span(&record.phases, record.started_at);
        return collect_extras(spec, stack.scrape_interval(), client, record, whole).await;
    }
    run_phases(spec, stack, prom.as_ref(), metrics, record, notify).await?;
    let Some(client) = prom else {
        return Ok(());
    };
    notify(ProgressEvent::Evaluating);
    judge(spec, stack.scrape_interval(), &client, record).await
}

/// Once every target was scraped after the load: every assertion judged at the end of its
/// window, then snapshots and plots collected.
async fn judge(
    spec: &Spec,
    settle: Duration,
    client: &PromClient,
    record: &mut RunRecord,
) -> Result<(), RunError> {
    let whole = span(&record.phases, record.started_at);
    let judging = Instant::now();
    wait_scraped_after(client, whole.end, settle)
        .await
        .map_err(RunError::NotScraped)?;
    tracing::debug!(waited = ?judging.elapsed(), "every target scraped after the last phase");
    for assertion in &spec.assertions {
        let phase = phase_of(assertion, &record.phases);
        let verdict = ask(client, assertion, phase, whole, settle).await;
        record.verdicts.push(verdict);
    }
    collect_extras(spec, settle, client, record, whole).await
}

/// Snapshots and plots over the whole load, once the verdicts are in.
async fn collect_extras(
    spec: &Spec,
    settle: Duration,
    client: &PromClient,
    record: &mut RunRecord,
    whole: Window,
) -> Result<(), RunError> {
    let collecting = Instant::now();
    crate::snapshot::collect_snapshots(client, spec, record, whole).await;
    crate::snapshot::collect_plots(client, spec, record, whole, settle).await;
    tracing::debug!(took = ?collecting.elapsed(), "snapshots and plots collected");
    Ok(())
}


//! Running phases on a started stack and the waits around them: every target up before the
//! first phase, every target scraped after the last one, services watched while load runs, and
//! how disturbed the machine was during each phase.

use std::time::{Duration, Instant};

use super::error::RunError;
use super::progress::ProgressEvent;
use crate::clock::unix_now;
use crate::host_noise::HostSample;
use crate::load::{self, EngineMetrics, EngineProgress, PhaseOutcome};
use crate::prom::PromClient;
use crate::report::{PhaseNoise, PhaseRecord, RunRecord, Window};
use crate::spec::{Assertion, Spec};
use crate::stack::RunningStack;

/// How long targets get to report `up == 1` after Prometheus is ready.
const TARGETS_UP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);
/// How often services are checked for an unexpected exit during phases.
const WATCH: Duration = Duration::from_millis(200);

/// Every phase in order, each prepared against the stack and run while the stack is watched.
pub(super) async fn run_phases(
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
        let host = HostSample::now();
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
        let noise = phase_noise(&host, load.as_ref());
        record.phases.push(PhaseRecord {
            name: phase.name.clone(),
            kind: phase.kind.name().into(),
            window: Window {
                start,
                end: unix_now(),
            },
            load,
            noise,
        });
        notify(ProgressEvent::PhaseEnded {
            name: phase.name.clone(),
        });
    }
    Ok(())
}

/// How disturbed the machine was since `start` (the phase's start), with the HTTP engine's
/// dispatch lag, and the noise guard's limits it broke; `None` without a readable /proc.
fn phase_noise(start: &HostSample, load: Option<&PhaseOutcome>) -> Option<PhaseNoise> {
    let host = HostSample::now().noise_since(start)?;
    let lag = match load {
        Some(PhaseOutcome::Http(http)) => http.dispatch_lag.as_ref().map(|l| l.p99 * 1e3),
        _ => None,
    };
    let mut noise = PhaseNoise {
        cpu_busy_percent: host.busy_percent,
        steal_percent: host.steal_percent,
        iowait_percent: host.iowait_percent,
        load_average: host.load_average,
        perfgate_cpu_percent: host.own_cpu_percent,
        dispatch_lag_p99_ms: lag,
        disturbed: Vec::new(),
    };
    noise.disturbed = crate::verdict::disturbances(&noise);
    Some(noise)
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
pub(super) async fn wait_targets_up(client: &PromClient, spec: &Spec, expected: usize) -> Result<(), String> {
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
pub(super) async fn wait_scraped_after(client: &PromClient, t: f64, interval: Duration) -> Result<(), String> {
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

/// The assertion's `during:` phase in this repetition.
pub(super) fn phase_of<'a>(assertion: &Assertion, repetition: &'a [PhaseRecord]) -> Option<&'a PhaseRecord> {
    let name = assertion.during.as_ref()?;
    repetition.iter().find(|p| &p.name == name)
}

/// From the first of `phases`' start to the last one's end (none: from `since` to now).
pub(super) fn span(phases: &[PhaseRecord], since: f64) -> Window {
    Window {
        start: phases.first().map_or(since, |p| p.window.start),
        end: phases.last().map_or_else(unix_now, |p| p.window.end),
    }
}

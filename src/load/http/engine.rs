//! The HTTP phase runner: an open-model constant-arrival-rate dispatcher (or closed-loop
//! workers for `rate: max`), bounded by max_in_flight, the phase duration and a drain deadline;
//! request outcomes stream over a channel to one aggregator task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout, timeout_at};

use super::client::{self, ErrorKind, Pool, PreparedRequest};
use super::config::HttpConfig;
use super::error::HttpError;
use super::outcome::{Aggregate, HttpPhaseOutcome, HttpProgress, LagRecorder, LagSummary, Record};
use crate::load::{EngineMetrics, Schedule};

/// Extra time, beyond the per-request timeout, that in-flight requests get after the phase.
const DRAIN_GRACE: Duration = Duration::from_millis(250);
/// Granularity of tokio's timer wheel.
const TIMER_TICK: Duration = Duration::from_millis(1);
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// A dispatcher catching up on due arrivals yields this often so request tasks sharing its
/// worker thread are not starved.
const YIELD_EVERY: u32 = 64;

enum Message {
    Done(Record),
    Stop,
}

/// Counters the dispatcher (or workers) update and the aggregator only reads for progress.
struct Issued {
    sent: AtomicU64,
    dropped: AtomicU64,
    in_flight: Gauge,
}

/// What every request task needs, shared once per phase. The aggregator must not hold it: it
/// owns a sender, and the aggregator ends when the last sender is gone (e.g. a cancelled phase).
struct Shared {
    requests: Vec<PreparedRequest>,
    timeout: Duration,
    records: mpsc::UnboundedSender<Message>,
    issued: Arc<Issued>,
}

impl Shared {
    /// A request is done: its record goes to the aggregator and it leaves the in-flight gauge.
    fn finish(&self, request: usize, result: Result<u16, ErrorKind>, latency: Duration) {
        let _ = self.records.send(Message::Done(Record {
            request,
            result,
            latency,
        }));
        self.issued.in_flight.dec();
    }
}

/// Runs one HTTP phase (see [`HttpConfig::from_phase`]) and returns its outcome. Arrivals
/// follow the phase's rate and ramp; `Rate(f64::INFINITY)` runs closed loop, `max_in_flight`
/// workers sending back to back. The mix is drawn from an rng seeded by the phase name, so a
/// rerun of the same spec sends the same sequence of requests. The phase ends after its
/// duration; in-flight requests then get the request timeout (plus a short grace) to finish.
/// Progress, when asked for, is published on `progress`; the engine never prints.
pub async fn run(
    phase_name: &str,
    mut config: HttpConfig,
    metrics: &EngineMetrics,
    progress: Option<watch::Sender<HttpProgress>>,
) -> Result<HttpPhaseOutcome, HttpError> {
    let target = config.target;
    // The request tasks own the prepared requests from here on.
    let requests = std::mem::take(&mut config.requests);
    let (schedule, picker) = (&config.schedule, &config.picker);
    let aggregate = Aggregate::new(phase_name, &requests, &metrics.http)?;
    let (dropped_series, in_flight) = metrics.http.phase_handles(phase_name);
    let issued = Arc::new(Issued {
        sent: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        in_flight,
    });
    let (records, inbox) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        requests,
        timeout: config.timeout,
        records,
        issued: issued.clone(),
    });

    let start = Instant::now();
    let inputs = AggregatorInputs {
        phase: phase_name.to_owned(),
        start,
        issued: issued.clone(),
        progress,
    };
    let aggregator = tokio::spawn(aggregate_records(inputs, inbox, aggregate));

    let permits = Arc::new(Semaphore::new(config.max_in_flight));
    let seed = seed_of(phase_name);
    let mut lag = LagRecorder::new()?;
    if schedule.is_closed_loop() {
        closed_loop(&shared, schedule, picker, seed, target, start, &permits);
    } else {
        open_loop(
            &shared,
            schedule,
            picker,
            seed,
            target,
            start,
            &permits,
            &dropped_series,
            &mut lag,
        )
        .await;
        // The last arrival is due before the end; the phase still lasts its full duration, so
        // its window (and a zero-rate phase) keeps the length the spec gave it.
        sleep_until(start + config.duration).await;
    }
    let abandoned = drain(&config, start, &permits).await;
    let wall = start.elapsed();
    // Every finished task sent its record before releasing its permit, so Stop comes after them.
    let _ = shared.records.send(Message::Stop);
    let mut aggregate = aggregator
        .await
        .map_err(|e| HttpError::Task(e.to_string()))?;
    aggregate.abandoned(abandoned);
    let dispatch_lag = (!schedule.is_closed_loop()).then(|| lag.summary());
    Ok(outcome(
        phase_name,
        &config,
        &issued,
        &aggregate,
        dispatch_lag,
        wall,
    ))
}

/// Waits for in-flight requests until the drain deadline; how many were abandoned then.
async fn drain(config: &HttpConfig, start: Instant, permits: &Semaphore) -> u64 {
    let max = u32::try_from(config.max_in_flight).unwrap_or(u32::MAX);
    // Closed-loop workers hold their permits until the phase ends, so the drain deadline counts
    // from the scheduled end, not from when this line is reached.
    let drain_deadline =
        (start + config.duration).max(Instant::now()) + config.timeout + DRAIN_GRACE;
    match timeout_at(drain_deadline, permits.acquire_many(max)).await {
        Ok(_) => 0,
        Err(_) => config
            .max_in_flight
            .saturating_sub(permits.available_permits()) as u64,
    }
}

fn outcome(
    phase_name: &str,
    config: &HttpConfig,
    issued: &Issued,
    aggregate: &Aggregate,
    dispatch_lag: Option<LagSummary>,
    wall: Duration,
) -> HttpPhaseOutcome {
    let duration = config.duration.as_secs_f64();
    let achieved_rate = if duration > 0.0 {
        aggregate.completed as f64 / duration
    } else {
        0.0
    };
    HttpPhaseOutcome {
        phase: phase_name.to_owned(),
        requested_rate: config.requested_rate,
        achieved_rate,
        sent: issued.sent.load(Ordering::Relaxed),
        completed: aggregate.completed,
        completed_by_endpoint: aggregate.completed_by_endpoint(),
        ok: aggregate.ok,
        status_classes: aggregate.classes.clone(),
        statuses: aggregate.statuses.clone(),
        latency: aggregate.latency(),
        dispatch_lag,
        errors: aggregate.errors.clone(),
        dropped: issued.dropped.load(Ordering::Relaxed),
        duration,
        wall_duration: wall.as_secs_f64(),
    }
}

/// Issues arrivals at their scheduled instants whatever the latency of earlier ones: an arrival
/// that finds `max_in_flight` requests outstanding is dropped, never queued. Arrivals go out at
/// most one timer tick early and are never held back, so the rate does not drift.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
async fn open_loop(
    shared: &Arc<Shared>,
    schedule: &Schedule,
    picker: &MixPicker,
    seed: u64,
    target: SocketAddr,
    start: Instant,
    permits: &Arc<Semaphore>,
    dropped_series: &Counter,
    lag: &mut LagRecorder,
) {
    let pool = Arc::new(Pool::new(target));
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut since_yield = 0u32;
    for n in 0..schedule.max_arrivals() {
        let Some(offset) = schedule.offset_of(n) else {
            break;
        };
        let due = start + offset;
        // tokio's timer fires on the first 1 ms tick at or after its deadline; aiming one tick
        // early keeps the dispatcher from adding up to a millisecond to every latency.
        let wake = due.checked_sub(TIMER_TICK).unwrap_or(due);
        if wake > Instant::now() {
            sleep_until(wake).await;
            since_yield = 0;
        } else {
            since_yield += 1;
            if since_yield >= YIELD_EVERY {
                tokio::task::yield_now().await;
                since_yield = 0;
            }
        }
        let issued_at = Instant::now();
        lag.record(issued_at.saturating_duration_since(due));
        let request = picker.pick(&mut rng);
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            shared.issued.dropped.fetch_add(1, Ordering::Relaxed);
            dropped_series.inc();
            continue;
        };
        shared.issued.sent.fetch_add(1, Ordering::Relaxed);
        shared.issued.in_flight.inc();
        let (shared, pool) = (shared.clone(), pool.clone());
        // Measured from the scheduled instant when the send is late (time spent waiting to be
        // sent counts: no coordinated omission), from the send when it is up to a tick early.
        let reference = due.min(issued_at);
        tokio::spawn(async move {
            // The picker only yields indices into the mix; `get` keeps that a non-panicking fact.
            let result = match shared.requests.get(request) {
                Some(prepared) => timeout(shared.timeout, client::pooled_exchange(&pool, prepared))
                    .await
                    .unwrap_or(Err(ErrorKind::Timeout)),
                None => Err(ErrorKind::Io),
            };
            shared.finish(request, result, reference.elapsed());
            drop(permit);
        });
    }
}

/// `max_in_flight` workers, each with its own connection, sending back to back until the phase
/// ends or the closed-loop cap is reached. Each worker holds a permit for its whole life.
fn closed_loop(
    shared: &Arc<Shared>,
    schedule: &Schedule,
    picker: &MixPicker,
    seed: u64,
    target: SocketAddr,
    start: Instant,
    permits: &Arc<Semaphore>,
) {
    let deadline = start + schedule.duration();
    let workers = permits.available_permits().max(1);
    let per_worker = schedule.max_arrivals() / workers as u64 + 1;
    for worker in 0..workers {
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            break;
        };
        let shared = shared.clone();
        let picker = picker.clone();
        let mut rng = SmallRng::seed_from_u64(seed ^ (worker as u64).wrapping_mul(0x9E37_79B9));
        tokio::spawn(async move {
            let mut connection = None;
            for _ in 0..per_worker {
                if Instant::now() >= deadline {
                    break;
                }
                let request = picker.pick(&mut rng);
                let Some(prepared) = shared.requests.get(request) else {
                    break;
                };
                shared.issued.sent.fetch_add(1, Ordering::Relaxed);
                shared.issued.in_flight.inc();
                let sent_at = Instant::now();
                let exchange = worker_exchange(&mut connection, target, prepared);
                let result = timeout(shared.timeout, exchange)
                    .await
                    .unwrap_or(Err(ErrorKind::Timeout));
                if result.is_err() {
                    // The connection may hold a late response: never reuse it.
                    connection = None;
                }
                shared.finish(request, result, sent_at.elapsed());
            }
            drop(permit);
        });
    }
}

async fn worker_exchange(
    connection: &mut Option<client::Connection>,
    target: SocketAddr,
    request: &PreparedRequest,
) -> Result<u16, ErrorKind> {
    let reusable = match connection.take() {
        Some(mut c) if !c.is_closed() => client::ready(&mut c).await.ok().map(|()| c),
        _ => None,
    };
    let mut open = match reusable {
        Some(c) => c,
        // None yet, or gone since its last exchange (nothing was sent on it): reconnect.
        None => {
            let mut fresh = client::connect(target).await?;
            client::ready(&mut fresh).await?;
            fresh
        }
    };
    let status = client::exchange(&mut open, request).await?;
    *connection = Some(open);
    Ok(status)
}

struct AggregatorInputs {
    phase: String,
    start: Instant,
    issued: Arc<Issued>,
    progress: Option<watch::Sender<HttpProgress>>,
}

async fn aggregate_records(
    inputs: AggregatorInputs,
    mut inbox: mpsc::UnboundedReceiver<Message>,
    mut aggregate: Aggregate,
) -> Aggregate {
    let mut batch = Vec::with_capacity(512);
    let mut ticker = tokio::time::interval(PROGRESS_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            received = inbox.recv_many(&mut batch, 512) => {
                if received == 0 {
                    break;
                }
                let mut stop = false;
                for message in batch.drain(..) {
                    match message {
                        Message::Done(record) => aggregate.record(record),
                        Message::Stop => stop = true,
                    }
                }
                if stop {
                    break;
                }
            }
            _ = ticker.tick() => publish(&inputs, &aggregate),
        }
    }
    publish(&inputs, &aggregate);
    aggregate
}

fn publish(inputs: &AggregatorInputs, aggregate: &Aggregate) {
    let Some(progress) = &inputs.progress else {
        return;
    };
    progress.send_replace(HttpProgress {
        phase: inputs.phase.clone(),
        elapsed: inputs.start.elapsed().as_secs_f64(),
        sent: inputs.issued.sent.load(Ordering::Relaxed),
        completed: aggregate.completed,
        ok: aggregate.ok,
        errors: aggregate.errors.total(),
        dropped: inputs.issued.dropped.load(Ordering::Relaxed),
        in_flight: u64::try_from(inputs.issued.in_flight.get()).unwrap_or(0),
    });
}

/// Picks mix entries in proportion to their weights.
#[derive(Debug, Clone)]
pub(crate) struct MixPicker {
    cumulative: Vec<u64>,
}

impl MixPicker {
    pub fn new(weights: impl IntoIterator<Item = u32>) -> Result<Self, HttpError> {
        let mut total = 0u64;
        let mut cumulative = Vec::new();
        for weight in weights {
            if weight == 0 {
                return Err(HttpError::InvalidPhase(
                    "mix weights must be positive".into(),
                ));
            }
            total += u64::from(weight);
            cumulative.push(total);
        }
        if cumulative.is_empty() {
            return Err(HttpError::InvalidPhase("the request mix is empty".into()));
        }
        Ok(Self { cumulative })
    }

    pub fn pick(&self, rng: &mut SmallRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let x = rng.random_range(0..total);
        self.cumulative.partition_point(|c| *c <= x)
    }
}

/// FNV-1a of the phase name: stable across runs, platforms and Rust versions (unlike std's hasher).
fn seed_of(phase: &str) -> u64 {
    phase.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

//! The replication pipeline: a reader task fetches one metric's history at a time; the
//! generator multiplies every series over the label combinations, writing each copy as
//! protobuf into the request of one of `concurrency` senders (`batcher`: whole series dealt
//! round robin, a series' chunks stay on one sender, in order, so a receiver never sees them
//! out of order); each sender rate-limits, compresses its request once and writes it. Channels
//! hold one request per sender, so memory is bounded by one metric's history plus about three
//! requests per sender, whatever the number of series written. The replication ends when
//! everything is written, at its deadline, or early when a sender gives the receiver up as
//! down (`cut`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::batcher::{Batcher, Job};
use super::config::ReplicateConfig;
use super::cut::{Cut, DEADLINE};
use super::error::ReplicateError;
use super::limiter::RateLimiter;
use super::metrics::ReplicateMetrics;
use super::outcome::{Counters, OutcomeHead, ReplicateOutcome, ReplicateProgress, add};
use super::generator::{Generator, History};
use super::source::{family_metadata, history, metric_names};
use super::staleness::Window;
use super::template::{EncodedSpace, SeriesTemplate};
use super::sender::{Shared, sender};
use crate::prom::remote_write::{RemoteWriter, check_loopback};
use crate::prom::{FamilyMetadata, PromClient, PromError};

/// Unused rate-limit time a sender may catch up on.
const BURST: Duration = Duration::from_millis(100);
/// How long senders get past the deadline to count what they hold (every wait of theirs ends
/// at the deadline, so this is bookkeeping time, not a request's).
const GRACE: Duration = Duration::from_millis(500);
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Runs one replication to the end (or to its timeout) and reports what happened. Fails only
/// when it cannot start or the source stops answering; dropped batches are in the outcome.
pub async fn run(
    phase: &str,
    config: &ReplicateConfig,
    metrics: &ReplicateMetrics,
    progress: Option<watch::Sender<ReplicateProgress>>,
) -> Result<ReplicateOutcome, ReplicateError> {
    let started = Instant::now();
    let deadline = started + config.timeout;
    let writer = checked_writer(config)?;
    let client = PromClient::from_url(&config.source);
    let source_err = |source| ReplicateError::Source {
        url: config.source.clone(),
        source,
    };
    let end = crate::clock::unix_now();
    let window = Window::new(end, config.lookback, config.step);
    let counters = Arc::new(Counters::default());
    let mut head = OutcomeHead {
        phase: phase.to_owned(),
        dry_run: config.dry_run,
        excluded: 0,
        copies: config.labels.copies(),
        rate: config.rate.filter(|r| r.is_finite()),
    };
    let range = (end - config.lookback.as_secs_f64(), end);
    let Some((names, families)) = discover(&client, config, range, deadline).await else {
        return Ok(counters.outcome(head, started.elapsed().as_secs_f64(), true));
    };
    let (names, excluded) = names.map_err(source_err)?;
    head.excluded = excluded as u64;
    add(&counters.metrics_total, names.len() as u64);
    let shared = Arc::new(Shared {
        writer,
        limiter: config
            .rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| RateLimiter::new(r, BURST, Instant::now())),
        counters: Arc::clone(&counters),
        handles: metrics.phase(phase),
        dry_run: config.dry_run,
        cut: Cut::new(deadline),
    });
    let ticker = progress.map(|tx| tick_progress(tx, Arc::clone(&shared), started));
    let (senders, queues) = spawn_senders(config.concurrency, &shared);
    let (history_tx, histories) = mpsc::channel::<History>(1);
    let reader = tokio::spawn(read_histories(
        client,
        config.matchers.clone(),
        window,
        names,
        history_tx,
    ));
    let generator = Generator {
        config,
        space: EncodedSpace::new(&config.labels),
        template: SeriesTemplate::default(),
        batcher: Batcher::new(config.concurrency, config.batch),
        families,
        described: HashSet::new(),
        queues,
        shared: &shared,
    };
    let (cut, failure) = generator.run(histories, reader).await;
    let joined = join_senders(senders, deadline).await;
    let timed_out =
        counters.dropped(DEADLINE) > 0 || (!shared.cut.given_up() && (cut || !joined));
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(e) = failure {
        return Err(source_err(e));
    }
    Ok(counters.outcome(head, started.elapsed().as_secs_f64(), timed_out))
}

/// The metric names to copy (and how many were excluded) and the source's metadata; `None`
/// when the deadline passed first.
async fn discover(
    client: &PromClient,
    config: &ReplicateConfig,
    range: (f64, f64),
    deadline: Instant,
) -> Option<(
    Result<(Vec<String>, usize), PromError>,
    BTreeMap<String, FamilyMetadata>,
)> {
    let discovery = async {
        let names = metric_names(client, &config.matchers, &config.exclude, range).await;
        (names, family_metadata(client).await)
    };
    tokio::time::timeout_at(deadline.into(), discovery)
        .await
        .ok()
}

/// `n` senders, each with a queue of one request.
fn spawn_senders(n: usize, shared: &Arc<Shared>) -> (JoinSet<()>, Vec<mpsc::Sender<Job>>) {
    let mut senders = JoinSet::new();
    let mut queues = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = mpsc::channel::<Job>(1);
        queues.push(tx);
        senders.spawn(sender(rx, Arc::clone(shared)));
    }
    (senders, queues)
}

/// The remote-write client of a replication whose bounds and source are fine.
fn checked_writer(config: &ReplicateConfig) -> Result<RemoteWriter, ReplicateError> {
    if config.batch == 0 || config.concurrency == 0 {
        return Err(ReplicateError::Invalid(
            "`batch` and `concurrency` must be at least 1".into(),
        ));
    }
    check_loopback(&config.source)
        .map_err(|_| ReplicateError::NonLoopbackSource(config.source.clone()))?;
    let headers: Vec<(String, String)> = config
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.expose().to_owned()))
        .collect();
    Ok(RemoteWriter::new(&config.target, &headers, config.retry)?)
}

/// Publishes the counters (and how long the receiver has been refusing connections) as
/// progress every [`PROGRESS_EVERY`] until nobody listens.
fn tick_progress(
    tx: watch::Sender<ReplicateProgress>,
    shared: Arc<Shared>,
    started: Instant,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(PROGRESS_EVERY).await;
            let ms = started.elapsed().as_millis() as u64;
            let mut progress = shared.counters.progress(ms);
            progress.refusing_ms = shared
                .writer
                .refusing_for()
                .map(|d| d.as_millis() as u64);
            if tx.send(progress).is_err() {
                break;
            }
        }
    })
}

/// Reads each metric's history in turn and hands it over, until the first failure.
async fn read_histories(
    client: PromClient,
    matchers: Vec<String>,
    window: Window,
    names: Vec<String>,
    out: mpsc::Sender<History>,
) {
    for name in names {
        let result = history(&client, &matchers, &name, &window).await;
        let failed = result.is_err();
        if out.send((name, result)).await.is_err() || failed {
            break;
        }
    }
}

/// Waits for the senders to finish their requests, a grace past the deadline at most; false
/// when they had to be aborted.
async fn join_senders(mut senders: JoinSet<()>, deadline: Instant) -> bool {
    let joined = tokio::time::timeout_at((deadline + GRACE).into(), async {
        while senders.join_next().await.is_some() {}
    })
    .await;
    if joined.is_err() {
        senders.abort_all();
    }
    joined.is_ok()
}

//! The replication pipeline: a reader task fetches one metric's history at a time; the
//! generator multiplies every series over the label combinations, writing each copy as
//! protobuf into the request of one of `concurrency` senders (`batcher`: whole series dealt
//! round robin, a series' chunks stay on one sender, in order, so a receiver never sees them
//! out of order); each sender rate-limits, compresses its request once and writes it. Channels
//! hold one request per sender, so memory is bounded by one metric's history plus about three
//! requests per sender, whatever the number of series written.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::batcher::{Batcher, Job};
use super::config::ReplicateConfig;
use super::error::ReplicateError;
use super::limiter::RateLimiter;
use super::metrics::{PhaseHandles, ReplicateMetrics};
use super::outcome::{Counters, OutcomeHead, ReplicateOutcome, ReplicateProgress, add};
use super::source::{SourceSeries, family_metadata, history, metadata_for, metric_names};
use super::template::{EncodedSpace, SeriesTemplate};
use crate::prom::remote_write::{BatchEncoder, RemoteWriter, SendOutcome, check_loopback};
use crate::prom::{FamilyMetadata, PromClient, PromError};

/// Unused rate-limit time a sender may catch up on.
const BURST: Duration = Duration::from_millis(100);
/// How long senders get past the deadline to finish the request they are in.
const GRACE: Duration = Duration::from_secs(5);
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

struct Shared {
    writer: RemoteWriter,
    limiter: Option<RateLimiter>,
    counters: Arc<Counters>,
    handles: PhaseHandles,
    dry_run: bool,
    deadline: Instant,
}

/// One metric's history as the reader hands it over.
type History = (String, Result<Vec<SourceSeries>, PromError>);

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
    let range = (end - config.lookback.as_secs_f64(), end);
    let (names, excluded) = metric_names(&client, &config.matchers, &config.exclude, range)
        .await
        .map_err(source_err)?;
    let families = family_metadata(&client).await;
    let counters = Arc::new(Counters::default());
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
        deadline,
    });
    let ticker = progress.map(|tx| tick_progress(tx, Arc::clone(&counters), started));
    let mut senders = JoinSet::new();
    let mut queues = Vec::with_capacity(config.concurrency);
    for _ in 0..config.concurrency {
        let (tx, rx) = mpsc::channel::<Job>(1);
        queues.push(tx);
        senders.spawn(sender(rx, Arc::clone(&shared)));
    }
    let (history_tx, histories) = mpsc::channel::<History>(1);
    let reader = tokio::spawn(read_histories(
        client,
        config.matchers.clone(),
        (config.lookback, config.step),
        names,
        end,
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
        deadline,
        shared: &shared,
    };
    let (mut timed_out, failure) = generator.run(histories, reader).await;
    timed_out |= !join_senders(senders, deadline).await;
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(e) = failure {
        return Err(source_err(e));
    }
    let head = OutcomeHead {
        phase: phase.to_owned(),
        dry_run: config.dry_run,
        excluded: excluded as u64,
        copies: config.labels.copies(),
        rate: config.rate.filter(|r| r.is_finite()),
    };
    Ok(counters.outcome(head, started.elapsed().as_secs_f64(), timed_out))
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
    Ok(RemoteWriter::new(
        &config.target,
        &config.headers,
        config.retry,
    )?)
}

/// Publishes the counters as progress every [`PROGRESS_EVERY`] until nobody listens.
fn tick_progress(
    tx: watch::Sender<ReplicateProgress>,
    counters: Arc<Counters>,
    started: Instant,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(PROGRESS_EVERY).await;
            let ms = started.elapsed().as_millis() as u64;
            if tx.send(counters.progress(ms)).is_err() {
                break;
            }
        }
    })
}

/// Reads each metric's history in turn and hands it over, until the first failure.
async fn read_histories(
    client: PromClient,
    matchers: Vec<String>,
    (lookback, step): (Duration, Duration),
    names: Vec<String>,
    end: f64,
    out: mpsc::Sender<History>,
) {
    for name in names {
        let result = history(&client, &matchers, &name, end, lookback, step).await;
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

struct Generator<'a> {
    config: &'a ReplicateConfig,
    space: EncodedSpace,
    /// The source series being copied (its buffers reused from series to series).
    template: SeriesTemplate,
    batcher: Batcher,
    /// The source's metadata per metric family.
    families: BTreeMap<String, FamilyMetadata>,
    /// Families whose metadata was already written.
    described: HashSet<String>,
    queues: Vec<mpsc::Sender<Job>>,
    deadline: Instant,
    shared: &'a Shared,
}

impl Generator<'_> {
    /// Multiplies every history the reader hands over, then (the reader stopped) queues what is
    /// left. Returns whether the deadline passed first, and the source's failure if it stopped
    /// answering.
    async fn run(
        mut self,
        mut histories: mpsc::Receiver<History>,
        reader: tokio::task::JoinHandle<()>,
    ) -> (bool, Option<PromError>) {
        let mut timed_out = false;
        let mut failure = None;
        loop {
            match tokio::time::timeout_at(self.deadline.into(), histories.recv()).await {
                Err(_) => {
                    timed_out = true;
                    break;
                }
                Ok(None) => break,
                Ok(Some((_, Err(e)))) => {
                    failure = Some(e);
                    break;
                }
                Ok(Some((name, Ok(series)))) => {
                    if !self.metric(&name, &series).await {
                        timed_out = true;
                        break;
                    }
                }
            }
        }
        reader.abort();
        if !timed_out && failure.is_none() {
            timed_out = !self.flush().await;
        }
        self.abandon();
        (timed_out, failure)
    }

    /// Multiplies metric `name`'s series; false when the deadline passed while queueing.
    async fn metric(&mut self, name: &str, series: &[SourceSeries]) -> bool {
        let counters = &self.shared.counters;
        add(&counters.metrics_done, 1);
        add(&counters.source_series, series.len() as u64);
        let samples: usize = series.iter().map(|s| s.samples.len()).sum();
        add(&counters.source_samples, samples as u64);
        self.shared.handles.source_series.set(
            counters
                .source_series
                .load(std::sync::atomic::Ordering::Relaxed) as i64,
        );
        if samples > 0
            && let Some(meta) = metadata_for(&self.families, name)
            && self.described.insert(meta.metric_family_name.clone())
        {
            self.batcher.metadata(&meta);
        }
        // The whole metric moves by one offset, so its series stay aligned with each other.
        let newest = series
            .iter()
            .filter_map(|s| s.samples.last().map(|p| p.timestamp))
            .max();
        let shift = match newest {
            Some(newest) if self.config.time_shift => {
                (crate::clock::unix_now() * 1000.0) as i64 - newest
            }
            _ => 0,
        };
        let copies = self.config.labels.copies();
        for s in series.iter().filter(|s| !s.samples.is_empty()) {
            self.template.set(&self.space, &s.labels, &s.samples, shift);
            let mut odometer = self.space.odometer();
            for _ in 0..copies {
                self.batcher
                    .copy(&self.template, &self.space, odometer.digits());
                odometer.advance();
                if !self.queue_ready().await {
                    return false;
                }
            }
        }
        true
    }

    /// Queues every full request; a request that cannot be queued before the deadline is
    /// counted as dropped, and so is everything not queued yet.
    async fn queue_ready(&mut self) -> bool {
        while let Some((shard, job)) = self.batcher.pop_ready() {
            let samples = job.samples;
            let sent =
                tokio::time::timeout_at(self.deadline.into(), self.queues[shard].send(job)).await;
            if !matches!(sent, Ok(Ok(()))) {
                self.shared.counters.drop_samples("deadline", samples, None);
                self.shared.handles.dropped("deadline", samples);
                return false;
            }
        }
        true
    }

    /// Queues every partial request; false when the deadline passed.
    async fn flush(&mut self) -> bool {
        self.batcher.flush();
        self.queue_ready().await
    }

    /// Counts whatever was generated but never queued as dropped at the deadline.
    fn abandon(&mut self) {
        let samples = self.batcher.abandon();
        if samples > 0 {
            self.shared.counters.drop_samples("deadline", samples, None);
            self.shared.handles.dropped("deadline", samples);
        }
    }
}

async fn sender(mut rx: mpsc::Receiver<Job>, shared: Arc<Shared>) {
    let mut encoder = BatchEncoder::new();
    let counters = &shared.counters;
    let handles = &shared.handles;
    while let Some(job) = rx.recv().await {
        let (samples, new_series, metadata) = (job.samples, job.new_series, job.metadata);
        if Instant::now() >= shared.deadline {
            counters.drop_samples("deadline", samples, None);
            handles.dropped("deadline", samples);
            continue;
        }
        let batch = match encoder.compress(&job.proto, job.series, samples as usize) {
            Ok(b) => b,
            Err(e) => {
                counters.drop_samples("encode", samples, Some(e.to_string()));
                handles.dropped("encode", samples);
                continue;
            }
        };
        drop(job);
        let body = batch.body.len() as u64;
        add(&counters.bytes_uncompressed, batch.uncompressed_len as u64);
        if shared.dry_run {
            add(&counters.requests, 1);
            add(&counters.bytes, body);
            add(&counters.series, new_series);
            add(&counters.samples, samples);
            add(&counters.metadata, metadata);
            continue;
        }
        if let Some(limiter) = &shared.limiter {
            let wait = limiter.reserve(samples, Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        let outcome = shared.writer.send(&batch).await;
        let attempts = u64::from(outcome.attempts());
        add(&counters.requests, 1);
        add(&counters.retries, attempts - 1);
        add(&counters.bytes, body * attempts);
        handles.retries.inc_by(attempts - 1);
        handles.bytes.inc_by(body * attempts);
        match outcome {
            SendOutcome::Accepted { .. } => {
                add(&counters.series, new_series);
                add(&counters.samples, samples);
                add(&counters.metadata, metadata);
                handles.series.inc_by(new_series);
                handles.samples.inc_by(samples);
                handles.request(true);
            }
            SendOutcome::Dropped {
                reason,
                status,
                message,
                ..
            } => {
                let shown = match status {
                    Some(s) => format!("HTTP {s}: {message}"),
                    None => message,
                };
                counters.drop_samples(reason.as_str(), samples, Some(shown));
                handles.dropped(reason.as_str(), samples);
                handles.request(false);
            }
        }
    }
}

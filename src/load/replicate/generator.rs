//! The generator: multiplies each metric's history over the label combinations, writing every
//! copy into a sender's request (`batcher`) and queueing full requests, until the histories
//! run out or the replication is cut (its deadline, or the receiver given up as down).
//! Whatever was read from the source but not queued by then is counted as dropped under the
//! cut's reason (`deadline`, `receiver_down`), so a cut run accounts for every sample it read.

use std::collections::{BTreeMap, HashSet};

use tokio::sync::mpsc;

use super::batcher::{Batcher, Job};
use super::config::ReplicateConfig;
use super::outcome::add;
use super::sender::Shared;
use super::source::{SourceSeries, metadata_for};
use super::template::{EncodedSpace, SeriesTemplate};
use crate::prom::remote_write::is_stale_nan;
use crate::prom::{FamilyMetadata, PromError};

/// One metric's history as the reader hands it over.
pub(crate) type History = (String, Result<Vec<SourceSeries>, PromError>);

pub(crate) struct Generator<'a> {
    pub config: &'a ReplicateConfig,
    pub space: EncodedSpace,
    /// The source series being copied (its buffers reused from series to series).
    pub template: SeriesTemplate,
    pub batcher: Batcher,
    /// The source's metadata per metric family.
    pub families: BTreeMap<String, FamilyMetadata>,
    /// Families whose metadata was already written.
    pub described: HashSet<String>,
    pub queues: Vec<mpsc::Sender<Job>>,
    pub shared: &'a Shared,
}

impl Generator<'_> {
    /// Multiplies every history the reader hands over, then (the reader stopped) queues what is
    /// left. Returns whether the replication was cut first (deadline, receiver down), and the
    /// source's failure if it stopped answering.
    pub(crate) async fn run(
        mut self,
        mut histories: mpsc::Receiver<History>,
        reader: tokio::task::JoinHandle<()>,
    ) -> (bool, Option<PromError>) {
        let mut cut = false;
        let mut failure = None;
        loop {
            match self.shared.cut.before(histories.recv()).await {
                None => {
                    cut = true;
                    break;
                }
                Some(None) => break,
                Some(Some((_, Err(e)))) => {
                    failure = Some(e);
                    break;
                }
                Some(Some((name, Ok(series)))) => {
                    if !self.metric(&name, &series).await {
                        cut = true;
                        break;
                    }
                }
            }
        }
        reader.abort();
        if cut {
            self.drop_queued_histories(&mut histories);
        } else if failure.is_none() {
            cut = !self.flush().await;
        }
        self.abandon();
        (cut, failure)
    }

    /// Counts metric `name`'s series as read and queues its metadata; returns its samples,
    /// staleness markers included.
    fn read(&mut self, name: &str, series: &[SourceSeries]) -> u64 {
        let counters = &self.shared.counters;
        add(&counters.metrics_done, 1);
        add(&counters.source_series, series.len() as u64);
        let samples: usize = series.iter().map(|s| s.samples.len()).sum();
        let markers = series
            .iter()
            .flat_map(|s| &s.samples)
            .filter(|p| is_stale_nan(p.value))
            .count();
        add(&counters.source_samples, (samples - markers) as u64);
        add(&counters.stale_markers, markers as u64);
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
        samples as u64
    }

    /// The offset that moves metric `series`' newest sample (a staleness marker included) to
    /// now, so its series stay aligned with each other and none lands in the future.
    fn shift(&self, series: &[SourceSeries]) -> i64 {
        let newest = series
            .iter()
            .filter_map(|s| s.samples.last().map(|p| p.timestamp))
            .max();
        match newest {
            Some(newest) if self.config.time_shift => {
                (crate::clock::unix_now() * 1000.0) as i64 - newest
            }
            _ => 0,
        }
    }

    /// Multiplies metric `name`'s series; false when the replication was cut while queueing
    /// (the copies not written by then are counted as dropped).
    async fn metric(&mut self, name: &str, series: &[SourceSeries]) -> bool {
        let mut left = self.read(name, series) * self.config.labels.copies();
        let shift = self.shift(series);
        for s in series.iter().filter(|s| !s.samples.is_empty()) {
            self.template.set(&self.space, &s.labels, &s.samples, shift);
            let mut odometer = self.space.odometer();
            for _ in 0..self.config.labels.copies() {
                self.batcher
                    .copy(&self.template, &self.space, odometer.digits());
                left -= s.samples.len() as u64;
                odometer.advance();
                if !self.queue_ready().await {
                    self.shared.drop_cut(left);
                    return false;
                }
            }
        }
        true
    }

    /// Histories read but not multiplied when the replication was cut: counted as read, and
    /// every copy as dropped.
    fn drop_queued_histories(&mut self, histories: &mut mpsc::Receiver<History>) {
        while let Ok((name, result)) = histories.try_recv() {
            if let Ok(series) = result {
                let samples = self.read(&name, &series);
                self.shared
                    .drop_cut(samples * self.config.labels.copies());
            }
        }
    }

    /// Queues every full request; a request that cannot be queued before the cut is counted as
    /// dropped, and so is everything not queued yet.
    async fn queue_ready(&mut self) -> bool {
        let cut = &self.shared.cut;
        while let Some((shard, job)) = self.batcher.pop_ready() {
            let samples = job.samples;
            let queued = !cut.reached()
                && matches!(cut.before(self.queues[shard].send(job)).await, Some(Ok(())));
            if !queued {
                self.shared.drop_cut(samples);
                return false;
            }
        }
        true
    }

    /// Queues every partial request; false when the replication was cut.
    async fn flush(&mut self) -> bool {
        self.batcher.flush();
        self.queue_ready().await
    }

    /// Counts whatever was generated but never queued as dropped at the cut.
    fn abandon(&mut self) {
        let samples = self.batcher.abandon();
        if samples > 0 {
            self.shared.drop_cut(samples);
        }
    }
}

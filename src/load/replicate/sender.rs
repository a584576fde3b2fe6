//! One sender of the pipeline: takes requests from its queue, compresses each once, waits for
//! the rate limit and writes it, and counts what became of its samples. Every wait (rate
//! limit, the remote-write call with its retries) ends at the replication's cut (`cut`: the
//! deadline, or the receiver given up as down); what a cut cut off is counted as dropped
//! under its reason, never silently lost. A batch the writer gave up as `receiver_down` cuts
//! the whole replication.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::batcher::Job;
use super::cut::Cut;
use super::limiter::RateLimiter;
use super::metrics::PhaseHandles;
use super::outcome::{Counters, add};
use crate::prom::remote_write::{
    BatchEncoder, DropReason, EncodedBatch, RemoteWriter, SendOutcome,
};

/// What every sender shares.
pub(crate) struct Shared {
    pub writer: RemoteWriter,
    pub limiter: Option<RateLimiter>,
    pub counters: Arc<Counters>,
    pub handles: PhaseHandles,
    pub dry_run: bool,
    pub cut: Cut,
}

/// What a request holds, for the counters.
#[derive(Debug, Clone, Copy)]
struct Held {
    samples: u64,
    new_series: u64,
    metadata: u64,
}

impl Shared {
    /// Counts `samples` as dropped because the replication was cut (deadline, receiver down).
    pub(crate) fn drop_cut(&self, samples: u64) {
        let reason = self.cut.reason();
        self.counters.drop_samples(reason, samples, None);
        self.handles.dropped(reason, samples);
    }

    /// Waits until the rate limit lets `samples` go; false when the replication was cut first.
    async fn pace(&self, samples: u64) -> bool {
        if let Some(limiter) = &self.limiter {
            let start = Instant::now() + limiter.reserve(samples, Instant::now());
            self.cut
                .before(tokio::time::sleep_until(start.into()))
                .await;
        }
        !self.cut.reached()
    }

    fn accepted(&self, held: Held) {
        let (c, h) = (&self.counters, &self.handles);
        add(&c.series, held.new_series);
        add(&c.samples, held.samples);
        add(&c.metadata, held.metadata);
        h.series.inc_by(held.new_series);
        h.samples.inc_by(held.samples);
        h.request(true);
    }

    /// Counts one request that was written (or cut off: `None`). Only the attempts a receiver
    /// answered count as bytes sent.
    fn record(&self, outcome: Option<SendOutcome>, body: u64, held: Held) {
        let (attempts, answered) = outcome.as_ref().map_or((1, 0), |o| {
            (u64::from(o.attempts()), u64::from(o.answered()))
        });
        let (c, h) = (&self.counters, &self.handles);
        add(&c.requests, 1);
        add(&c.retries, attempts - 1);
        add(&c.bytes, body * answered);
        h.retries.inc_by(attempts - 1);
        h.bytes.inc_by(body * answered);
        if let Some(SendOutcome::Dropped {
            reason: DropReason::ReceiverDown,
            ..
        }) = &outcome
        {
            self.cut.give_up();
        }
        match outcome {
            Some(SendOutcome::Accepted { .. }) => self.accepted(held),
            Some(SendOutcome::Dropped {
                reason,
                status,
                message,
                ..
            }) => {
                let shown = match status {
                    Some(s) => format!("HTTP {s}: {message}"),
                    None => message,
                };
                c.drop_samples(reason.as_str(), held.samples, Some(shown));
                h.dropped(reason.as_str(), held.samples);
                h.request(false);
            }
            None => {
                self.drop_cut(held.samples);
                h.request(false);
            }
        }
    }

    /// Writes one compressed request, unless the replication is cut first.
    async fn write(&self, batch: &EncodedBatch, held: Held) {
        let body = batch.body.len() as u64;
        if self.dry_run {
            add(&self.counters.requests, 1);
            add(&self.counters.bytes, body);
            add(&self.counters.series, held.new_series);
            add(&self.counters.samples, held.samples);
            add(&self.counters.metadata, held.metadata);
            return;
        }
        if !self.pace(held.samples).await {
            self.drop_cut(held.samples);
            return;
        }
        let sent = self.cut.before(self.writer.send(batch)).await;
        self.record(sent, body, held);
    }
}

/// Writes every request of its queue until the queue closes.
pub(crate) async fn sender(mut rx: mpsc::Receiver<Job>, shared: Arc<Shared>) {
    let mut encoder = BatchEncoder::new();
    while let Some(job) = rx.recv().await {
        let held = Held {
            samples: job.samples,
            new_series: job.new_series,
            metadata: job.metadata,
        };
        if shared.cut.reached() {
            shared.drop_cut(held.samples);
            continue;
        }
        let batch = match encoder.compress(&job.proto, job.series, held.samples as usize) {
            Ok(b) => b,
            Err(e) => {
                let samples = held.samples;
                shared.counters.drop_samples("encode", samples, Some(e.to_string()));
                shared.handles.dropped("encode", samples);
                continue;
            }
        };
        drop(job);
        add(&shared.counters.bytes_uncompressed, batch.uncompressed_len as u64);
        shared.write(&batch, held).await;
    }
}

//! Copies → batches, without I/O: each copy of a source series is dealt to the next sender
//! (round robin) and written as protobuf straight into that sender's pending request; a copy
//! longer than the room left is split, its chunks staying with the same sender in order. Full
//! requests wait in `ready` until the engine queues them. Metric metadata rides with the
//! request that gets the metric's first copy.

use std::collections::VecDeque;

use super::template::{EncodedSpace, SeriesTemplate};
use crate::prom::remote_write::{MetricMetadata, wire};

/// One request for a sender: a `WriteRequest` body in protobuf form, and what it holds.
#[derive(Debug, Default)]
pub(crate) struct Job {
    pub proto: Vec<u8>,
    /// `TimeSeries` entries (a split series counts once per chunk).
    pub series: usize,
    pub samples: u64,
    /// Series whose first chunk is in this request.
    pub new_series: u64,
    /// `MetricMetadata` entries.
    pub metadata: u64,
}

#[derive(Debug, Default)]
struct Pending {
    job: Job,
    /// Metadata fields, appended after the series when the request is taken (where prost puts
    /// field 3).
    metadata: Vec<u8>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.job.series == 0 && self.job.metadata == 0
    }

    fn take(&mut self) -> Job {
        let capacity = self.job.proto.len() + self.job.proto.len() / 8;
        let mut job = std::mem::take(&mut self.job);
        self.job.proto.reserve(capacity);
        job.proto.extend_from_slice(&self.metadata);
        self.metadata.clear();
        job
    }
}

#[derive(Debug)]
pub(crate) struct Batcher {
    /// Samples per request.
    batch: usize,
    pending: Vec<Pending>,
    /// The sender the next copy goes to.
    next: usize,
    /// Full requests and their sender, oldest first.
    ready: VecDeque<(usize, Job)>,
}

impl Batcher {
    /// `senders` ≥ 1, `batch` ≥ 1 samples per request.
    pub(crate) fn new(senders: usize, batch: usize) -> Self {
        Self {
            batch: batch.max(1),
            pending: (0..senders.max(1)).map(|_| Pending::default()).collect(),
            next: 0,
            ready: VecDeque::new(),
        }
    }

    /// Writes the copy of `template` at `digits` (see `EncodedSpace::odometer`).
    pub(crate) fn copy(
        &mut self,
        template: &SeriesTemplate,
        space: &EncodedSpace,
        digits: &[usize],
    ) {
        let shard = self.next;
        self.next = (self.next + 1) % self.pending.len();
        let labels_len = template.labels_len(space, digits);
        let total = template.sample_count();
        let mut start = 0;
        while start < total {
            let pending = &mut self.pending[shard];
            let room = self
                .batch
                .saturating_sub(pending.job.samples as usize)
                .max(1);
            let end = start + room.min(total - start);
            let samples = template.samples(start..end);
            let job = &mut pending.job;
            wire::put_series_head(&mut job.proto, labels_len + samples.len());
            template.put_labels(&mut job.proto, space, digits);
            job.proto.extend_from_slice(samples);
            job.series += 1;
            job.samples += (end - start) as u64;
            job.new_series += u64::from(start == 0);
            start = end;
            if job.samples as usize >= self.batch {
                let full = pending.take();
                self.ready.push_back((shard, full));
            }
        }
    }

    /// Adds `metadata` to the request the next copy goes to.
    pub(crate) fn metadata(&mut self, metadata: &MetricMetadata) {
        let pending = &mut self.pending[self.next];
        wire::put_metadata(&mut pending.metadata, metadata);
        pending.job.metadata += 1;
    }

    /// The oldest full request and its sender.
    pub(crate) fn pop_ready(&mut self) -> Option<(usize, Job)> {
        self.ready.pop_front()
    }

    /// Makes every partial request ready.
    pub(crate) fn flush(&mut self) {
        for (shard, pending) in self.pending.iter_mut().enumerate() {
            if !pending.is_empty() {
                self.ready.push_back((shard, pending.take()));
            }
        }
    }

    /// Forgets everything not yet queued; returns its samples (dropped at the deadline).
    pub(crate) fn abandon(&mut self) -> u64 {
        let ready: u64 = self.ready.drain(..).map(|(_, j)| j.samples).sum();
        let pending: u64 = self
            .pending
            .iter_mut()
            .map(|p| std::mem::take(p).job.samples)
            .sum();
        ready + pending
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::load::replicate::{LabelSpace, copy_labels};
    use crate::prom::remote_write::{Label, MetricType, Sample, TimeSeries, WriteRequest};

    fn template(space: &EncodedSpace, samples: usize) -> SeriesTemplate {
        let labels = [Label::new("__name__", "m"), Label::new("job", "a")];
        let samples: Vec<Sample> = (0..samples)
            .map(|i| Sample {
                value: i as f64,
                timestamp: 1000 * (i as i64 + 1),
            })
            .collect();
        SeriesTemplate::new(space, &labels, &samples, 0)
    }

    #[test]
    fn copies_are_dealt_round_robin_and_long_series_split_in_order() {
        let space = LabelSpace::new(vec![("copy".into(), LabelSpace::counted(3))]).expect("space");
        let encoded = EncodedSpace::new(&space);
        let template = template(&encoded, 5);
        let mut batcher = Batcher::new(2, 4);
        let mut odometer = encoded.odometer();
        for _ in 0..3 {
            batcher.copy(&template, &encoded, odometer.digits());
            odometer.advance();
        }
        batcher.flush();
        let mut jobs = Vec::new();
        while let Some(job) = batcher.pop_ready() {
            jobs.push(job);
        }
        // Sender 0 gets copies 0 and 2 (10 samples → 4 + 4 + 2), sender 1 copy 1 (4 + 1).
        let shape: Vec<(usize, usize, u64, u64)> = jobs
            .iter()
            .map(|(s, j)| (*s, j.series, j.samples, j.new_series))
            .collect();
        assert_eq!(
            shape,
            [
                (0, 1, 4, 1),
                (1, 1, 4, 1),
                (0, 2, 4, 1),
                (0, 1, 2, 0),
                (1, 1, 1, 0)
            ]
        );
        let first = WriteRequest::decode(jobs[0].1.proto.as_slice()).expect("decode");
        assert_eq!(first.timeseries[0].labels[1], Label::new("copy", "0"));
        let timestamps: Vec<i64> = first.timeseries[0]
            .samples
            .iter()
            .map(|s| s.timestamp)
            .collect();
        assert_eq!(timestamps, [1000, 2000, 3000, 4000]);
    }

    /// The requests as the engine built them before it wrote protobuf directly: `copy_labels`,
    /// `TimeSeries` structs dealt round robin, split at the room left, encoded by prost.
    fn reference(
        space: &LabelSpace,
        sources: &[(Vec<Label>, Vec<Sample>)],
        senders: usize,
        batch: usize,
    ) -> Vec<(usize, Vec<u8>)> {
        let mut pending: Vec<(WriteRequest, usize)> = vec![(WriteRequest::default(), 0); senders];
        let mut out = Vec::new();
        let mut next = 0;
        for (labels, samples) in sources {
            for combination in space.combinations() {
                let labels = copy_labels(labels, &combination);
                let shard = next;
                next = (next + 1) % senders;
                let mut rest = &samples[..];
                while !rest.is_empty() {
                    let (request, count) = &mut pending[shard];
                    let room = batch.saturating_sub(*count).max(1);
                    let (chunk, tail) = rest.split_at(room.min(rest.len()));
                    rest = tail;
                    request.timeseries.push(TimeSeries {
                        labels: labels.clone(),
                        samples: chunk.to_vec(),
                    });
                    *count += chunk.len();
                    if *count >= batch {
                        out.push((shard, std::mem::take(request).encode_to_vec()));
                        *count = 0;
                    }
                }
            }
        }
        for (shard, (request, count)) in pending.into_iter().enumerate() {
            if count > 0 {
                out.push((shard, request.encode_to_vec()));
            }
        }
        out
    }

    #[test]
    fn requests_are_byte_identical_to_prost_encoding_of_the_same_copies() {
        let space = LabelSpace::new(vec![
            ("cluster".into(), LabelSpace::counted(3)),
            ("job".into(), vec!["x".into(), "y".into()]),
        ])
        .expect("space");
        let encoded = EncodedSpace::new(&space);
        let sources: Vec<(Vec<Label>, Vec<Sample>)> = (0..4)
            .map(|i| {
                let labels = vec![
                    Label::new("__name__", "m"),
                    Label::new("instance", format!("host-{i}")),
                    Label::new("job", "api"),
                ];
                let samples = (0..(i * 3 + 1))
                    .map(|k| Sample {
                        value: f64::from(k) * 0.5,
                        timestamp: 1_700_000_000_000 + i64::from(k) * 15_000,
                    })
                    .collect();
                (labels, samples)
            })
            .collect();
        for (senders, batch) in [(1, 1), (3, 4), (2, 7), (4, 1000)] {
            let mut batcher = Batcher::new(senders, batch);
            let mut got = Vec::new();
            for (labels, samples) in &sources {
                let template = SeriesTemplate::new(&encoded, labels, samples, 0);
                let mut odometer = encoded.odometer();
                for _ in 0..space.copies() {
                    batcher.copy(&template, &encoded, odometer.digits());
                    odometer.advance();
                    while let Some((shard, job)) = batcher.pop_ready() {
                        got.push((shard, job.proto));
                    }
                }
            }
            batcher.flush();
            while let Some((shard, job)) = batcher.pop_ready() {
                got.push((shard, job.proto));
            }
            assert_eq!(
                got,
                reference(&space, &sources, senders, batch),
                "{senders} × {batch}"
            );
        }
    }

    #[test]
    fn metadata_rides_with_the_next_copy_and_flushes_alone() {
        let encoded = EncodedSpace::new(&LabelSpace::default());
        let template = template(&encoded, 1);
        let mut batcher = Batcher::new(2, 100);
        let meta = MetricMetadata {
            r#type: MetricType::Gauge as i32,
            metric_family_name: "m".into(),
            help: "Help.".into(),
            unit: String::new(),
        };
        batcher.metadata(&meta);
        batcher.copy(&template, &encoded, &[]);
        batcher.metadata(&meta);
        batcher.flush();
        let (shard, job) = batcher.pop_ready().expect("first");
        assert_eq!((shard, job.series, job.metadata), (0, 1, 1));
        let request = WriteRequest::decode(job.proto.as_slice()).expect("decode");
        assert_eq!(request.metadata, std::slice::from_ref(&meta));
        let (shard, job) = batcher.pop_ready().expect("metadata only");
        assert_eq!((shard, job.series, job.samples, job.metadata), (1, 0, 0, 1));
        assert!(batcher.pop_ready().is_none());
        assert_eq!(batcher.abandon(), 0);
    }
}

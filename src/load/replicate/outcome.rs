//! What a replication reports: live progress, the serialisable outcome, and the shared
//! counters the senders update.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::metrics::DROP_REASONS;

/// Receiver answers kept verbatim in the outcome, at most.
const MAX_MESSAGES: usize = 5;

/// A snapshot for progress bars.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicateProgress {
    /// Metrics read from the source so far / in total.
    pub metrics_done: u64,
    pub metrics_total: u64,
    /// Series accepted (or, dry run, that would be sent).
    pub series: u64,
    pub samples: u64,
    pub dropped: u64,
    /// Compressed bytes a receiver answered (see `ReplicateOutcome::bytes_sent`).
    pub bytes: u64,
    pub elapsed_ms: u64,
    /// How long the receiver has refused every connection, while it does.
    pub refusing_ms: Option<u64>,
}

/// The result of one replication. "Written" means accepted by the receiver — or, in a dry
/// run, what would have been sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicateOutcome {
    pub phase: String,
    pub dry_run: bool,
    /// Metric names selected, after exclusions.
    pub source_metrics: u64,
    /// Metric names the `exclude` patterns removed.
    pub excluded_metrics: u64,
    pub source_series: u64,
    /// Samples read from the source (staleness markers not included).
    pub source_samples: u64,
    /// Staleness markers added where a source series ended inside the window (each copy
    /// carries them; sent, they count among `samples_written`).
    #[serde(default)]
    pub stale_markers: u64,
    /// Copies of every source series (product of the replication labels' value counts).
    pub copies_per_series: u64,
    pub series_written: u64,
    pub samples_written: u64,
    /// Metric families whose metadata (TYPE, HELP, UNIT) the receiver accepted.
    pub metadata_written: u64,
    /// Same as `samples_written`; named so the phase table shows it.
    pub completed: u64,
    pub requests: u64,
    pub retries: u64,
    /// Compressed request bytes a receiver answered with an HTTP status, accepted or not
    /// (every answered retry included). Attempts without an answer (a refused or reset
    /// connection, a timeout) and requests cut off by the deadline or a give-up count nothing.
    /// Dry run: compressed bytes encoded.
    pub bytes_sent: u64,
    /// Protobuf bytes before compression.
    pub bytes_uncompressed: u64,
    pub samples_dropped: u64,
    /// Dropped samples by reason (only reasons that happened).
    pub dropped: BTreeMap<String, u64>,
    /// The first receiver answers of dropped batches, e.g. `out of order sample`.
    pub messages: Vec<String>,
    /// Samples per second asked for; `None` = unlimited.
    pub requested_rate: Option<f64>,
    /// Samples written per second of wall time.
    pub achieved_rate: f64,
    pub wall_duration: f64,
    /// The phase's timeout ran out before everything was sent.
    pub timed_out: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub metrics_done: AtomicU64,
    pub metrics_total: AtomicU64,
    pub source_series: AtomicU64,
    pub source_samples: AtomicU64,
    pub stale_markers: AtomicU64,
    pub series: AtomicU64,
    pub samples: AtomicU64,
    pub metadata: AtomicU64,
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub bytes: AtomicU64,
    pub bytes_uncompressed: AtomicU64,
    dropped: [AtomicU64; DROP_REASONS.len()],
    messages: Mutex<Vec<String>>,
}

pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Counters {
    pub(crate) fn drop_samples(&self, reason: &str, samples: u64, message: Option<String>) {
        if let Some(i) = DROP_REASONS.iter().position(|r| *r == reason) {
            add(&self.dropped[i], samples);
        }
        if let Some(m) = message {
            let mut messages = self
                .messages
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if messages.len() < MAX_MESSAGES && !messages.contains(&m) {
                messages.push(m);
            }
        }
    }

    /// Samples dropped for `reason` so far.
    pub(crate) fn dropped(&self, reason: &str) -> u64 {
        DROP_REASONS
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |i| get(&self.dropped[i]))
    }

    fn dropped_total(&self) -> u64 {
        self.dropped.iter().map(get).sum()
    }

    pub(crate) fn progress(&self, elapsed_ms: u64) -> ReplicateProgress {
        ReplicateProgress {
            metrics_done: get(&self.metrics_done),
            metrics_total: get(&self.metrics_total),
            series: get(&self.series),
            samples: get(&self.samples),
            dropped: self.dropped_total(),
            bytes: get(&self.bytes),
            elapsed_ms,
            refusing_ms: None,
        }
    }

    pub(crate) fn outcome(
        &self,
        head: OutcomeHead,
        wall: f64,
        timed_out: bool,
    ) -> ReplicateOutcome {
        let samples = get(&self.samples);
        let dropped = DROP_REASONS
            .iter()
            .zip(&self.dropped)
            .map(|(r, c)| ((*r).to_owned(), get(c)))
            .filter(|(_, n)| *n > 0)
            .collect();
        ReplicateOutcome {
            phase: head.phase,
            dry_run: head.dry_run,
            source_metrics: get(&self.metrics_total),
            excluded_metrics: head.excluded,
            source_series: get(&self.source_series),
            source_samples: get(&self.source_samples),
            stale_markers: get(&self.stale_markers),
            copies_per_series: head.copies,
            series_written: get(&self.series),
            samples_written: samples,
            metadata_written: get(&self.metadata),
            completed: samples,
            requests: get(&self.requests),
            retries: get(&self.retries),
            bytes_sent: get(&self.bytes),
            bytes_uncompressed: get(&self.bytes_uncompressed),
            samples_dropped: self.dropped_total(),
            dropped,
            messages: self
                .messages
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
            requested_rate: head.rate,
            achieved_rate: if wall > 0.0 {
                samples as f64 / wall
            } else {
                0.0
            },
            wall_duration: wall,
            timed_out,
        }
    }
}

/// The parts of an outcome known before sending.
pub(crate) struct OutcomeHead {
    pub phase: String,
    pub dry_run: bool,
    pub excluded: u64,
    pub copies: u64,
    pub rate: Option<f64>,
}

/// `metrics 3/12 series 480 samples 10080 (2.1k/s) dropped 0 sent 1.2 MB`: one progress line,
/// with `; receiver refusing connections for 3.2 s` while it does.
pub fn progress_line(p: &ReplicateProgress) -> String {
    let secs = (p.elapsed_ms as f64 / 1000.0).max(0.001);
    let mut line = format!(
        "metrics {}/{} series {} samples {} ({}/s) dropped {} sent {}",
        p.metrics_done,
        p.metrics_total,
        p.series,
        p.samples,
        si(p.samples as f64 / secs),
        p.dropped,
        bytes(p.bytes),
    );
    if let Some(ms) = p.refusing_ms {
        line.push_str(&format!(
            "; receiver refusing connections for {:.1} s",
            ms as f64 / 1000.0
        ));
    }
    line
}

fn si(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{:.1}M", v / 1e6),
        v if v >= 1e3 => format!("{:.1}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

fn bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} B"),
    }
}

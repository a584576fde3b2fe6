//! The replication engine's series (`perfgate_replicate_*`), registered next to the HTTP
//! engine's in `EngineMetrics` so Prometheus scrapes them from the `perfgate` job.

use std::collections::HashMap;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PhaseLabel {
    pub phase: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DroppedLabels {
    pub phase: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub phase: String,
    /// `accepted` or `dropped` (the reason is in `samples_dropped`).
    pub outcome: String,
}

/// Reasons a sample is dropped: the writer's, plus `deadline` (the phase's timeout ran out
/// before the batch was sent) and `encode`.
pub const DROP_REASONS: [&str; 6] = [
    "rejected",
    "server_error",
    "throttled",
    "transport",
    "deadline",
    "encode",
];

/// The `perfgate_replicate_*` families.
pub struct ReplicateMetrics {
    pub(crate) registry: Registry,
    series: Family<PhaseLabel, Counter>,
    samples: Family<PhaseLabel, Counter>,
    dropped: Family<DroppedLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    retries: Family<PhaseLabel, Counter>,
    bytes: Family<PhaseLabel, Counter>,
    source_series: Family<PhaseLabel, Gauge>,
}

impl Default for ReplicateMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplicateMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("perfgate_replicate");
        let metrics = Self {
            series: Family::default(),
            samples: Family::default(),
            dropped: Family::default(),
            requests: Family::default(),
            retries: Family::default(),
            bytes: Family::default(),
            source_series: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "series_written",
            "Series the receiver accepted (counted with their first batch)",
            metrics.series.clone(),
        );
        registry.register(
            "samples_written",
            "Samples the receiver accepted",
            metrics.samples.clone(),
        );
        registry.register(
            "samples_dropped",
            "Samples not accepted, by reason (rejected, server_error, throttled, transport, deadline, encode)",
            metrics.dropped.clone(),
        );
        registry.register(
            "requests",
            "Remote-write batches by outcome (accepted, dropped), retries not counted",
            metrics.requests.clone(),
        );
        registry.register(
            "retries",
            "Remote-write attempts beyond the first",
            metrics.retries.clone(),
        );
        registry.register(
            "bytes",
            "Compressed request bytes sent, retries included",
            metrics.bytes.clone(),
        );
        registry.register(
            "source_series",
            "Source series read so far",
            metrics.source_series.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// Creates every series of `phase` at zero, so they exist from the first scrape on and a
    /// `prometheus_tsdb_head_series` delta over the phase counts only the replicated series.
    pub fn phase(&self, phase: &str) -> PhaseHandles {
        let label = PhaseLabel {
            phase: phase.to_owned(),
        };
        PhaseHandles {
            series: self.series.get_or_create_owned(&label),
            samples: self.samples.get_or_create_owned(&label),
            retries: self.retries.get_or_create_owned(&label),
            bytes: self.bytes.get_or_create_owned(&label),
            source_series: self.source_series.get_or_create_owned(&label),
            dropped: DROP_REASONS
                .iter()
                .map(|r| {
                    let labels = DroppedLabels {
                        phase: phase.to_owned(),
                        reason: (*r).to_owned(),
                    };
                    (*r, self.dropped.get_or_create_owned(&labels))
                })
                .collect(),
            accepted: self.requests.get_or_create_owned(&RequestLabels {
                phase: phase.to_owned(),
                outcome: "accepted".into(),
            }),
            rejected: self.requests.get_or_create_owned(&RequestLabels {
                phase: phase.to_owned(),
                outcome: "dropped".into(),
            }),
        }
    }
}

/// One phase's handles, created once so senders do no label hashing per batch.
#[derive(Clone)]
pub struct PhaseHandles {
    pub(crate) series: Counter,
    pub(crate) samples: Counter,
    pub(crate) retries: Counter,
    pub(crate) bytes: Counter,
    pub(crate) source_series: Gauge,
    dropped: HashMap<&'static str, Counter>,
    accepted: Counter,
    rejected: Counter,
}

impl PhaseHandles {
    pub(crate) fn dropped(&self, reason: &str, samples: u64) {
        if let Some(c) = self.dropped.get(reason) {
            c.inc_by(samples);
        }
    }

    pub(crate) fn request(&self, accepted: bool) {
        if accepted {
            self.accepted.inc();
        } else {
            self.rejected.inc();
        }
    }
}

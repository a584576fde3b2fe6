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

/// Reasons a sample is dropped: the writer's (`receiver_down` also for what the give-up cut
/// off), plus `deadline` (the phase's timeout ran out before the batch was sent) and `encode`.
pub const DROP_REASONS: [&str; 7] = [
    "rejected",
    "server_error",
    "throttled",
    "transport",
    "receiver_down",
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
        let series = Family::<PhaseLabel, Counter>::default();
        let samples = Family::<PhaseLabel, Counter>::default();
        let dropped = Family::<DroppedLabels, Counter>::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let retries = Family::<PhaseLabel, Counter>::default();
        let bytes = Family::<PhaseLabel, Counter>::default();
        let source_series = Family::<PhaseLabel, Gauge>::default();
        // Counters get `_total` appended: `perfgate_replicate_series_written_total`, ...
        registry.register(
            "series_written",
            "Series the receiver accepted (counted with their first batch)",
            series.clone(),
        );
        registry.register(
            "samples_written",
            "Samples the receiver accepted",
            samples.clone(),
        );
        registry.register(
            "samples_dropped",
            "Samples not accepted, by reason (rejected, server_error, throttled, transport, receiver_down, deadline, encode)",
            dropped.clone(),
        );
        registry.register(
            "requests",
            "Remote-write batches by outcome (accepted, dropped), retries not counted",
            requests.clone(),
        );
        registry.register(
            "retries",
            "Remote-write attempts beyond the first",
            retries.clone(),
        );
        registry.register(
            "bytes",
            "Compressed request bytes a receiver answered (accepted or not), retries included",
            bytes.clone(),
        );
        registry.register(
            "source_series",
            "Source series read so far",
            source_series.clone(),
        );
        Self {
            registry,
            series,
            samples,
            dropped,
            requests,
            retries,
            bytes,
            source_series,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_has_every_series_at_zero_before_it_writes() {
        let metrics = ReplicateMetrics::new();
        let handles = metrics.phase("copy");
        handles.samples.inc_by(7);
        handles.request(false);
        handles.dropped("throttled", 3);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &metrics.registry).expect("encode");
        for needle in [
            r#"perfgate_replicate_series_written_total{phase="copy"} 0"#,
            r#"perfgate_replicate_samples_written_total{phase="copy"} 7"#,
            r#"perfgate_replicate_samples_dropped_total{phase="copy",reason="rejected"} 0"#,
            r#"perfgate_replicate_samples_dropped_total{phase="copy",reason="throttled"} 3"#,
            r#"perfgate_replicate_requests_total{phase="copy",outcome="accepted"} 0"#,
            r#"perfgate_replicate_requests_total{phase="copy",outcome="dropped"} 1"#,
            r#"perfgate_replicate_source_series{phase="copy"} 0"#,
        ] {
            assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
        }
    }
}

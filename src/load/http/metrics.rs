//! The HTTP engine's client-side series (`perfgate_http_*`): requests by status or error kind,
//! latency from the scheduled time, dropped arrivals and requests in flight, per phase.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::load::labels::PhaseLabel;
pub use crate::serve::LATENCY_BUCKETS;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub phase: String,
    pub method: String,
    pub endpoint: String,
    /// Status code, or the error kind (`timeout`, `connect`, `io`) when there was no response.
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct LatencyLabels {
    pub phase: String,
    pub endpoint: String,
}

type HistogramFamily<L> = Family<L, Histogram, LatencyBuckets>;

/// Makes each series' latency histogram with the run's bucket bounds (seconds).
#[derive(Clone, Debug)]
pub(crate) struct LatencyBuckets(std::sync::Arc<[f64]>);

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

/// The `perfgate_http_*` families, shared by every http phase of a run.
pub struct HttpMetrics {
    pub(crate) registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) latency: HistogramFamily<LatencyLabels>,
    pub(crate) dropped: Family<PhaseLabel, Counter>,
    pub(crate) in_flight: Family<PhaseLabel, Gauge>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpMetrics {
    /// With the default latency buckets (`LATENCY_BUCKETS`).
    pub fn new() -> Self {
        Self::with_buckets(&LATENCY_BUCKETS)
    }

    /// With `buckets` (upper bounds in seconds, increasing) for `perfgate_http_latency_seconds`.
    pub fn with_buckets(buckets: &[f64]) -> Self {
        let mut registry = Registry::with_prefix("perfgate_http");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily<LatencyLabels> =
            Family::new_with_constructor(LatencyBuckets(buckets.into()));
        let dropped = Family::<PhaseLabel, Counter>::default();
        let in_flight = Family::<PhaseLabel, Gauge>::default();
        // OpenMetrics appends `_total` to counters: these become `perfgate_http_requests_total`
        // and `perfgate_http_dropped_total`.
        registry.register(
            "requests",
            "Requests the engine completed, by phase, method, endpoint and status or error kind",
            requests.clone(),
        );
        registry.register(
            "latency_seconds",
            "Latency measured from each request's scheduled time to its full response",
            latency.clone(),
        );
        registry.register(
            "dropped",
            "Arrivals not sent because max_in_flight requests were outstanding",
            dropped.clone(),
        );
        registry.register("in_flight", "Requests outstanding", in_flight.clone());
        Self {
            registry,
            requests,
            latency,
            dropped,
            in_flight,
        }
    }

    /// A series of `phase` in every family (the text encoder leaves empty families out), for
    /// the metrics reference's test.
    #[cfg(test)]
    pub(crate) fn touch_every_family(&self, phase: &str) {
        let _ = self.phase_handles(phase);
        let _ = self.requests.get_or_create(&RequestLabels {
            phase: phase.to_owned(),
            method: "GET".into(),
            endpoint: "/".into(),
            status: "200".into(),
        });
        let _ = self.latency.get_or_create(&LatencyLabels {
            phase: phase.to_owned(),
            endpoint: "/".into(),
        });
    }

    /// Handles on a phase's series, created once so the hot path does no label hashing.
    pub(crate) fn phase_handles(&self, phase: &str) -> (Counter, Gauge) {
        let label = PhaseLabel {
            phase: phase.to_owned(),
        };
        (
            self.dropped.get_or_create_owned(&label),
            self.in_flight.get_or_create_owned(&label),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposition(metrics: &HttpMetrics) -> String {
        metrics.touch_every_family("steady");
        let mut out = String::new();
        prometheus_client::encoding::text::encode_registry(&mut out, &metrics.registry).unwrap();
        out
    }

    #[test]
    fn the_latency_histogram_has_the_buckets_the_spec_asks_for() {
        let custom = exposition(&HttpMetrics::with_buckets(&[0.001, 0.0015, 0.002]));
        let edges: Vec<&str> = custom
            .lines()
            .filter(|l| l.starts_with("perfgate_http_latency_seconds_bucket"))
            .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next())
            .collect();
        assert_eq!(edges, ["0.001", "0.0015", "0.002", "+Inf"]);
        let default = exposition(&HttpMetrics::new());
        assert!(default.contains("le=\"0.00025\""), "{default}");
    }
}

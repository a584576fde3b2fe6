//! The HTTP engine's client-side series (`perfgate_http_*`): requests by status or error kind,
//! latency from the scheduled time, dropped arrivals and requests in flight, per phase.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
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
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("perfgate_http");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily<LatencyLabels> =
            Family::new_with_constructor(latency_histogram);
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

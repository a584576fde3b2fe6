//! Client-side metrics of the load engines (`perfgate_http_*`), and a tiny `/metrics` server so
//! Prometheus can scrape what the engine saw next to what the service reports.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::serve::openmetrics_response;

/// Re-exported from `serve` (its home since issue 12) until every user imports it from there.
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PhaseLabel {
    pub phase: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The engines' Prometheus registry. Shared (behind an `Arc`) by every phase of a run.
pub struct EngineMetrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) latency: HistogramFamily<LatencyLabels>,
    pub(crate) dropped: Family<PhaseLabel, Counter>,
    pub(crate) in_flight: Family<PhaseLabel, Gauge>,
    /// The replication engine's `perfgate_replicate_*` families (its own prefix).
    pub(crate) replicate: crate::load::replicate::ReplicateMetrics,
    /// `perfgate_freshness_seconds`, set by `freshness` phases.
    pub(crate) freshness: crate::load::freshness::FreshnessMetrics,
    /// The swarm engine's `perfgate_swarm_*` families.
    pub swarm: crate::load::swarm::SwarmMetrics,
}

impl Default for EngineMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineMetrics {
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
            replicate: crate::load::replicate::ReplicateMetrics::new(),
            freshness: crate::load::freshness::FreshnessMetrics::new(),
            swarm: crate::load::swarm::SwarmMetrics::new(),
        }
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode_registry(&mut out, &self.registry)?;
        prometheus_client::encoding::text::encode_registry(&mut out, &self.replicate.registry)?;
        prometheus_client::encoding::text::encode_registry(&mut out, &self.freshness.registry)?;
        prometheus_client::encoding::text::encode_registry(&mut out, &self.swarm.registry)?;
        prometheus_client::encoding::text::encode_eof(&mut out)?;
        Ok(out)
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

/// Serves `GET /metrics` with `metrics` until `shutdown` resolves.
pub async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<EngineMetrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new()
        .route("/metrics", get(render))
        .with_state(metrics);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn render(State(metrics): State<Arc<EngineMetrics>>) -> Response {
    openmetrics_response(metrics.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_engine_families() {
        let metrics = Arc::new(EngineMetrics::new());
        let labels = RequestLabels {
            phase: "steady".into(),
            method: "GET".into(),
            endpoint: "/health".into(),
            status: "200".into(),
        };
        metrics.requests.get_or_create(&labels).inc();
        let latency = LatencyLabels {
            phase: "steady".into(),
            endpoint: "/health".into(),
        };
        metrics.latency.get_or_create(&latency).observe(0.002);
        let (dropped, in_flight) = metrics.phase_handles("steady");
        dropped.inc_by(3);
        in_flight.set(2);
        metrics.replicate.phase("copy");

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_metrics(listener, metrics, async move {
            let _ = stopped.await;
        }));
        let text = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .expect("scrape")
            .text()
            .await
            .expect("body");
        for needle in [
            r#"perfgate_http_requests_total{phase="steady",method="GET",endpoint="/health",status="200"} 1"#,
            r#"perfgate_http_latency_seconds_bucket{le="0.0025",phase="steady",endpoint="/health"} 1"#,
            r#"perfgate_http_dropped_total{phase="steady"} 3"#,
            r#"perfgate_http_in_flight{phase="steady"} 2"#,
            r#"perfgate_replicate_samples_dropped_total{phase="copy",reason="deadline"} 0"#,
        ] {
            assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
        }
        let _ = stop.send(());
        let joined = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
        assert!(matches!(joined, Ok(Ok(Ok(())))), "{joined:?}");
    }
}

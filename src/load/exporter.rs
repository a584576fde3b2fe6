//! The engines' metrics together (`EngineMetrics`: one registry per engine), and a tiny
//! `/metrics` server so Prometheus can scrape what the engines saw next to what the services
//! report.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::serve::openmetrics_response;

/// The engines' Prometheus registries, one per engine. Shared (behind an `Arc`) by every phase
/// of a run.
pub struct EngineMetrics {
    /// The HTTP engine's `perfgate_http_*` families.
    pub(crate) http: crate::load::http::HttpMetrics,
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
        Self::with_latency_buckets(&crate::serve::LATENCY_BUCKETS)
    }

    /// With `buckets` (seconds) for the HTTP engine's latency histogram (`latency_buckets:`).
    pub fn with_latency_buckets(buckets: &[f64]) -> Self {
        Self {
            http: crate::load::http::HttpMetrics::with_buckets(buckets),
            replicate: crate::load::replicate::ReplicateMetrics::new(),
            freshness: crate::load::freshness::FreshnessMetrics::new(),
            swarm: crate::load::swarm::SwarmMetrics::new(),
        }
    }

    /// Every registry encoded with a series in each family (the text encoder leaves empty
    /// families out), for the metrics reference's test.
    #[cfg(test)]
    pub(crate) fn exposition_of_every_family() -> String {
        let metrics = Self::new();
        metrics.http.touch_every_family("p");
        let _ = metrics.replicate.phase("p");
        metrics.swarm.create("p", 1, true);
        metrics.freshness.set("p", 1.0);
        metrics.encode().unwrap_or_default()
    }

    /// Every registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode_registry(&mut out, &self.http.registry)?;
        prometheus_client::encoding::text::encode_registry(&mut out, &self.replicate.registry)?;
        prometheus_client::encoding::text::encode_registry(&mut out, &self.freshness.registry)?;
        prometheus_client::encoding::text::encode_registry(&mut out, &self.swarm.registry)?;
        prometheus_client::encoding::text::encode_eof(&mut out)?;
        Ok(out)
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

//! The engines' metrics together (`EngineMetrics`: one registry per engine), and a tiny
//! `/metrics` server so Prometheus can scrape what the engines saw next to what the services
//! report.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use tokio::net::TcpListener;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PhaseLabel {
    pub phase: String,
}

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
        Self {
            http: crate::load::http::HttpMetrics::new(),
            replicate: crate::load::replicate::ReplicateMetrics::new(),
            freshness: crate::load::freshness::FreshnessMetrics::new(),
            swarm: crate::load::swarm::SwarmMetrics::new(),
        }
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

/// A `/metrics` answer: an encoded registry in the OpenMetrics text format, or a 500.
pub(crate) fn openmetrics_response(encoded: Result<String, std::fmt::Error>) -> Response {
    match encoded {
        Ok(text) => {
            let mut response = text.into_response();
            let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::http::{LatencyLabels, RequestLabels};

    #[tokio::test]
    async fn serves_the_engine_families() {
        let metrics = Arc::new(EngineMetrics::new());
        let labels = RequestLabels {
            phase: "steady".into(),
            method: "GET".into(),
            endpoint: "/health".into(),
            status: "200".into(),
        };
        metrics.http.requests.get_or_create(&labels).inc();
        let latency = LatencyLabels {
            phase: "steady".into(),
            endpoint: "/health".into(),
        };
        metrics.http.latency.get_or_create(&latency).observe(0.002);
        let (dropped, in_flight) = metrics.http.phase_handles("steady");
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

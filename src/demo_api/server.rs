//! The demo API's HTTP surface: routes, the request-tracking middleware, `serve` (embeddable,
//! for tests and in-process use) and `run` (the `perfgate demo-api` process entry point).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use serde_json::json;
use tokio::net::TcpListener;

use super::behaviour::{Knobs, RngSource, parse_order, plan_order, plan_slow, plan_users};
use super::otel::{Both, OtelTelemetry, OtlpExport};
use super::telemetry::{OrderStatus, PrometheusTelemetry, Telemetry};

/// How long `run` lets in-flight requests (e.g. a 5 s `/api/slow`) finish after a signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(6);
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Configuration of one demo API instance (the `perfgate demo-api` flags).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoApiConfig {
    pub listen: SocketAddr,
    pub seed: u64,
    pub latency_factor: f64,
    pub error_factor: f64,
    /// Multiplies the CPU work of GET /api/work (finite, > 0, at most `spec::MAX_CPU_FACTOR`).
    pub cpu_factor: f64,
    /// Also export the metrics over OTLP (`/metrics` stays available).
    pub otlp: Option<OtlpExport>,
}

struct AppState {
    telemetry: Arc<dyn Telemetry>,
    prometheus: Arc<PrometheusTelemetry>,
    rng: RngSource,
    knobs: Knobs,
    cpu_factor: f64,
    next_order_id: AtomicU64,
}

type Shared = Arc<AppState>;

/// Serves the demo API on `listener` until `shutdown` resolves, then drains open requests.
pub async fn serve(
    listener: TcpListener,
    config: &DemoApiConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let prometheus = Arc::new(PrometheusTelemetry::new());
    let (telemetry, provider): (Arc<dyn Telemetry>, _) = match &config.otlp {
        None => (prometheus.clone(), None),
        Some(export) => {
            let otel = OtelTelemetry::new(export, tokio::runtime::Handle::current())
                .map_err(std::io::Error::other)?;
            let provider = otel.provider();
            (
                Arc::new(Both(prometheus.clone(), Arc::new(otel))),
                Some(provider),
            )
        }
    };
    let state = Arc::new(AppState {
        telemetry,
        prometheus,
        rng: RngSource::new(config.seed),
        knobs: Knobs {
            latency_factor: config.latency_factor,
            error_factor: config.error_factor,
        },
        cpu_factor: config.cpu_factor,
        next_order_id: AtomicU64::new(1),
    });
    let router = router(state);
    // Small responses must not wait for Nagle + delayed ACK on keep-alive connections.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(provider) = provider {
        // The final export carries every request served; `shutdown` blocks on it, and its HTTP
        // request runs on this runtime, hence a blocking thread.
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("final OTLP export failed: {e}"),
            Err(e) => tracing::warn!("final OTLP export panicked: {e}"),
        }
    }
    served
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/users", get(users))
        .route("/api/orders", post(orders))
        .route("/api/slow", get(slow))
        .route("/api/work", get(work))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Runs the demo API as a process: binds, prints one readiness line, stops on SIGTERM/SIGINT.
pub fn run(config: DemoApiConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = crate::serve::bind_listener(config.listen)?;
        let addr = listener.local_addr()?;
        {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "demo-api listening on http://{addr}")?;
            stdout.flush()?;
        }
        crate::serve::serve_until_signalled(|stop| serve(listener, &config, stop), SHUTDOWN_GRACE)
            .await?;
        Ok(())
    })
}

/// Maps a path to its route, so unknown paths cannot blow up label cardinality.
fn endpoint_label(path: &str) -> &'static str {
    match path {
        "/health" => "/health",
        "/api/users" => "/api/users",
        "/api/orders" => "/api/orders",
        "/api/slow" => "/api/slow",
        "/api/work" => "/api/work",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

/// Records a request even when its future is dropped (client gone): the in-flight gauge must
/// come back down, and the abort is counted as status 499 (nginx's "client closed request").
struct Tracked {
    telemetry: Arc<dyn Telemetry>,
    method: axum::http::Method,
    endpoint: &'static str,
    started: Instant,
    done: bool,
}

impl Tracked {
    fn finish(&mut self, status: u16) {
        if !self.done {
            self.done = true;
            let elapsed = self.started.elapsed();
            self.telemetry
                .request_finished(self.method.as_str(), self.endpoint, status, elapsed);
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.finish(499);
    }
}

async fn track(State(state): State<Shared>, request: Request, next: Next) -> Response {
    state.telemetry.request_started();
    let mut tracked = Tracked {
        telemetry: state.telemetry.clone(),
        method: request.method().clone(),
        endpoint: endpoint_label(request.uri().path()),
        started: Instant::now(),
        done: false,
    };
    let response = next.run(request).await;
    tracked.finish(response.status().as_u16());
    response
}

/// Health answers at once: it gates readiness and is the benchmark's target, so it must measure
/// the HTTP path, not a simulated delay.
async fn health() -> &'static str {
    "ok"
}

async fn users(State(state): State<Shared>) -> Response {
    let plan = plan_users(&state.knobs, &mut state.rng.next_rng());
    state.telemetry.cache_lookup(plan.cache_hit);
    tokio::time::sleep(plan.delay).await;
    if plan.fail {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "injected users failure");
    }
    let source = if plan.cache_hit { "cache" } else { "database" };
    axum::Json(json!({
        "source": source,
        "users": [
            {"id": 1, "name": "ada"},
            {"id": 2, "name": "grace"},
            {"id": 3, "name": "linus"},
        ],
    }))
    .into_response()
}

async fn orders(State(state): State<Shared>, body: Bytes) -> Response {
    let order = match parse_order(&body) {
        Ok(order) => order,
        Err(message) => {
            state.telemetry.order(OrderStatus::Invalid, 0.0);
            return error(StatusCode::BAD_REQUEST, &message);
        }
    };
    let (delay, fail) = plan_order(&state.knobs, &mut state.rng.next_rng());
    tokio::time::sleep(delay).await;
    if fail {
        state.telemetry.order(OrderStatus::Failed, 0.0);
        return error(StatusCode::INTERNAL_SERVER_ERROR, "injected orders failure");
    }
    let value = order.value();
    state.telemetry.order(OrderStatus::Created, value);
    let id = state.next_order_id.fetch_add(1, Ordering::Relaxed);
    let body = json!({"id": id, "item": order.item, "qty": order.qty, "value": value});
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn slow(State(state): State<Shared>) -> &'static str {
    tokio::time::sleep(plan_slow(&state.knobs, &mut state.rng.next_rng())).await;
    "finally"
}

async fn work(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    super::work::handle(state.telemetry.clone(), state.cpu_factor, query).await
}

async fn metrics(State(state): State<Shared>) -> Response {
    match state.prometheus.encode() {
        Ok(text) => {
            let mut response = text.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
            response
        }
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed"),
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

//! The OTLP/HTTP ingest adapter (`perfgate otlp-to-prometheus`, spec kind `otlp-to-prometheus`):
//! `POST /v1/metrics` (protobuf, optionally gzip) → translate → sink; `/v1/traces` and `/v1/logs`
//! are accepted and discarded (collectors such as rotel refuse to start without an endpoint that
//! covers every signal); `GET /metrics` exposes the translated series plus the adapter's own
//! counters; `GET /health` answers `ok`.

use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use prost::Message as _;
use tokio::net::TcpListener;

use super::sink::{ScrapeStore, SeriesSink};
use super::stats::Stats;
use super::translate::translate;

/// Compressed request bodies above this are refused (OTLP batches are far smaller).
const MAX_BODY: usize = 32 << 20;
/// Decompressed bodies above this are refused: a gzip bomb must not take the run down.
const MAX_INFLATED: u64 = 128 << 20;
const PROTOBUF: &str = "application/x-protobuf";
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Configuration of one adapter (the `perfgate otlp-to-prometheus` flags).
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterConfig {
    pub listen: SocketAddr,
    /// `export: remote-write`: the receiver's URL (`http://127.0.0.1:9090/api/v1/write`);
    /// `None` = `export: scrape`.
    pub remote_write: Option<String>,
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported Content-Encoding `{0}` (hint: send gzip or no encoding)")]
    Encoding(String),
    #[error(
        "unsupported Content-Type `{0}` (hint: perfgate accepts OTLP/HTTP protobuf, `application/x-protobuf`; set the exporter's protocol to http/protobuf)"
    )]
    ContentType(String),
    #[error("gzip body could not be inflated: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("inflated body exceeds {MAX_INFLATED} bytes")]
    TooLarge,
    #[error("body is not an OTLP ExportMetricsServiceRequest: {0}")]
    Protobuf(#[from] prost::DecodeError),
}

struct Adapter {
    store: Arc<ScrapeStore>,
    sink: Arc<dyn SeriesSink>,
    stats: Stats,
}

type Shared = Arc<Adapter>;

/// Decodes a request body: gzip (by `Content-Encoding`) then protobuf.
pub fn decode_request(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<ExportMetricsServiceRequest, DecodeError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").trim().to_ascii_lowercase();
        if !ct.is_empty() && !ct.starts_with(PROTOBUF) && !ct.starts_with("application/protobuf") {
            return Err(DecodeError::ContentType(ct));
        }
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let inflated;
    let bytes = match encoding.as_str() {
        "" | "identity" => body,
        "gzip" => {
            let mut out = Vec::with_capacity(body.len() * 4);
            let read = flate2::read::GzDecoder::new(body)
                .take(MAX_INFLATED + 1)
                .read_to_end(&mut out)
                .map_err(DecodeError::Gzip)?;
            if read as u64 > MAX_INFLATED {
                return Err(DecodeError::TooLarge);
            }
            inflated = out;
            &inflated[..]
        }
        other => return Err(DecodeError::Encoding(other.to_owned())),
    };
    Ok(ExportMetricsServiceRequest::decode(bytes)?)
}

fn protobuf_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROTOBUF));
    r
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn metrics_in(State(a): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let request = match decode_request(&headers, &body) {
        Ok(r) => r,
        Err(e) => {
            let code = match e {
                DecodeError::Encoding(_) | DecodeError::ContentType(_) => {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
                _ => StatusCode::BAD_REQUEST,
            };
            tracing::warn!("refused an OTLP metrics request: {e}");
            a.stats.decode_error();
            a.stats.request("metrics", code.as_u16());
            return (code, e.to_string()).into_response();
        }
    };
    let translation = translate(&request);
    a.stats.translated(&translation);
    if let Err(e) = a.sink.write(&translation.series).await {
        tracing::warn!("{e}");
        a.stats.write_failed(translation.samples);
        let code = StatusCode::SERVICE_UNAVAILABLE;
        a.stats.request("metrics", code.as_u16());
        return (code, e.to_string()).into_response();
    }
    a.stats.written(translation.samples, now_ms());
    let partial_success = translation.rejection_message().map(|message| {
        tracing::warn!("{message}");
        ExportMetricsPartialSuccess {
            rejected_data_points: translation.rejected_points() as i64,
            error_message: message,
        }
    });
    a.stats.request("metrics", StatusCode::OK.as_u16());
    let response = ExportMetricsServiceResponse { partial_success };
    protobuf_response(StatusCode::OK, response.encode_to_vec())
}

/// Traces and logs are accepted and dropped: an empty Export*ServiceResponse is an empty body.
async fn discard(State(a): State<Shared>, signal: &'static str) -> Response {
    a.stats.request(signal, StatusCode::OK.as_u16());
    protobuf_response(StatusCode::OK, Vec::new())
}

async fn metrics_out(State(a): State<Shared>) -> Response {
    let mut text = String::with_capacity(16 * 1024);
    a.store.render(&mut text);
    a.stats.render(&a.store, &mut text);
    let mut r = text.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
    r
}

/// The adapter's routes over `store` (exposed at `/metrics`) and `sink` (where batches go).
pub fn router(store: Arc<ScrapeStore>, sink: Arc<dyn SeriesSink>) -> Router {
    let state = Arc::new(Adapter {
        store,
        sink,
        stats: Stats::default(),
    });
    Router::new()
        .route("/v1/metrics", post(metrics_in))
        .route("/v1/traces", post(|s| discard(s, "traces")))
        .route("/v1/logs", post(|s| discard(s, "logs")))
        .route("/metrics", get(metrics_out))
        .route("/health", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves the adapter until `shutdown` resolves: translated series go to `remote_write` when
/// given (the adapter's `/metrics` then shows only its own counters), else to the scrape store.
pub async fn serve(
    listener: TcpListener,
    remote_write: Option<&str>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = Arc::new(ScrapeStore::new());
    let sink: Arc<dyn SeriesSink> = match remote_write {
        Some(url) => {
            let policy = crate::prom::remote_write::RetryPolicy::default();
            let writer = crate::prom::remote_write::RemoteWriter::new(url, &[], policy)
                .map_err(std::io::Error::other)?;
            Arc::new(super::RemoteWriteSink::new(writer))
        }
        None => store.clone(),
    };
    axum::serve(listener, router(store, sink))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs the adapter as a process: binds, prints one readiness line, stops on SIGTERM/SIGINT.
pub fn run(config: AdapterConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            let export = config
                .remote_write
                .as_deref()
                .map_or("scrape".to_owned(), |url| format!("remote-write to {url}"));
            writeln!(
                stdout,
                "otlp-to-prometheus listening on http://{addr} (export: {export})"
            )?;
            stdout.flush()?;
        }
        crate::serve::serve_until_signalled(
            |stop| serve(listener, config.remote_write.as_deref(), stop),
            SHUTDOWN_GRACE,
        )
        .await?;
        Ok(())
    })
}

//! The demo API's OpenTelemetry instruments, exported over OTLP/HTTP protobuf with cumulative
//! temporality by the OpenTelemetry Rust SDK. Names and units are chosen so Prometheus's OTLP
//! translation yields the same series as the `/metrics` endpoint (`http_requests` →
//! `http_requests_total`, `http_request_duration` + unit `s` → `http_request_duration_seconds_*`).
//!
//! The SDK's periodic reader exports from its own thread and blocks on the export future, so the
//! HTTP client hands each request to the service's tokio runtime ([`RuntimeClient`]) rather than
//! bundling a blocking client and a second HTTP stack.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _, UpDownCounter};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

use super::telemetry::{DURATION_BUCKETS, OrderStatus, Telemetry};

const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how often the demo API exports over OTLP.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpExport {
    /// Base URL of an OTLP/HTTP receiver, e.g. `http://127.0.0.1:4318` (`/v1/metrics` is added).
    pub endpoint: String,
    pub interval: Duration,
    /// `service.name` of the resource (becomes `job`).
    pub service_name: String,
    /// `service.instance.id` of the resource (becomes `instance`).
    pub instance: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OtlpSetupError {
    #[error("the OTLP exporter could not be built: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("the HTTP client for OTLP could not be built: {0}")]
    Client(#[from] reqwest::Error),
}

/// An `HttpClient` for the OTLP exporter that runs each request on a tokio runtime, so it works
/// from the SDK's reader thread (which has no runtime of its own).
#[derive(Debug, Clone)]
pub struct RuntimeClient {
    handle: tokio::runtime::Handle,
    client: reqwest::Client,
}

impl RuntimeClient {
    pub fn new(handle: tokio::runtime::Handle, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()?;
        Ok(Self { handle, client })
    }
}

#[async_trait::async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let task = self.handle.spawn(async move {
            let (parts, body) = request.into_parts();
            let answer = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await?;
            let mut response = Response::builder().status(status).body(body)?;
            *response.headers_mut() = headers;
            Ok::<_, HttpError>(response)
        });
        task.await.map_err(|e| Box::new(e) as HttpError)?
    }
}

/// The demo API's instruments on an OpenTelemetry meter. Shut the provider down (off the
/// runtime's worker threads) to flush the last export.
pub struct OtelTelemetry {
    provider: SdkMeterProvider,
    requests: Counter<u64>,
    durations: Histogram<f64>,
    in_flight: UpDownCounter<i64>,
    orders: Counter<u64>,
    order_value: Counter<f64>,
    cache: Counter<u64>,
    work: Counter<u64>,
}

impl OtelTelemetry {
    /// Builds the exporter and meter; exports start after the first interval.
    pub fn new(
        export: &OtlpExport,
        runtime: tokio::runtime::Handle,
    ) -> Result<Self, OtlpSetupError> {
        let client = RuntimeClient::new(runtime, EXPORT_TIMEOUT)?;
        let exporter = MetricExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!(
                "{}/v1/metrics",
                export.endpoint.trim_end_matches('/')
            ))
            .with_timeout(EXPORT_TIMEOUT)
            .build()?;
        let reader = PeriodicReader::builder(exporter)
            .with_interval(export.interval)
            .build();
        let resource = Resource::builder()
            .with_service_name(export.service_name.clone())
            .with_attribute(KeyValue::new(
                "service.instance.id",
                export.instance.clone(),
            ))
            .build();
        let provider = SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource)
            .build();
        let telemetry = Self::instruments(&provider.meter("perfgate-demo-api"), provider);
        // Like the `/metrics` registry: the label values every dashboard expects start at 0.
        for status in [
            OrderStatus::Created,
            OrderStatus::Invalid,
            OrderStatus::Failed,
        ] {
            telemetry
                .orders
                .add(0, &[KeyValue::new("status", status.as_str())]);
        }
        for result in ["hit", "miss"] {
            telemetry.cache.add(0, &[KeyValue::new("result", result)]);
        }
        telemetry.work.add(0, &[]);
        Ok(telemetry)
    }

    /// Every instrument of the demo API on `meter`, as `/metrics` names them.
    fn instruments(meter: &opentelemetry::metrics::Meter, provider: SdkMeterProvider) -> Self {
        Self {
        requests: meter
            .u64_counter("http_requests")
            .with_description("HTTP requests handled, by method, endpoint and status code")
            .with_unit("{request}")
            .build(),
        durations: meter
            .f64_histogram("http_request_duration")
            .with_description("Time from request start to response, by method and endpoint")
            .with_unit("s")
            .with_boundaries(DURATION_BUCKETS.to_vec())
            .build(),
        in_flight: meter
            .i64_up_down_counter("http_requests_in_flight")
            .with_description("HTTP requests currently being handled")
            .with_unit("{request}")
            .build(),
        orders: meter
            .u64_counter("orders")
            .with_description("Orders handled, by outcome")
            .with_unit("{order}")
            .build(),
        order_value: meter
            .f64_counter("orders_value")
            .with_description("Value of created orders (price table by item times quantity)")
            .build(),
        cache: meter
            .u64_counter("cache_hits")
            .with_description("Users lookups against the simulated cache, by result")
            .build(),
        work: meter
            .u64_counter("work_iterations")
            .with_description(
                "Hash-chain iterations done by GET /api/work (cpu_factor included)",
            )
            .build(),
        provider,
        }
    }

    /// The provider, to flush and stop it when the service stops.
    pub fn provider(&self) -> SdkMeterProvider {
        self.provider.clone()
    }
}

impl Telemetry for OtelTelemetry {
    fn request_started(&self) {
        self.in_flight.add(1, &[]);
    }

    fn request_finished(
        &self,
        method: &str,
        endpoint: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        self.in_flight.add(-1, &[]);
        let method = KeyValue::new("method", method.to_owned());
        let endpoint = KeyValue::new("endpoint", endpoint);
        self.requests.add(
            1,
            &[
                method.clone(),
                endpoint.clone(),
                KeyValue::new("status", i64::from(status).to_string()),
            ],
        );
        self.durations
            .record(elapsed.as_secs_f64(), &[method, endpoint]);
    }

    fn order(&self, status: OrderStatus, value: f64) {
        self.orders
            .add(1, &[KeyValue::new("status", status.as_str())]);
        if status == OrderStatus::Created && value.is_finite() && value > 0.0 {
            self.order_value.add(value, &[]);
        }
    }

    fn cache_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache.add(1, &[KeyValue::new("result", result)]);
    }

    fn work_done(&self, iterations: u64) {
        self.work.add(iterations, &[]);
    }
}

/// Records every event in two telemetries (Prometheus `/metrics` and OTLP).
pub struct Both(pub Arc<dyn Telemetry>, pub Arc<dyn Telemetry>);

impl Telemetry for Both {
    fn request_started(&self) {
        self.0.request_started();
        self.1.request_started();
    }
    fn request_finished(
        &self,
        method: &str,
        endpoint: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        self.0.request_finished(method, endpoint, status, elapsed);
        self.1.request_finished(method, endpoint, status, elapsed);
    }
    fn order(&self, status: OrderStatus, value: f64) {
        self.0.order(status, value);
        self.1.order(status, value);
    }
    fn cache_lookup(&self, hit: bool) {
        self.0.cache_lookup(hit);
        self.1.cache_lookup(hit);
    }
    fn work_done(&self, iterations: u64) {
        self.0.work_done(iterations);
        self.1.work_done(iterations);
    }
}

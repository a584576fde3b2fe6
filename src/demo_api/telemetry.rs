//! The demo API's instruments: a small `Telemetry` trait the handlers call, and its Prometheus
//! implementation (prometheus-client registry rendered at `/metrics`).
//!
//! The trait exists so an OpenTelemetry (OTLP) exporter can later sit beside the Prometheus one
//! without touching the handlers: they only ever see `&dyn Telemetry`.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency buckets from 1 ms to 10 s: the demo's endpoints span both ends (health vs slow).
pub const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Outcome of a POST /api/orders, as the `status` label of `orders_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Created,
    Invalid,
    Failed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Created => "created",
            OrderStatus::Invalid => "invalid",
            OrderStatus::Failed => "failed",
        }
    }
}

/// Everything the demo API records. Implementations must be cheap: they run on every request.
pub trait Telemetry: Send + Sync + 'static {
    /// A request entered the service (drives the in-flight gauge).
    fn request_started(&self);
    /// A request left the service with `status` after `elapsed`.
    fn request_finished(
        &self,
        method: &str,
        endpoint: &'static str,
        status: u16,
        elapsed: Duration,
    );
    /// An order was handled; `value` is only counted for created orders.
    fn order(&self, status: OrderStatus, value: f64);
    /// A users lookup hit (or missed) the simulated cache.
    fn cache_lookup(&self, hit: bool);
    /// A GET /api/work request ran `iterations` rounds of its hash chain.
    fn work_done(&self, iterations: u64);
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DurationLabels {
    method: String,
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// Prometheus instruments of the demo API, exposed in the OpenMetrics text format.
pub struct PrometheusTelemetry {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily<DurationLabels>,
    in_flight: Gauge,
    orders: Family<StatusLabel, Counter>,
    order_value: Counter<f64, std::sync::atomic::AtomicU64>,
    cache: Family<ResultLabel, Counter>,
    work: Counter,
}

impl Default for PrometheusTelemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl PrometheusTelemetry {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: HistogramFamily<DurationLabels> =
            Family::new_with_constructor(duration_histogram);
        let in_flight = Gauge::default();
        let orders = Family::<StatusLabel, Counter>::default();
        let order_value = Counter::<f64, std::sync::atomic::AtomicU64>::default();
        let cache = Family::<ResultLabel, Counter>::default();
        let work = Counter::default();
        // OpenMetrics appends `_total` to counter names, hence the bare names here.
        registry.register(
            "http_requests",
            "HTTP requests handled, by method, endpoint and status code",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request start to response, by method and endpoint",
            durations.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests currently being handled",
            in_flight.clone(),
        );
        registry.register("orders", "Orders handled, by outcome", orders.clone());
        registry.register(
            "orders_value",
            "Value of created orders (price table by item times quantity)",
            order_value.clone(),
        );
        registry.register(
            "cache_hits",
            "Users lookups against the simulated cache, by result",
            cache.clone(),
        );
        registry.register(
            "work_iterations",
            "Hash-chain iterations done by GET /api/work (cpu_factor included)",
            work.clone(),
        );
        // Pre-create the label values every dashboard expects, so rates start from 0, not absent.
        for result in ["hit", "miss"] {
            let _ = cache.get_or_create_owned(&ResultLabel {
                result: result.into(),
            });
        }
        for status in [
            OrderStatus::Created,
            OrderStatus::Invalid,
            OrderStatus::Failed,
        ] {
            let _ = orders.get_or_create_owned(&StatusLabel {
                status: status.as_str().into(),
            });
        }
        Self {
            registry,
            requests,
            durations,
            in_flight,
            orders,
            order_value,
            cache,
            work,
        }
    }

    /// The registry in the OpenMetrics text format (what `/metrics` serves).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The registry after one request, so every family has a series (the text encoder leaves empty
/// families out), encoded: for the metrics reference's test.
#[cfg(test)]
pub(crate) fn exposition() -> String {
    let telemetry = PrometheusTelemetry::new();
    telemetry.request_finished("GET", "/health", 200, Duration::from_millis(1));
    telemetry.encode().unwrap_or_default()
}

impl Telemetry for PrometheusTelemetry {
    fn request_started(&self) {
        self.in_flight.inc();
    }

    fn request_finished(
        &self,
        method: &str,
        endpoint: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        self.in_flight.dec();
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                endpoint: endpoint.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.durations
            .get_or_create(&DurationLabels {
                method: method.to_owned(),
                endpoint: endpoint.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    fn order(&self, status: OrderStatus, value: f64) {
        self.orders
            .get_or_create(&StatusLabel {
                status: status.as_str().into(),
            })
            .inc();
        if status == OrderStatus::Created && value.is_finite() && value > 0.0 {
            self.order_value.inc_by(value);
        }
    }

    fn cache_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache
            .get_or_create(&ResultLabel {
                result: result.into(),
            })
            .inc();
    }

    fn work_done(&self, iterations: u64) {
        self.work.inc_by(iterations);
    }
}

//! The validated spec model: what every other subsystem consumes. Built only by `spec::validate`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;

/// A validated spec: references resolved, units parsed, names unique.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// `name:` from the file, or the file stem when absent. Prefix of every test name.
    pub name: String,
    pub description: Option<String>,
    /// The file this spec was read from (as given, not canonicalised).
    pub path: PathBuf,
    pub stack: Stack,
    /// Load phases, run one after another in this order.
    pub phases: Vec<Phase>,
    pub assertions: Vec<Assertion>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub backend: BackendChoice,
    /// Services in the order written in the spec; started in dependency order by `stack/`.
    pub services: IndexMap<String, Service>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    #[default]
    Auto,
    Process,
    Docker,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    pub kind: ServiceKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceKind {
    Prometheus(PrometheusService),
    DemoApi(DemoApiService),
    Process(ProcessService),
    OtelCollector(OtelCollectorService),
    OtlpAdapter(OtlpAdapterService),
}

impl ServiceKind {
    /// The kind as written in `kind:`.
    pub fn name(&self) -> &'static str {
        match self {
            ServiceKind::Prometheus(_) => "prometheus",
            ServiceKind::DemoApi(_) => "demo-api",
            ServiceKind::Process(_) => "process",
            ServiceKind::OtelCollector(_) => "otel-collector",
            ServiceKind::OtlpAdapter(_) => "otlp-to-prometheus",
        }
    }

    /// Whether services can send OTLP to this one (`otlp: NAME`).
    pub fn receives_otlp(&self) -> bool {
        matches!(
            self,
            ServiceKind::OtelCollector(_) | ServiceKind::OtlpAdapter(_)
        )
    }
}

/// An OpenTelemetry collector between OTLP senders and Prometheus.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelCollectorService {
    /// The `prometheus` service the collector's metrics end up in.
    pub export_to: String,
    pub implementation: CollectorImpl,
    /// Explicit path to an `otelcol-contrib`/`otelcol` or `rotel-agent` binary.
    pub binary: Option<PathBuf>,
    pub extra_args: Vec<String>,
}

/// Which collector runs an `otel-collector` service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CollectorImpl {
    /// `otelcol-contrib`/`otelcol` when found, else rotel (provisioned from PyPI).
    #[default]
    Auto,
    Otelcol,
    Rotel,
}

/// perfgate's own OTLP/HTTP → Prometheus adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpAdapterService {
    pub export: OtlpExportMode,
}

/// How the adapter hands translated series to Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OtlpExportMode {
    /// Exposed on the adapter's `/metrics` (with OTLP timestamps) and scraped.
    #[default]
    Scrape,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusService {
    /// Global scrape interval (and evaluation interval) of the generated config.
    pub scrape_interval: Duration,
    /// Explicit path to a `prometheus` binary; beats `PERFGATE_PROMETHEUS`, PATH and the cache.
    pub binary: Option<PathBuf>,
    /// Extra command-line flags passed through verbatim.
    pub extra_args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoApiService {
    /// Seed of the API's latency and error randomness.
    pub seed: u64,
    /// Multiplies every simulated latency (1.0 = as documented; 2.0 seeds a regression).
    pub latency_factor: f64,
    /// Multiplies every simulated error probability (0.0 = no injected errors).
    pub error_factor: f64,
    /// Service receiving the API's OTLP export; `None` = Prometheus scrapes `/metrics`.
    pub otlp: Option<String>,
    /// How often the OTLP exporter sends (cumulative) metrics.
    pub export_interval: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessService {
    /// argv; `{{port.NAME}}` and `{{service.PORT}}` placeholders are expanded at start.
    pub command: Vec<String>,
    /// Named ports perfgate allocates (value 0) or fixes (non-zero).
    pub ports: BTreeMap<String, u16>,
    pub env: BTreeMap<String, String>,
    pub ready: ReadyCheck,
    /// Path scraped by Prometheus on the `http` port (or the only port), when the program exports metrics.
    pub metrics_path: Option<String>,
    pub startup_timeout: Duration,
    /// Service receiving the program's OTLP; injects `OTEL_EXPORTER_OTLP_ENDPOINT` and friends.
    pub otlp: Option<String>,
    /// Extra resource attributes for `OTEL_RESOURCE_ATTRIBUTES`.
    pub resource: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReadyCheck {
    /// GET `path` on the named port answers 2xx.
    Http { port: String, path: String },
    /// The named port accepts TCP connections.
    Tcp { port: String },
    /// A line of stdout or stderr contains this text.
    Log { contains: String },
    /// Nothing to wait for.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: String,
    pub kind: PhaseKind,
}

impl Phase {
    /// Wall-clock length the phase is scheduled for.
    pub fn duration(&self) -> Duration {
        match &self.kind {
            PhaseKind::Http(http) => http.duration,
            PhaseKind::Pause(d) => *d,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PhaseKind {
    Http(HttpPhase),
    /// Drive no load for a while (lets gauges settle, separates windows).
    Pause(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpPhase {
    /// Service name (validated to exist and to speak HTTP).
    pub target: String,
    /// Steady arrival rate, in requests per second.
    pub rate: Rate,
    /// Linear ramp from `ramp.from` to `rate` over `ramp.over`, at the start of the phase.
    pub ramp: Option<Ramp>,
    pub duration: Duration,
    /// Upper bound on requests in flight; arrivals beyond it are counted as dropped.
    pub max_in_flight: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Weighted request mix; never empty, weights > 0.
    pub mix: Vec<WeightedRequest>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ramp {
    pub from: Rate,
    pub over: Duration,
}

/// Events per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate(pub f64);

impl Rate {
    pub fn per_second(self) -> f64 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WeightedRequest {
    pub weight: u32,
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    pub json: Option<serde_json::Value>,
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// As written, e.g. `p99 latency under 300ms`.
    pub name: String,
    /// Test-name slug, e.g. `p99_latency_under_300ms`; unique within the spec.
    pub id: String,
    /// PromQL, may contain `$phase` (the window's length as a PromQL duration).
    pub query: String,
    /// Phase whose window this is evaluated over; `None` = the whole load (first phase start .. last phase end).
    pub during: Option<String>,
    pub expect: Expectation,
    pub mode: SeriesMode,
    pub eval: EvalMode,
    /// Where the `query:` value starts in the file, so PromQL errors can point into it.
    pub query_location: Location,
}

/// How a multi-series result is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeriesMode {
    /// The query must yield exactly one value, which is judged.
    #[default]
    Aggregate,
    /// Every series must satisfy the expectation (and there must be at least one).
    EachSeries,
}

/// When the query is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvalMode {
    /// One instant query at the end of the window.
    #[default]
    AtEnd,
    /// A range query over the window (step = scrape interval); every point must satisfy.
    Throughout,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expectation {
    Compare(CompareOp, f64),
    /// Inclusive on both ends.
    Between(f64, f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Expectation {
    /// Whether `value` satisfies this expectation. NaN never does.
    pub fn holds(&self, value: f64) -> bool {
        match *self {
            Expectation::Compare(op, rhs) => match op {
                CompareOp::Lt => value < rhs,
                CompareOp::Le => value <= rhs,
                CompareOp::Gt => value > rhs,
                CompareOp::Ge => value >= rhs,
                CompareOp::Eq => value == rhs,
            },
            Expectation::Between(lo, hi) => value >= lo && value <= hi,
        }
    }
}

impl std::fmt::Display for Expectation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expectation::Compare(op, v) => {
                let op = match op {
                    CompareOp::Lt => "<",
                    CompareOp::Le => "<=",
                    CompareOp::Gt => ">",
                    CompareOp::Ge => ">=",
                    CompareOp::Eq => "==",
                };
                write!(f, "{op} {v}")
            }
            Expectation::Between(a, b) => write!(f, "between {a} and {b}"),
        }
    }
}

/// A 1-based position in a spec file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

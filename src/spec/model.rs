//! The validated spec model: what every other subsystem consumes. Built only by `spec::validate`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;

use super::client_stat::ClientStat;
use super::kinds::ServiceKind;
pub use super::diagnostic::Location;
use super::expectation::Expectation;
use super::tolerance::Tolerance;
pub use super::units::Rate;

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
    /// Queries whose outcomes are snapshot-diffed between runs (`snapshot:`).
    pub snapshots: Vec<SnapshotQuery>,
    /// Where snapshot files live: `snapshot_dir:` resolved against the spec's folder, else
    /// `<spec folder>/snapshots`.
    pub snapshot_dir: PathBuf,
    /// `compare:`: one service in two variants, their load interleaved; `None` for a plain run.
    pub comparison: Option<Comparison>,
    /// `repeat:` of a plain spec: how many times the phases run, every assertion asked in each
    /// run and judged on the values of all of them (1: once, judged on its one window).
    pub repeat: u32,
    /// Upper bounds of the client latency histogram (`perfgate_http_latency_seconds`), in
    /// seconds, increasing: `latency_buckets:`, else `serve::LATENCY_BUCKETS`.
    pub latency_buckets: Vec<f64>,
}

impl Spec {
    /// The ids of the built-in delivery verdicts this spec's run judges (`steady::delivered`),
    /// in phase order.
    pub fn delivery_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.phases
            .iter()
            .filter(|p| p.delivery.is_some())
            .map(|p| super::delivery::delivery_id(&p.name))
    }
}

/// `compare:`: the base and the candidate of one service, each running the spec's phases
/// `repeat` times, interleaved pair by pair in a seeded random order (A B, B A, …) on one stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The service compared. The stack holds it twice: under this name with `base:`'s keys
    /// merged in, and under [`candidate_service`](Self::candidate_service) with `candidate:`'s.
    pub service: String,
    /// The candidate's name in the stack: `<service>-candidate`.
    pub candidate_service: String,
    /// Pairs: each variant runs every phase this many times.
    pub repeat: u32,
    /// Seeds the order within each pair.
    pub seed: u64,
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
pub struct Phase {
    pub name: String,
    pub kind: PhaseKind,
    /// The limits of its built-in `<phase>::delivered` verdict; `None`: no such verdict
    /// (`delivered: off`, or a `pause`).
    pub delivery: Option<super::delivery::Delivery>,
}

impl Phase {
    /// Wall-clock length the phase is scheduled for.
    pub fn duration(&self) -> Duration {
        match &self.kind {
            PhaseKind::Http(http) => http.duration,
            PhaseKind::Pause(d) => *d,
            // Run until done; the timeout is their upper bound.
            PhaseKind::Replicate(r) => r.timeout,
            PhaseKind::Freshness(f) => f.timeout,
            PhaseKind::Swarm(s) => s.duration,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PhaseKind {
    Http(HttpPhase),
    /// Drive no load for a while (lets gauges settle, separates windows).
    Pause(Duration),
    /// Copy series from a Prometheus into a remote-write endpoint, multiplied over labels.
    Replicate(ReplicatePhase),
    /// Wait until the requests of the `http` phase just before are queryable; record how long.
    Freshness(FreshnessPhase),
    /// A supervised swarm of FFmpeg HLS clients (docs/swarm.md).
    Swarm(SwarmPhase),
}

impl PhaseKind {
    /// The kind's key in the spec (`http`, `pause`, `replicate`, `freshness`, `swarm`).
    pub fn name(&self) -> &'static str {
        match self {
            PhaseKind::Http(_) => "http",
            PhaseKind::Pause(_) => "pause",
            PhaseKind::Replicate(_) => "replicate",
            PhaseKind::Freshness(_) => "freshness",
            PhaseKind::Swarm(_) => "swarm",
        }
    }
}

/// A swarm of FFmpeg HLS clients (`client: ffmpeg-hls`, the only kind) pulling `url`.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmPhase {
    /// The playlist URL; `{{SERVICE}}` placeholders expand to that service's base URL.
    pub url: String,
    pub clients: u32,
    /// Client starts per second (`max`: all at once).
    pub ramp: Rate,
    /// From the first start to stopping every client, ramp included.
    pub duration: Duration,
    /// No media advance for this long is a stall (the client is restarted).
    pub stall_after: Duration,
    /// Restarts per client.
    pub restart_max: u32,
    /// Wait before the first restart, and the most it doubles up to.
    pub backoff: (Duration, Duration),
    pub decode: bool,
    pub per_client_metrics: bool,
    /// The window of `perfgate_swarm_media_speed`.
    pub media_window: Duration,
}

/// A freshness measurement: poll `query` until it reaches the number of responses the load got
/// from `target` for paths matching `paths` (every `http` phase so far), and record the time
/// from the end of the preceding `http` phase.
#[derive(Debug, Clone, PartialEq)]
pub struct FreshnessPhase {
    /// PromQL returning one number: the service's own count of those requests.
    pub query: String,
    /// Regex over request paths (anchored, as PromQL's `=~`).
    pub paths: String,
    /// The preceding `http` phase's target.
    pub target: String,
    /// Upper bound on the wait; past it the lag is recorded as +Inf.
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicatePhase {
    /// Where series are read: a `prometheus` service or a loopback URL of a Prometheus API.
    pub from: Endpoint,
    /// Where copies are written: a `prometheus` service (its `/api/v1/write`) or a loopback
    /// remote-write URL.
    pub to: Endpoint,
    /// Extra headers on every write (tenant ids, ...), written in the spec or taken from
    /// outside it.
    pub headers: BTreeMap<String, super::secret::HeaderText>,
    /// `auth:`: the `Authorization` header of every write.
    pub auth: Option<super::secret::Auth>,
    /// Series selectors (a metric matches when any selects it); never empty.
    pub matchers: Vec<String>,
    /// Metric-name regexes (anchored) to skip; checked to compile.
    pub exclude: Vec<String>,
    pub lookback: Duration,
    pub step: Duration,
    /// Replication labels in spec order; copies are the cartesian product of their values.
    pub labels: Vec<ReplicationLabel>,
    /// Samples per second; `max` (infinite) = unlimited.
    pub rate: Rate,
    /// Samples per request.
    pub batch: usize,
    /// Parallel senders.
    pub concurrency: usize,
    /// Re-time each metric's history so its newest sample lands at "now".
    pub time_shift: bool,
    pub dry_run: bool,
    /// Upper bound on the replication.
    pub timeout: Duration,
    /// The phase ends early once the receiver has refused every connection this long.
    pub give_up_after: Duration,
    /// The phase stays open this long after the last write, so its window holds a scrape
    /// that saw every copy (for `during:` assertions on the receiver's own gauges).
    pub hold: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Service(String),
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationLabel {
    pub name: String,
    /// A count `n` is stored as the values `0`..`n-1`.
    pub values: Vec<String>,
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
    /// `auth:`: the `Authorization` header of every request of the phase.
    pub auth: Option<super::secret::Auth>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ramp {
    pub from: Rate,
    pub over: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WeightedRequest {
    pub weight: u32,
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    pub json: Option<serde_json::Value>,
    /// Values written in the spec or taken from outside it (`{ env: … }`, `{ file: … }`).
    pub headers: BTreeMap<String, super::secret::HeaderText>,
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
    /// PromQL, may contain `$phase` (the window's length as a PromQL duration); for a `client:`
    /// assertion, what it reads (`client p50 latency of phase steady (exact)`).
    pub query: String,
    /// `client: p50`: the HTTP engine's exact statistic of the `during` phase instead of a query.
    pub client: Option<ClientStat>,
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

/// A snapshot query: its results are recorded per series and compared with the stored ones.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotQuery {
    /// As written; its slug is the snapshot's id (file name and test name).
    pub name: String,
    pub id: String,
    /// PromQL, may contain `$phase`.
    pub query: String,
    /// Phase whose window this is evaluated at the end of; `None` = the whole load.
    pub during: Option<String>,
    pub tolerance: Tolerance,
    pub query_location: Location,
}


//! What an HTTP phase reports: the serialisable outcome, live progress, and the aggregator that
//! folds per-request records into both (and into the engine's Prometheus series).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use hdrhistogram::Histogram;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram as PromHistogram;
use serde::{Deserialize, Serialize};

use super::client::{ErrorKind, PreparedRequest};
use super::error::HttpError;
use super::metrics::{HttpMetrics, LatencyLabels, RequestLabels};

/// Highest latency the histogram resolves (1 h in µs); longer ones saturate at it.
const MAX_LATENCY_MICROS: u64 = 3_600_000_000;

/// The result of one HTTP phase. Latencies are in seconds, measured to the last byte of the
/// response from the request's scheduled time, or from its send when the dispatcher sent it up
/// to one timer tick (1 ms) early; closed loop: from its send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpPhaseOutcome {
    pub phase: String,
    /// Requests per second asked for; `None` in closed loop (as fast as max_in_flight allows).
    pub requested_rate: Option<f64>,
    /// Responses per second over the scheduled phase duration.
    pub achieved_rate: f64,
    /// Requests issued (arrivals minus dropped).
    pub sent: u64,
    /// Requests that got a full response, whatever its status.
    pub completed: u64,
    /// `completed` by endpoint (the request path without its query); absent from older records.
    #[serde(default)]
    pub completed_by_endpoint: BTreeMap<String, u64>,
    /// Responses with a status below 400.
    pub ok: u64,
    pub status_classes: StatusClasses,
    /// Responses by status code; absent from older records.
    #[serde(default)]
    pub statuses: BTreeMap<u16, u64>,
    pub errors: ErrorCounts,
    /// Arrivals not sent because `max_in_flight` requests were outstanding.
    pub dropped: u64,
    pub latency: LatencySummary,
    /// How late arrivals were issued relative to their schedule; `None` in closed loop.
    pub dispatch_lag: Option<LagSummary>,
    /// The scheduled phase length, in seconds.
    pub duration: f64,
    /// From the first arrival to the last response (or the drain deadline), in seconds.
    pub wall_duration: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusClasses {
    #[serde(rename = "1xx")]
    pub informational: u64,
    #[serde(rename = "2xx")]
    pub success: u64,
    #[serde(rename = "3xx")]
    pub redirection: u64,
    #[serde(rename = "4xx")]
    pub client_error: u64,
    #[serde(rename = "5xx")]
    pub server_error: u64,
}

/// Failed requests by kind. A 4xx/5xx response is both completed and an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    pub timeout: u64,
    pub connect: u64,
    pub io: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.timeout + self.connect + self.io + self.status_4xx + self.status_5xx
    }
}

/// Latency percentiles in seconds over completed and timed-out requests (a timeout is recorded
/// at the time it fired, so a stalled server cannot vanish from the tail). Connect and io
/// failures are left out: they fail fast and would flatter the figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub samples: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// Lateness of the dispatcher in seconds (0 when on time or up to one timer tick early). A
/// large lag means the client, not the target, limited the rate: the latency figures then
/// include the wait, as they should, but the run is a poor measurement of the target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LagSummary {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Records dispatcher lag; owned by the dispatcher alone.
pub(crate) struct LagRecorder {
    histogram: Histogram<u64>,
}

impl LagRecorder {
    pub fn new() -> Result<Self, HttpError> {
        let histogram = Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
            .map_err(|e| HttpError::InvalidPhase(format!("lag histogram: {e}")))?;
        Ok(Self { histogram })
    }

    pub fn record(&mut self, lag: Duration) {
        // Zero (on time) is recorded as the lowest bucket, 1 µs.
        let micros = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX).max(1);
        self.histogram.saturating_record(micros);
    }

    pub fn summary(&self) -> LagSummary {
        let h = &self.histogram;
        if h.is_empty() {
            return LagSummary::default();
        }
        // Values at or below 1 µs mean "on time": report them as 0.
        let s = |micros: u64| {
            if micros <= 1 {
                0.0
            } else {
                micros as f64 / 1e6
            }
        };
        LagSummary {
            p50: s(h.value_at_quantile(0.50)),
            p99: s(h.value_at_quantile(0.99)),
            max: s(h.max()),
        }
    }
}

/// A live view of a running phase, published a few times a second.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpProgress {
    pub phase: String,
    /// Time since the phase started, in seconds.
    pub elapsed: f64,
    pub sent: u64,
    pub completed: u64,
    pub ok: u64,
    pub errors: u64,
    pub dropped: u64,
    pub in_flight: u64,
}

/// One finished request, as sent from a request task to the aggregator.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    /// Index into the phase's mix.
    pub request: usize,
    pub result: Result<u16, ErrorKind>,
    pub latency: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SeriesKey {
    Status(u16),
    Error(ErrorKind),
}

/// Folds records; owned by a single aggregator task, so nothing here is shared or locked.
pub(crate) struct Aggregate {
    phase: String,
    histogram: Histogram<u64>,
    pub completed: u64,
    pub ok: u64,
    pub classes: StatusClasses,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    pub errors: ErrorCounts,
    /// (method, endpoint) labels per mix entry, for lazily created request counters.
    labels: Vec<(&'static str, String)>,
    counters: HashMap<(usize, SeriesKey), Counter>,
    /// Responses per mix entry.
    completed_by_request: Vec<u64>,
    latency_series: Vec<PromHistogram>,
    metrics_requests: prometheus_client::metrics::family::Family<RequestLabels, Counter>,
}

impl Aggregate {
    pub fn new(
        phase: &str,
        requests: &[PreparedRequest],
        metrics: &HttpMetrics,
    ) -> Result<Self, HttpError> {
        let histogram = Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
            .map_err(|e| HttpError::InvalidPhase(format!("latency histogram: {e}")))?;
        let latency_series = requests
            .iter()
            .map(|r| {
                metrics.latency.get_or_create_owned(&LatencyLabels {
                    phase: phase.to_owned(),
                    endpoint: r.endpoint.clone(),
                })
            })
            .collect();
        Ok(Self {
            phase: phase.to_owned(),
            histogram,
            completed: 0,
            ok: 0,
            classes: StatusClasses::default(),
            statuses: BTreeMap::new(),
            errors: ErrorCounts::default(),
            labels: requests
                .iter()
                .map(|r| (r.method.as_str(), r.endpoint.clone()))
                .collect(),
            counters: HashMap::new(),
            completed_by_request: vec![0; requests.len()],
            latency_series,
            metrics_requests: metrics.requests.clone(),
        })
    }

    pub fn record(&mut self, record: Record) {
        let key = match record.result {
            Ok(status) => {
                self.completed += 1;
                *self.statuses.entry(status).or_default() += 1;
                if let Some(n) = self.completed_by_request.get_mut(record.request) {
                    *n += 1;
                }
                match status / 100 {
                    1 => self.classes.informational += 1,
                    2 => self.classes.success += 1,
                    3 => self.classes.redirection += 1,
                    4 => self.classes.client_error += 1,
                    _ => self.classes.server_error += 1,
                }
                match status {
                    0..400 => self.ok += 1,
                    400..500 => self.errors.status_4xx += 1,
                    _ => self.errors.status_5xx += 1,
                }
                self.observe(record);
                SeriesKey::Status(status)
            }
            Err(kind) => {
                match kind {
                    ErrorKind::Timeout => {
                        self.errors.timeout += 1;
                        self.observe(record);
                    }
                    ErrorKind::Connect => self.errors.connect += 1,
                    ErrorKind::Io => self.errors.io += 1,
                }
                SeriesKey::Error(kind)
            }
        };
        self.counter(record.request, key).inc();
    }

    /// Responses by endpoint (mix entries sharing a path are added up).
    pub fn completed_by_endpoint(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((_, endpoint), n) in self.labels.iter().zip(&self.completed_by_request) {
            *out.entry(endpoint.clone()).or_default() += n;
        }
        out
    }

    /// Requests that never reported back before the drain deadline count as timeouts.
    pub fn abandoned(&mut self, count: u64) {
        self.errors.timeout += count;
    }

    fn observe(&mut self, record: Record) {
        let micros = u64::try_from(record.latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.histogram.saturating_record(micros);
        if let Some(series) = self.latency_series.get(record.request) {
            series.observe(record.latency.as_secs_f64());
        }
    }

    fn counter(&mut self, request: usize, key: SeriesKey) -> &Counter {
        let (phase, labels, family) = (&self.phase, &self.labels, &self.metrics_requests);
        self.counters.entry((request, key)).or_insert_with(|| {
            let (method, endpoint) = labels.get(request).cloned().unwrap_or(("?", String::new()));
            let status = match key {
                SeriesKey::Status(code) => code.to_string(),
                SeriesKey::Error(kind) => kind.as_str().to_owned(),
            };
            family.get_or_create_owned(&RequestLabels {
                phase: phase.clone(),
                method: method.to_owned(),
                endpoint,
                status,
            })
        })
    }

    pub fn latency(&self) -> LatencySummary {
        let h = &self.histogram;
        if h.is_empty() {
            return LatencySummary::default();
        }
        let s = |micros: u64| micros as f64 / 1e6;
        LatencySummary {
            samples: h.len(),
            mean: h.mean() / 1e6,
            p50: s(h.value_at_quantile(0.50)),
            p90: s(h.value_at_quantile(0.90)),
            p99: s(h.value_at_quantile(0.99)),
            max: s(h.max()),
        }
    }
}

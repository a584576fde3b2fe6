//! The `freshness` phase: how long the load's requests take to become queryable. Right after an
//! `http` phase, perfgate polls the spec's query (the service's own count of those requests, as
//! it arrives through the pipeline) until it reaches the number of responses the load got, and
//! records the time from the end of that `http` phase as `perfgate_freshness_seconds{phase}`
//! (+Inf when the timeout ran out), then waits until Prometheus has scraped that gauge so a gate
//! evaluated at the end of the run sees it.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

use super::exporter::PhaseLabel;
use super::http::HttpPhaseOutcome;
use crate::prom::PromClient;
use crate::spec::FreshnessPhase;

/// Between two polls: the resolution of the measurement.
pub const POLL: Duration = Duration::from_millis(50);
/// How long the gauge may take to be scraped, beyond the phase's own timeout.
const SCRAPE_GRACE: Duration = Duration::from_secs(15);

/// `perfgate_freshness_seconds{phase}`.
pub struct FreshnessMetrics {
    pub(crate) registry: Registry,
    lag: Family<PhaseLabel, Gauge<f64, AtomicU64>>,
}

impl Default for FreshnessMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl FreshnessMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let lag = Family::<PhaseLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "perfgate_freshness_seconds",
            "From the end of an http phase until the service's count of its requests was queryable (+Inf: not within the timeout)",
            lag.clone(),
        );
        Self { registry, lag }
    }

    fn set(&self, phase: &str, seconds: f64) {
        self.lag
            .get_or_create(&PhaseLabel {
                phase: phase.to_owned(),
            })
            .set(seconds);
    }
}

/// What a `freshness` phase found (kept in the phase's record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshnessOutcome {
    pub query: String,
    pub target: String,
    pub paths: String,
    /// Responses the load got from `target` for matching paths, over every `http` phase so far.
    pub expected: u64,
    /// The query's value at the last poll (`None`: no answer, or an empty result).
    pub observed: Option<f64>,
    /// From the end of the preceding `http` phase to the first poll that saw `expected`; `None`
    /// when the timeout ran out first.
    pub lag_seconds: Option<f64>,
    pub polls: u64,
    /// The last error Prometheus answered, if any poll failed.
    pub last_error: Option<String>,
}

/// Responses the load got from `target` for paths matching `paths` (anchored) over `phases`
/// (target, outcome). An invalid pattern matches nothing (the spec validated it).
pub fn expected_count<'a>(
    phases: impl IntoIterator<Item = (&'a str, &'a HttpPhaseOutcome)>,
    target: &str,
    paths: &str,
) -> u64 {
    let Ok(pattern) = regex::Regex::new(&format!("^(?:{paths})$")) else {
        return 0;
    };
    phases
        .into_iter()
        .filter(|(t, _)| *t == target)
        .flat_map(|(_, o)| &o.completed_by_endpoint)
        .filter(|(endpoint, _)| pattern.is_match(endpoint))
        .map(|(_, n)| n)
        .sum()
}

/// How a wait for a value went.
#[derive(Debug, Clone, PartialEq)]
pub struct Reached {
    /// When the poll that saw the value was sent (`None`: never within the deadline).
    pub at: Option<Instant>,
    pub last: Option<f64>,
    pub polls: u64,
    pub last_error: Option<String>,
}

/// Polls `query` (an instant query at "now"; an empty result counts as 0) every [`POLL`] until
/// its first series is at least `expected`, or `deadline`.
pub async fn poll_until_at_least(
    client: &PromClient,
    query: &str,
    expected: f64,
    deadline: Instant,
) -> Reached {
    let mut reached = Reached {
        at: None,
        last: None,
        polls: 0,
        last_error: None,
    };
    loop {
        let sent = Instant::now();
        reached.polls += 1;
        match client.query(query, None).await {
            Ok(v) => {
                let value = v
                    .series
                    .first()
                    .and_then(|s| s.samples.first())
                    .map_or(0.0, |p| p.v);
                reached.last = Some(value);
                if value >= expected {
                    reached.at = Some(sent);
                    return reached;
                }
            }
            Err(e) => reached.last_error = Some(e.to_string()),
        }
        if Instant::now() + POLL >= deadline {
            return reached;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Runs one `freshness` phase named `name`. `since`: when the preceding `http` phase ended;
/// `expected`: see [`expected_count`]. Errors only when Prometheus never scraped the result.
pub async fn run(
    name: &str,
    phase: &FreshnessPhase,
    client: &PromClient,
    since: Instant,
    expected: u64,
    metrics: &FreshnessMetrics,
) -> Result<FreshnessOutcome, String> {
    let deadline = Instant::now() + phase.timeout;
    let reached = poll_until_at_least(client, &phase.query, expected as f64, deadline).await;
    let lag = reached.at.map(|at| at.saturating_duration_since(since));
    metrics.set(name, lag.map_or(f64::INFINITY, |d| d.as_secs_f64()));
    let gauge = format!("perfgate_freshness_seconds{{phase=\"{name}\"}}");
    let scraped = poll_until_at_least(
        client,
        &format!("count({gauge})"),
        1.0,
        Instant::now() + SCRAPE_GRACE,
    )
    .await;
    if scraped.at.is_none() {
        return Err(format!(
            "prometheus did not scrape `{gauge}` within {SCRAPE_GRACE:?} (hint: is the `perfgate` job up?)"
        ));
    }
    Ok(FreshnessOutcome {
        query: phase.query.clone(),
        target: phase.target.clone(),
        paths: phase.paths.clone(),
        expected,
        observed: reached.last,
        lag_seconds: lag.map(|d| d.as_secs_f64()),
        polls: reached.polls,
        last_error: reached.last_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::http::{ErrorCounts, LatencySummary, StatusClasses};

    fn outcome(by_endpoint: &[(&str, u64)]) -> HttpPhaseOutcome {
        HttpPhaseOutcome {
            phase: "p".into(),
            requested_rate: None,
            achieved_rate: 0.0,
            sent: 0,
            completed: by_endpoint.iter().map(|(_, n)| n).sum(),
            completed_by_endpoint: by_endpoint
                .iter()
                .map(|(e, n)| (e.to_string(), *n))
                .collect(),
            ok: 0,
            status_classes: StatusClasses::default(),
            errors: ErrorCounts::default(),
            dropped: 0,
            latency: LatencySummary::default(),
            dispatch_lag: None,
            duration: 1.0,
            wall_duration: 1.0,
        }
    }

    #[test]
    fn expected_counts_matching_paths_of_the_target_over_every_phase() {
        let a = outcome(&[("/api/users", 10), ("/health", 50), ("/api/orders", 3)]);
        let b = outcome(&[("/api/users", 5)]);
        let other = outcome(&[("/api/users", 1000)]);
        let phases = [("api", &a), ("api", &b), ("web", &other)];
        assert_eq!(expected_count(phases, "api", "/api/.*"), 18);
        // Anchored, as PromQL's `=~`: `/api` alone matches no path here.
        assert_eq!(expected_count(phases, "api", "/api"), 0);
        assert_eq!(expected_count(phases, "api", ".*"), 68);
    }

    #[test]
    fn the_gauge_renders_infinity_as_prometheus_reads_it() {
        let m = FreshnessMetrics::new();
        m.set("late", f64::INFINITY);
        m.set("ok", 1.25);
        let mut text = String::new();
        prometheus_client::encoding::text::encode_registry(&mut text, &m.registry).unwrap();
        assert!(
            text.contains("perfgate_freshness_seconds{phase=\"ok\"} 1.25\n"),
            "{text}"
        );
        let inf = text
            .lines()
            .find_map(|l| l.strip_prefix("perfgate_freshness_seconds{phase=\"late\"} "))
            .expect("late series");
        // Prometheus parses with Go's strconv.ParseFloat: "+Inf", "Inf" and "inf" all work.
        assert!(
            ["+Inf", "Inf", "inf"].contains(&inf),
            "unexpected infinity: {inf}"
        );
    }
}

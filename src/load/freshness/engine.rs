//! The freshness wait: poll the spec's query until it reaches the expected count (or the
//! timeout), set the gauge, then wait until Prometheus has scraped it.

use std::time::{Duration, Instant};

use super::config::FreshnessConfig;
use super::error::FreshnessError;
use super::metrics::FreshnessMetrics;
use super::outcome::FreshnessOutcome;
use crate::prom::PromClient;

/// Between two polls: the resolution of the measurement.
pub const POLL: Duration = Duration::from_millis(50);
/// How long the gauge may take to be scraped, beyond the phase's own timeout.
const SCRAPE_GRACE: Duration = Duration::from_secs(15);

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

/// Runs one `freshness` phase named `name`. Errors only when Prometheus never scraped the
/// result.
pub(crate) async fn run(
    name: &str,
    phase: &FreshnessConfig,
    client: &PromClient,
    metrics: &FreshnessMetrics,
) -> Result<FreshnessOutcome, FreshnessError> {
    let (since, expected) = (phase.since, phase.expected);
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
        return Err(FreshnessError::NotScraped {
            gauge,
            grace: SCRAPE_GRACE,
        });
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

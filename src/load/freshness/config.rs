//! A spec's `freshness:` phase and what the `http` phases before it did → what the engine
//! waits for: the query, the number of responses to see counted, and since when.

use std::time::{Duration, Instant};

use crate::load::http::HttpPhaseOutcome;
use crate::spec::FreshnessPhase;

/// One `freshness` phase, ready to run.
pub(crate) struct FreshnessConfig {
    pub query: String,
    pub target: String,
    pub paths: String,
    pub timeout: Duration,
    /// When the preceding `http` phase ended.
    pub since: Instant,
    /// See [`expected_count`].
    pub expected: u64,
}

impl FreshnessConfig {
    /// `done`: every finished `http` phase so far (target, outcome); `since`: when the last one
    /// ended.
    pub fn from_phase<'a>(
        phase: &FreshnessPhase,
        done: impl IntoIterator<Item = (&'a str, &'a HttpPhaseOutcome)>,
        since: Instant,
    ) -> Self {
        Self {
            query: phase.query.clone(),
            target: phase.target.clone(),
            paths: phase.paths.clone(),
            timeout: phase.timeout,
            since,
            expected: expected_count(done, &phase.target, &phase.paths),
        }
    }
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

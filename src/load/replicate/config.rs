//! What a replication needs (`ReplicateConfig`), and how a spec's `replicate:` phase becomes
//! one once its endpoints are resolved to URLs: bearer token read from the environment,
//! exclusions compiled.

use std::time::Duration;

use regex::Regex;

use super::error::ReplicateError;
use super::labels::LabelSpace;
use super::source::anchored;
use crate::prom::remote_write::RetryPolicy;
use crate::spec::{HeaderText, ReplicatePhase};

/// Everything a replication needs, resolved: URLs instead of service names, compiled regexes.
#[derive(Debug, Clone)]
pub struct ReplicateConfig {
    /// Base URL of the Prometheus API to read from (`http://127.0.0.1:9090`).
    pub source: String,
    /// Remote-write URL (`http://127.0.0.1:9090/api/v1/write`).
    pub target: String,
    /// Sent with every write (tenant headers, `Authorization`); secret ones never shown.
    pub headers: Vec<(String, HeaderText)>,
    /// Series selectors; metrics matching any of them are replicated.
    pub matchers: Vec<String>,
    /// Metric names matching any of these (anchored) are skipped.
    pub exclude: Vec<Regex>,
    pub lookback: Duration,
    pub step: Duration,
    pub labels: LabelSpace,
    /// Samples per second; `None` = as fast as the receiver takes them.
    pub rate: Option<f64>,
    /// Samples per request (≥ 1).
    pub batch: usize,
    /// Parallel senders (≥ 1).
    pub concurrency: usize,
    /// Re-time each metric's history so its newest sample lands at "now".
    pub time_shift: bool,
    /// Read, generate and encode, but send nothing.
    pub dry_run: bool,
    /// Upper bound on the whole replication.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl ReplicateConfig {
    /// `source`: base URL of the Prometheus API; `target`: the remote-write URL.
    pub fn from_phase(
        phase: &ReplicatePhase,
        source: String,
        target: String,
    ) -> Result<Self, ReplicateError> {
        let mut headers: Vec<(String, HeaderText)> = phase
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(auth) = &phase.auth {
            let value = auth.header().map_err(ReplicateError::Invalid)?;
            headers.push(("Authorization".into(), value));
        }
        let exclude = phase
            .exclude
            .iter()
            .map(|p| anchored(p).map_err(|e| ReplicateError::Invalid(e.to_string())))
            .collect::<Result<_, _>>()?;
        let labels = LabelSpace::new(
            phase
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.values.clone()))
                .collect(),
        )
        .map_err(ReplicateError::Invalid)?;
        Ok(Self {
            source,
            target,
            headers,
            matchers: phase.matchers.clone(),
            exclude,
            lookback: phase.lookback,
            step: phase.step,
            labels,
            rate: Some(phase.rate.per_second()).filter(|r| r.is_finite()),
            batch: phase.batch,
            concurrency: phase.concurrency,
            time_shift: phase.time_shift,
            dry_run: phase.dry_run,
            timeout: phase.timeout,
            retry: RetryPolicy {
                give_up_after: phase.give_up_after,
                ..RetryPolicy::default()
            },
        })
    }
}

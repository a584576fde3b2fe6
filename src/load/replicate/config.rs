//! A spec's `replicate:` phase → the engine's `ReplicateConfig`, once its endpoints are
//! resolved to URLs: bearer token read from the environment, exclusions compiled.

use super::engine::{ReplicateConfig, ReplicateError};
use super::labels::LabelSpace;
use super::source::anchored;
use crate::prom::remote_write::RetryPolicy;
use crate::spec::ReplicatePhase;

impl ReplicateConfig {
    /// `source`: base URL of the Prometheus API; `target`: the remote-write URL.
    pub fn from_phase(
        phase: &ReplicatePhase,
        source: String,
        target: String,
    ) -> Result<Self, ReplicateError> {
        let mut headers: Vec<(String, String)> = phase
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(var) = &phase.bearer_token_env {
            let token = std::env::var(var).map_err(|_| {
                ReplicateError::Invalid(format!(
                    "environment variable `{var}` (bearer_token_env) is not set"
                ))
            })?;
            headers.push(("Authorization".into(), format!("Bearer {token}")));
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
            retry: RetryPolicy::default(),
        })
    }
}

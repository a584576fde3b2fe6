//! `perfgate_freshness_seconds{phase}`: the lag each `freshness` phase measured.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::load::labels::PhaseLabel;

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

    pub(crate) fn set(&self, phase: &str, seconds: f64) {
        self.lag
            .get_or_create(&PhaseLabel {
                phase: phase.to_owned(),
            })
            .set(seconds);
    }
}

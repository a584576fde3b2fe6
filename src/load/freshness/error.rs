//! Why a `freshness` phase failed: its measurement never reached Prometheus.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FreshnessError {
    #[error(
        "prometheus did not scrape `{gauge}` within {grace:?} (hint: is the `perfgate` job up?)"
    )]
    NotScraped { gauge: String, grace: Duration },
}

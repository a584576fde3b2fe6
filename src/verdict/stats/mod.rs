//! Statistics for verdicts that separate a regression from noise (issue 13): summaries and
//! type-7 quantiles (`summary`), the normal distribution (`normal`), percentile-bootstrap
//! intervals for one sample, two independent samples and paired samples (`bootstrap`), rank
//! tests (`rank`), expectations judged on an interval as pass, fail or inconclusive (`judge`),
//! and the smallest shift a design can detect (`mde`). Pure: no I/O, no clock, and randomness
//! only from a caller's seed.

// Wired in by issue 13's comparison; until then only tests use it.
#![allow(dead_code, unused_imports)]

mod bootstrap;
mod check;
mod error;
mod judge;
mod mde;
mod normal;
mod rank;
mod summary;
#[cfg(test)]
mod tests;

pub use bootstrap::{Bootstrap, Comparison, Interval};
pub use error::StatsError;
pub use judge::{Expectation, Judgement, Why, interval_confidence};
pub use mde::{detectable_shift, detectable_shift_from_aa};
pub use normal::{normal_cdf, normal_inverse_cdf};
pub use rank::{Alternative, RankTest, mann_whitney, wilcoxon_signed_rank};
pub use summary::{Statistic, Summary, quantile};

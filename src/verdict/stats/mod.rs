//! Statistics for verdicts that separate a regression from noise (issue 13): summaries and
//! type-7 quantiles (`summary`), the normal distribution (`normal`), percentile-bootstrap
//! intervals for one sample, two independent samples and paired samples (`bootstrap`),
//! expectations judged on an interval as pass, fail or inconclusive (`judge`),
//! and the smallest shift a design can detect (`mde`). Pure: no I/O, no clock, and randomness
//! only from a caller's seed.

mod bootstrap;
mod check;
mod error;
mod judge;
mod mde;
mod normal;
mod summary;
#[cfg(test)]
mod tests;

pub use bootstrap::{Bootstrap, Comparison, Interval};
pub use error::StatsError;
pub use judge::{Expectation, Judgement, Why, interval_confidence};
pub use mde::detectable_shift_from_aa;
pub use summary::{Statistic, Summary};
// What only the tests of the statistics call directly.
#[cfg(test)]
pub use {
    mde::detectable_shift,
    normal::{normal_cdf, normal_inverse_cdf},
    summary::quantile,
};

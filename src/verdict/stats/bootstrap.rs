//! Percentile-bootstrap confidence intervals: for a statistic of one sample, for a comparison
//! of two independent samples, and for paired samples (the median of per-pair ratios or
//! differences). Deterministic: the same seed and inputs give the same interval (rand's
//! `SmallRng`, as elsewhere in the crate: stable for one `rand` version and platform word size).

use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

use super::check;
use super::error::StatsError;
use super::summary::{Statistic, quantile};

/// A confidence interval around a point estimate, and what it compares, if anything.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// Two-sided, in (0, 1).
    pub confidence: f64,
    /// The scale of a comparison of two samples; `None` for a statistic of one sample.
    /// `Expectation::Within` needs it to know where "no change" is.
    pub comparison: Option<Comparison>,
}

/// How a candidate is set against a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// candidate / base: 1.10 is "10 % above". Needs positive bases.
    Ratio,
    /// candidate − base, in the samples' unit.
    Difference,
}

impl Comparison {
    /// The candidate's value on this scale.
    pub fn apply(self, base: f64, candidate: f64) -> f64 {
        match self {
            Comparison::Ratio => candidate / base,
            Comparison::Difference => candidate - base,
        }
    }

    /// The value meaning "no change": 1 for a ratio, 0 for a difference.
    pub fn neutral(self) -> f64 {
        match self {
            Comparison::Ratio => 1.0,
            Comparison::Difference => 0.0,
        }
    }
}

/// Percentile-bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    pub resamples: usize,
    /// Two-sided; see `interval_confidence` for a one-sided claim.
    pub confidence: f64,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 10_000,
            confidence: 0.95,
            seed: 0x5EED_F00D_CAFE_0013,
        }
    }
}

impl Bootstrap {
    /// The interval for `statistic` of `xs`: at least two finite values.
    pub fn one_sample(&self, xs: &[f64], statistic: Statistic) -> Result<Interval, StatsError> {
        self.check()?;
        statistic.check()?;
        check::sample(xs, 2)?;
        let mut rng = SmallRng::seed_from_u64(self.seed);
        let mut scratch = vec![0.0; xs.len()];
        let estimates = (0..self.resamples)
            .map(|_| {
                resample(xs, &mut scratch, &mut rng);
                statistic.of_scratch(&mut scratch)
            })
            .collect();
        Ok(self.interval(statistic.of(xs), estimates, None))
    }

    /// The interval for `statistic` of `candidate` compared with `statistic` of `base`, two
    /// independent samples each resampled on its own (their sizes may differ).
    pub fn independent(
        &self,
        base: &[f64],
        candidate: &[f64],
        statistic: Statistic,
        comparison: Comparison,
    ) -> Result<Interval, StatsError> {
        self.check()?;
        statistic.check()?;
        check::sample(base, 2)?;
        check::sample(candidate, 2)?;
        if comparison == Comparison::Ratio {
            check::positive(base)?;
        }
        let mut rng = SmallRng::seed_from_u64(self.seed);
        let (mut b, mut c) = (vec![0.0; base.len()], vec![0.0; candidate.len()]);
        let estimates = (0..self.resamples)
            .map(|_| {
                resample(base, &mut b, &mut rng);
                resample(candidate, &mut c, &mut rng);
                comparison.apply(statistic.of_scratch(&mut b), statistic.of_scratch(&mut c))
            })
            .collect();
        let estimate = comparison.apply(statistic.of(base), statistic.of(candidate));
        Ok(self.interval(estimate, estimates, Some(comparison)))
    }

    /// The interval for the median of the per-pair values `comparison(base[i], candidate[i])`:
    /// pairs measured side by side share the machine's drift, which the per-pair value
    /// cancels, and their median is not pulled by one disturbed pair as a ratio of means is.
    pub fn paired(
        &self,
        base: &[f64],
        candidate: &[f64],
        comparison: Comparison,
    ) -> Result<Interval, StatsError> {
        check::same_length(base, candidate)?;
        check::sample(base, 2)?;
        check::sample(candidate, 2)?;
        if comparison == Comparison::Ratio {
            check::positive(base)?;
        }
        let per_pair: Vec<f64> = base
            .iter()
            .zip(candidate)
            .map(|(&b, &c)| comparison.apply(b, c))
            .collect();
        let interval = self.one_sample(&per_pair, Statistic::Median)?;
        Ok(Interval {
            comparison: Some(comparison),
            ..interval
        })
    }

    fn check(&self) -> Result<(), StatsError> {
        check::confidence(self.confidence)?;
        check::within("resamples", self.resamples as f64, 1.0, f64::INFINITY)
    }

    /// The percentile interval: the (1 − c)/2 and (1 + c)/2 quantiles of the estimates.
    fn interval(
        &self,
        estimate: f64,
        mut estimates: Vec<f64>,
        comparison: Option<Comparison>,
    ) -> Interval {
        estimates.sort_by(f64::total_cmp);
        let tail = (1.0 - self.confidence) / 2.0;
        Interval {
            estimate,
            low: quantile(&estimates, tail),
            high: quantile(&estimates, 1.0 - tail),
            confidence: self.confidence,
            comparison,
        }
    }
}

/// Fills `into` with draws from `xs` with replacement.
fn resample(xs: &[f64], into: &mut [f64], rng: &mut SmallRng) {
    for slot in into.iter_mut() {
        *slot = xs[rng.random_range(0..xs.len())];
    }
}

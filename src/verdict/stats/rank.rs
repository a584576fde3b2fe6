//! Rank tests, which assume no distribution: Mann–Whitney U for two independent samples and
//! the Wilcoxon signed-rank test for paired ones (Kayenta's choice for canary judgement). Both
//! use the normal approximation with tie and continuity corrections.

use super::check;
use super::error::StatsError;
use super::normal::normal_cdf;

/// The direction a test looks for, of the candidate relative to the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// The candidate tends to be smaller.
    Less,
    /// The candidate tends to be greater.
    Greater,
    TwoSided,
}

/// A rank test's outcome: the statistic, its continuity-corrected z score (positive when the
/// candidate ranks high) and the p-value for the alternative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankTest {
    pub statistic: f64,
    pub z: f64,
    pub p_value: f64,
}

/// Mann–Whitney U for independent samples of at least two values each. The statistic is the
/// candidate's U: the number of (base, candidate) pairs with the candidate greater, ties
/// counting one half (R's `W` for `wilcox.test(candidate, base)`).
pub fn mann_whitney(
    base: &[f64],
    candidate: &[f64],
    alternative: Alternative,
) -> Result<RankTest, StatsError> {
    check::sample(base, 2)?;
    check::sample(candidate, 2)?;
    let (nb, nc) = (base.len() as f64, candidate.len() as f64);
    let pooled: Vec<f64> = candidate.iter().chain(base).copied().collect();
    let (ranks, ties) = average_ranks(&pooled);
    let rank_sum: f64 = ranks[..candidate.len()].iter().sum();
    let u = rank_sum - nc * (nc + 1.0) / 2.0;
    let n = nb + nc;
    let variance = nb * nc / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    Ok(normal_test(u, nb * nc / 2.0, variance, alternative))
}

/// The Wilcoxon signed-rank test on the differences `candidate[i] − base[i]` of at least two
/// pairs: zero differences are dropped, tied magnitudes share their average rank. The
/// statistic is W+, the rank sum of the positive differences (R's `V`). Pass logarithms to
/// test ratios.
pub fn wilcoxon_signed_rank(
    base: &[f64],
    candidate: &[f64],
    alternative: Alternative,
) -> Result<RankTest, StatsError> {
    check::same_length(base, candidate)?;
    check::sample(base, 2)?;
    check::sample(candidate, 2)?;
    let differences: Vec<f64> = base
        .iter()
        .zip(candidate)
        .map(|(b, c)| c - b)
        .filter(|d| *d != 0.0)
        .collect();
    let magnitudes: Vec<f64> = differences.iter().map(|d| d.abs()).collect();
    let (ranks, ties) = average_ranks(&magnitudes);
    let w_plus: f64 = ranks
        .iter()
        .zip(&differences)
        .filter(|(_, d)| **d > 0.0)
        .map(|(r, _)| r)
        .sum();
    let n = differences.len() as f64;
    let variance = n * (n + 1.0) * (2.0 * n + 1.0) / 24.0 - ties / 48.0;
    Ok(normal_test(
        w_plus,
        n * (n + 1.0) / 4.0,
        variance,
        alternative,
    ))
}

/// 1-based ranks of `xs` with ties given their average rank, and the tie term Σ(t³ − t) over
/// groups of t tied values.
fn average_ranks(xs: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut ranks = vec![0.0; xs.len()];
    let mut ties = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && xs[order[end]] == xs[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start + 1 ..= end.
        let average = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = average;
        }
        let t = (end - start) as f64;
        ties += t * t * t - t;
        start = end;
    }
    (ranks, ties)
}

/// The statistic against its null mean and variance, with a continuity correction of one
/// half towards the mean. No variance (every value tied, or nothing left) is no evidence.
fn normal_test(statistic: f64, mean: f64, variance: f64, alternative: Alternative) -> RankTest {
    if variance <= 0.0 {
        return RankTest {
            statistic,
            z: 0.0,
            p_value: 1.0,
        };
    }
    let sd = variance.sqrt();
    let d = statistic - mean;
    let (z, p_value) = match alternative {
        Alternative::Greater => {
            let z = (d - 0.5) / sd;
            (z, normal_cdf(-z))
        }
        Alternative::Less => {
            let z = (d + 0.5) / sd;
            (z, normal_cdf(z))
        }
        Alternative::TwoSided => {
            let z = d.signum() * (d.abs() - 0.5).max(0.0) / sd;
            (z, (2.0 * normal_cdf(-z.abs())).min(1.0))
        }
    };
    RankTest {
        statistic,
        z,
        p_value,
    }
}

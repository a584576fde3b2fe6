//! Describing one sample: `Summary` (n, mean, sample sd, CV, min, max, median), the type-7
//! `quantile` of R's and numpy's default, and `Statistic`, the value a bootstrap resamples.

use super::check;
use super::error::StatsError;

/// One sample described; `sd` is the sample standard deviation (n − 1 in the denominator).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    /// `sd / |mean|`: the noise relative to the level; NaN when the mean is 0.
    pub cv: f64,
    pub min: f64,
    pub max: f64,
    pub median: f64,
}

impl Summary {
    /// Describes `xs`: at least two finite values (one has no spread).
    pub fn of(xs: &[f64]) -> Result<Summary, StatsError> {
        check::sample(xs, 2)?;
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = xs.len();
        let mean = mean(xs);
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let cv = if mean == 0.0 {
            f64::NAN
        } else {
            sd / mean.abs()
        };
        Ok(Summary {
            n,
            mean,
            sd,
            cv,
            min: sorted[0],
            max: sorted[n - 1],
            median: quantile(&sorted, 0.5),
        })
    }
}

/// The arithmetic mean; NaN for no values.
pub(crate) fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The `q` quantile of an ascending `sorted` sample by linear interpolation between order
/// statistics (Hyndman & Fan type 7, the default of R and numpy): `h = (n − 1)·q`,
/// `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋])`. `q` is clamped to [0, 1]; NaN for an empty
/// sample or a NaN `q`.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    let (lo, frac) = position(sorted.len(), q);
    match sorted.get(lo + 1) {
        Some(&next) if frac > 0.0 => sorted[lo] + frac * (next - sorted[lo]),
        _ => sorted[lo],
    }
}

/// Type 7's lower order statistic (0-based) and the weight of the one above it.
fn position(n: usize, q: f64) -> (usize, f64) {
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(n - 1);
    (lo, h - lo as f64)
}

/// The statistic a comparison is about: the median is the robust default for timings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    Median,
    // The others are what the statistics' own tests check the bootstrap against.
    #[cfg(test)]
    Mean,
    /// The type-7 quantile at this probability, in [0, 1].
    #[cfg(test)]
    Quantile(f64),
}

impl Statistic {
    /// The statistic of `xs` in any order; NaN for an empty sample.
    pub fn of(&self, xs: &[f64]) -> f64 {
        self.of_scratch(&mut xs.to_vec())
    }

    /// The statistic of `xs`, which it may reorder: the bootstrap's hot path, with no
    /// allocation and a selection in linear time instead of a sort.
    pub(crate) fn of_scratch(&self, xs: &mut [f64]) -> f64 {
        match *self {
            #[cfg(test)]
            Statistic::Mean => mean(xs),
            Statistic::Median => selected_quantile(xs, 0.5),
            #[cfg(test)]
            Statistic::Quantile(q) => selected_quantile(xs, q),
        }
    }

    /// A quantile outside [0, 1] is a mistake, not something to clamp silently.
    pub(crate) fn check(&self) -> Result<(), StatsError> {
        match *self {
            #[cfg(test)]
            Statistic::Quantile(q) => check::within("quantile", q, 0.0, 1.0),
            _ => Ok(()),
        }
    }
}

/// `quantile` of an unsorted sample, reordering it: the two order statistics type 7 needs are
/// the `lo`-th (selected) and the smallest value above it.
fn selected_quantile(xs: &mut [f64], q: f64) -> f64 {
    if xs.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    let (lo, frac) = position(xs.len(), q);
    let (_, &mut at, above) = xs.select_nth_unstable_by(lo, f64::total_cmp);
    if frac == 0.0 || above.is_empty() {
        return at;
    }
    let next = above.iter().copied().min_by(f64::total_cmp).unwrap_or(at);
    at + frac * (next - at)
}

//! Input checks shared by the statistics: finite samples of a minimum size, positive bases
//! for ratios, confidences and probabilities strictly between 0 and 1.

use super::error::StatsError;

/// `xs` has at least `needed` values, all finite.
pub(crate) fn sample(xs: &[f64], needed: usize) -> Result<(), StatsError> {
    if xs.len() < needed {
        return Err(StatsError::TooFewSamples {
            needed,
            got: xs.len(),
        });
    }
    if xs.iter().any(|x| !x.is_finite()) {
        return Err(StatsError::NonFinite);
    }
    Ok(())
}

/// Every value is above zero (a base a ratio divides by).
pub(crate) fn positive(xs: &[f64]) -> Result<(), StatsError> {
    if xs.iter().all(|&x| x > 0.0) {
        Ok(())
    } else {
        Err(StatsError::NonPositiveBase)
    }
}

/// Two paired samples have one value per pair.
pub(crate) fn same_length(base: &[f64], candidate: &[f64]) -> Result<(), StatsError> {
    if base.len() == candidate.len() {
        Ok(())
    } else {
        Err(StatsError::LengthMismatch {
            base: base.len(),
            candidate: candidate.len(),
        })
    }
}

/// A confidence level strictly between 0 and 1.
pub(crate) fn confidence(c: f64) -> Result<(), StatsError> {
    if c > 0.0 && c < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidConfidence(c))
    }
}

/// A setting that must lie in `[low, high]` (NaN never does).
pub(crate) fn within(
    name: &'static str,
    value: f64,
    low: f64,
    high: f64,
) -> Result<(), StatsError> {
    if value >= low && value <= high {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter { name, value })
    }
}

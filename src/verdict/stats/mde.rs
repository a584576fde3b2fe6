//! The minimum detectable shift: the smallest relative change a design (n runs per side,
//! a one-sided confidence, a power) finds reliably, from the run-to-run noise. A tolerance
//! tighter than it makes a gate that measures noise.

use super::check;
use super::error::StatsError;
use super::normal::normal_inverse_cdf;
use super::summary::Summary;

/// `(z_c + z_power) · cv · √(2 / n)`: the relative shift a one-sided comparison at confidence
/// `c` detects with probability `power` when each side has `n_per_side` runs of noise `cv`
/// (two-sample normal approximation). Infinite for no runs; NaN for a negative or non-finite
/// `cv` or a `confidence` or `power` not strictly between 0 and 1.
pub fn detectable_shift(cv: f64, n_per_side: usize, confidence: f64, power: f64) -> f64 {
    let valid = cv.is_finite()
        && cv >= 0.0
        && check::confidence(confidence).is_ok()
        && check::confidence(power).is_ok();
    if !valid {
        return f64::NAN;
    }
    if n_per_side == 0 {
        return f64::INFINITY;
    }
    let z = normal_inverse_cdf(confidence) + normal_inverse_cdf(power);
    z * cv * (2.0 / n_per_side as f64).sqrt()
}

/// `detectable_shift` with the noise taken from A/A paired ratios (an unchanged build against
/// itself): the sd of ln(ratio) is √2 · cv for independent runs, so cv = sd(ln r) / √2. Pairs
/// that share the machine's drift have a smaller spread, and a paired design the smaller shift
/// this returns. Needs at least two finite, positive ratios.
pub fn detectable_shift_from_aa(
    aa_ratios: &[f64],
    n_per_side: usize,
    confidence: f64,
    power: f64,
) -> Result<f64, StatsError> {
    check::sample(aa_ratios, 2)?;
    check::positive(aa_ratios)?;
    check::confidence(confidence)?;
    check::confidence(power).map_err(|_| StatsError::InvalidParameter {
        name: "power",
        value: power,
    })?;
    let logs: Vec<f64> = aa_ratios.iter().map(|r| r.ln()).collect();
    let cv = Summary::of(&logs)?.sd / 2.0_f64.sqrt();
    Ok(detectable_shift(cv, n_per_side, confidence, power))
}

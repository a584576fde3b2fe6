//! `perfgate calibrate`: what a comparison can tell at this machine's noise. From an A/A run (the
//! base against itself) it takes each claim's per-pair ratios and works out their spread, the
//! smallest shift the spec's design detects, the smallest one a time budget allows, and whether
//! the claim's tolerance is tighter than the noise allows (a gate that would measure noise).

use std::time::Duration;

use super::stats::{Summary, detectable_shift_from_aa};
use crate::spec::Versus;

/// The chance a real shift of the detectable size is caught (the usual 80 %).
pub const POWER: f64 = 0.8;
/// The most pairs a suggestion goes up to.
const MAX_PAIRS: u32 = 200;

/// What the A/A repetitions say about one claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// A/A ratios candidate/base, one per pair.
    pub pairs: usize,
    /// The ratios' spread: their coefficient of variation (sd of ln ratio).
    pub ratio_cv: f64,
    /// The smallest relative shift the spec's `repeat` detects at the claim's confidence and
    /// [`POWER`] (0.12 = 12 %).
    pub detectable_at_repeat: f64,
    /// Pairs that fit in the time budget, and the shift they detect.
    pub pairs_in_budget: u32,
    pub detectable_in_budget: f64,
    /// The claim's tolerance is below what the spec's `repeat` detects.
    pub too_tight: bool,
    /// The fewest pairs that detect the claim's tolerance (`None`: more than [`MAX_PAIRS`]).
    pub pairs_needed: Option<u32>,
}

/// Calibrates `claim` from A/A `ratios`, for a spec of `repeat` pairs taking `pair_time` each.
pub fn calibrate(
    claim: Versus,
    ratios: &[f64],
    repeat: u32,
    pair_time: Duration,
    budget: Duration,
) -> Result<Calibration, String> {
    let at = |pairs: u32| {
        detectable_shift_from_aa(ratios, pairs as usize, claim.confidence, POWER)
            .map_err(|e| e.to_string())
    };
    let detectable_at_repeat = at(repeat)?;
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let ratio_cv = Summary::of(&logs).map_err(|e| e.to_string())?.sd;
    let pairs_in_budget = if pair_time.is_zero() {
        0
    } else {
        (budget.as_secs_f64() / pair_time.as_secs_f64()).floor() as u32
    };
    let detectable_in_budget = if pairs_in_budget >= 2 {
        at(pairs_in_budget)?
    } else {
        f64::INFINITY
    };
    let pairs_needed =
        (2..=MAX_PAIRS).find(|&n| at(n).is_ok_and(|shift| shift <= claim.tolerance));
    Ok(Calibration {
        pairs: ratios.len(),
        ratio_cv,
        detectable_at_repeat,
        pairs_in_budget,
        detectable_in_budget,
        too_tight: claim.tolerance < detectable_at_repeat,
        pairs_needed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Side;
    use crate::verdict::stats::detectable_shift;

    fn claim(tolerance: f64) -> Versus {
        Versus {
            side: Side::Above,
            tolerance,
            confidence: 0.95,
        }
    }

    /// A/A ratios with a spread of about `spread` (alternating around 1).
    fn ratios(spread: f64) -> Vec<f64> {
        (0..10)
            .map(|i| 1.0 + spread * if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect()
    }

    #[test]
    fn a_tolerance_below_the_noise_is_flagged_with_the_pairs_it_needs() {
        let minute = Duration::from_secs(60);
        let quiet = calibrate(claim(0.10), &ratios(0.02), 5, Duration::from_secs(10), minute)
            .unwrap();
        assert!(!quiet.too_tight, "{quiet:?}");
        assert_eq!(quiet.pairs_in_budget, 6);
        assert!(quiet.detectable_at_repeat < 0.10, "{quiet:?}");

        let noisy = calibrate(claim(0.10), &ratios(0.20), 5, Duration::from_secs(10), minute)
            .unwrap();
        assert!(noisy.too_tight, "{noisy:?}");
        let needed = noisy.pairs_needed.expect("reachable");
        assert!(needed > 5, "{noisy:?}");
        let cv = noisy.ratio_cv / 2.0_f64.sqrt();
        assert!(detectable_shift(cv, needed as usize, 0.95, POWER) <= 0.10);
        assert!(detectable_shift(cv, needed as usize - 1, 0.95, POWER) > 0.10);
    }

    #[test]
    fn a_longer_budget_detects_a_smaller_shift() {
        let pair = Duration::from_secs(10);
        let short = calibrate(claim(0.1), &ratios(0.1), 5, pair, Duration::from_secs(30)).unwrap();
        let long = calibrate(claim(0.1), &ratios(0.1), 5, pair, Duration::from_secs(120)).unwrap();
        assert!(long.detectable_in_budget < short.detectable_in_budget);
        let none = calibrate(claim(0.1), &ratios(0.1), 5, pair, Duration::from_secs(15)).unwrap();
        assert!(none.detectable_in_budget.is_infinite(), "one pair cannot detect anything");
    }

    #[test]
    fn too_few_ratios_is_an_error_not_a_calibration() {
        assert!(calibrate(claim(0.1), &[1.0], 5, Duration::from_secs(1), Duration::ZERO).is_err());
    }
}

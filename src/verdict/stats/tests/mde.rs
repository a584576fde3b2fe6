//! The minimum detectable shift, by hand and in how it moves with noise and runs.

use rstest::rstest;

use super::assert_close;
use crate::verdict::stats::{StatsError, detectable_shift, detectable_shift_from_aa};

/// (1.644854 + 0.841621) · 0.1 · √(2/10) = 0.111199.
#[test]
fn matches_the_hand_computed_value() {
    assert_close(
        detectable_shift(0.1, 10, 0.95, 0.8),
        0.111_198_536_249_536_7,
        1e-9,
    );
}

#[test]
fn shrinks_with_runs_and_grows_with_noise() {
    let by_n: Vec<f64> = (2..50)
        .map(|n| detectable_shift(0.1, n, 0.95, 0.8))
        .collect();
    assert!(by_n.windows(2).all(|w| w[1] < w[0]), "{by_n:?}");
    let by_cv: Vec<f64> = (1..20)
        .map(|i| detectable_shift(f64::from(i) * 0.02, 10, 0.95, 0.8))
        .collect();
    assert!(by_cv.windows(2).all(|w| w[1] > w[0]), "{by_cv:?}");
    // Four times the runs halve it.
    assert_close(
        detectable_shift(0.1, 40, 0.95, 0.8),
        detectable_shift(0.1, 10, 0.95, 0.8) / 2.0,
        1e-12,
    );
}

#[rstest]
#[case::no_runs(0.1, 0, 0.95, 0.8, f64::INFINITY)]
#[case::no_noise(0.0, 10, 0.95, 0.8, 0.0)]
fn edges(
    #[case] cv: f64,
    #[case] n: usize,
    #[case] confidence: f64,
    #[case] power: f64,
    #[case] expected: f64,
) {
    assert_eq!(detectable_shift(cv, n, confidence, power), expected);
}

#[rstest]
#[case::negative_cv(-0.1, 0.95, 0.8)]
#[case::nan_cv(f64::NAN, 0.95, 0.8)]
#[case::confidence_one(0.1, 1.0, 0.8)]
#[case::power_zero(0.1, 0.95, 0.0)]
fn nonsense_is_nan(#[case] cv: f64, #[case] confidence: f64, #[case] power: f64) {
    assert!(detectable_shift(cv, 10, confidence, power).is_nan());
}

/// ln ratios ±0.1: sd 0.11547, cv = sd / √2, so with 20 runs 2.486475 · 0.11547 / √20.
#[test]
fn from_aa_ratios_by_hand() {
    let (up, down) = (0.1_f64.exp(), (-0.1_f64).exp());
    let shift = detectable_shift_from_aa(&[up, down, up, down], 20, 0.95, 0.8).expect("valid");
    assert_close(shift, 0.064_200_504_837_162_37, 1e-9);
}

#[rstest]
#[case::one_ratio(&[1.0], 0.95, 0.8, StatsError::TooFewSamples { needed: 2, got: 1 })]
#[case::zero_ratio(&[1.0, 0.0], 0.95, 0.8, StatsError::NonPositiveBase)]
#[case::nan_ratio(&[1.0, f64::NAN], 0.95, 0.8, StatsError::NonFinite)]
#[case::confidence(&[1.0, 1.1], 1.5, 0.8, StatsError::InvalidConfidence(1.5))]
#[case::power(&[1.0, 1.1], 0.95, 1.0, StatsError::InvalidParameter { name: "power", value: 1.0 })]
fn from_aa_refuses(
    #[case] ratios: &[f64],
    #[case] confidence: f64,
    #[case] power: f64,
    #[case] expected: StatsError,
) {
    assert_eq!(
        detectable_shift_from_aa(ratios, 10, confidence, power),
        Err(expected)
    );
}

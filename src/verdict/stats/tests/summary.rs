//! `quantile` (type 7), `Statistic` and `Summary`.

use rstest::rstest;

use super::{assert_close, normal_sample};
use crate::verdict::stats::{Statistic, StatsError, Summary, quantile};

#[rstest]
#[case::minimum(&[1.0, 2.0, 3.0, 4.0], 0.0, 1.0)]
#[case::lower_quartile(&[1.0, 2.0, 3.0, 4.0], 0.25, 1.75)]
#[case::median_between(&[1.0, 2.0, 3.0, 4.0], 0.5, 2.5)]
#[case::upper_quartile(&[1.0, 2.0, 3.0, 4.0], 0.75, 3.25)]
#[case::maximum(&[1.0, 2.0, 3.0, 4.0], 1.0, 4.0)]
#[case::tenth(&[1.0, 3.0, 7.0, 15.0, 31.0], 0.1, 1.8)]
#[case::ninetieth(&[1.0, 3.0, 7.0, 15.0, 31.0], 0.9, 24.6)]
#[case::median_on_a_value(&[1.0, 3.0, 7.0, 15.0, 31.0], 0.5, 7.0)]
#[case::single_value(&[10.0], 0.3, 10.0)]
#[case::below_zero_clamps(&[1.0, 3.0, 7.0], -1.0, 1.0)]
#[case::above_one_clamps(&[1.0, 3.0, 7.0], 2.0, 7.0)]
#[case::ties(&[2.0, 2.0, 2.0, 5.0], 0.9, 4.1)]
fn quantile_is_type_7(#[case] sorted: &[f64], #[case] q: f64, #[case] expected: f64) {
    assert_close(quantile(sorted, q), expected, 1e-12);
}

#[test]
fn quantile_of_nothing_or_at_nan_is_nan() {
    assert!(quantile(&[], 0.5).is_nan());
    assert!(quantile(&[1.0, 2.0], f64::NAN).is_nan());
    assert!(Statistic::Median.of(&[]).is_nan());
}

/// The bootstrap's selection in linear time agrees with sorting and interpolating.
#[test]
fn statistic_of_unsorted_sample_matches_quantile_of_sorted() {
    for (seed, n) in [(1, 2), (2, 3), (3, 10), (4, 31), (5, 100)] {
        let xs = normal_sample(seed, n, 50.0, 10.0);
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.05, 0.25, 0.5, 0.9, 0.99, 1.0] {
            assert_close(Statistic::Quantile(q).of(&xs), quantile(&sorted, q), 1e-12);
        }
        assert_close(Statistic::Median.of(&xs), quantile(&sorted, 0.5), 1e-12);
        assert_close(
            Statistic::Mean.of(&xs),
            xs.iter().sum::<f64>() / n as f64,
            1e-12,
        );
    }
}

#[test]
fn summary_of_a_textbook_sample() {
    let s = Summary::of(&[5.0, 2.0, 4.0, 9.0, 4.0, 4.0, 7.0, 5.0]).expect("a valid sample");
    assert_eq!(s.n, 8);
    assert_close(s.mean, 5.0, 1e-12);
    assert_close(s.sd, 2.138_089_935_299_395, 1e-12);
    assert_close(s.cv, 2.138_089_935_299_395 / 5.0, 1e-12);
    assert_eq!((s.min, s.max), (2.0, 9.0));
    assert_close(s.median, 4.5, 1e-12);
}

#[test]
fn summary_cv_of_a_zero_mean_is_nan() {
    let s = Summary::of(&[-1.0, 1.0]).expect("a valid sample");
    assert!(s.cv.is_nan());
    assert_close(s.sd, 2.0_f64.sqrt(), 1e-12);
}

#[rstest]
#[case::empty(&[], StatsError::TooFewSamples { needed: 2, got: 0 })]
#[case::one(&[1.0], StatsError::TooFewSamples { needed: 2, got: 1 })]
#[case::nan(&[1.0, f64::NAN], StatsError::NonFinite)]
#[case::infinite(&[f64::INFINITY, 1.0, 2.0], StatsError::NonFinite)]
fn summary_rejects(#[case] xs: &[f64], #[case] expected: StatsError) {
    assert_eq!(Summary::of(xs), Err(expected));
}

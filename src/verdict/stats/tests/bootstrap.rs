//! Bootstrap intervals: a known shift is found, no shift is not, the stated coverage holds,
//! the same seed gives the same interval, and bad input is refused.

use rstest::rstest;

use super::{lognormal_sample, normal_sample};
use crate::verdict::stats::{Bootstrap, Comparison, Interval, Statistic, StatsError};

/// The three designs on seeded samples of 30 runs a side, the candidate `shift` times the base:
/// lognormal medians (timings), normal means, and pairs that share a per-pair drift of ±30 %
/// that only the paired design cancels.
fn interval_for(design: &str, seed: u64, shift: f64) -> Interval {
    let bootstrap = Bootstrap::default();
    let n = 30;
    let result = match design {
        "lognormal median" => {
            let base = lognormal_sample(seed, n, 10.0, 0.1);
            let candidate: Vec<f64> = lognormal_sample(seed + 1000, n, 10.0, 0.1)
                .iter()
                .map(|x| x * shift)
                .collect();
            bootstrap.independent(&base, &candidate, Statistic::Median, Comparison::Ratio)
        }
        "normal mean" => {
            let base = normal_sample(seed, n, 100.0, 10.0);
            let candidate = normal_sample(seed + 1000, n, 100.0 * shift, 10.0 * shift);
            bootstrap.independent(&base, &candidate, Statistic::Mean, Comparison::Ratio)
        }
        "paired with drift" => {
            let drift = lognormal_sample(seed + 2000, n, 1.0, 0.3);
            let base: Vec<f64> = lognormal_sample(seed, n, 10.0, 0.05)
                .iter()
                .zip(&drift)
                .map(|(x, d)| x * d)
                .collect();
            let candidate: Vec<f64> = lognormal_sample(seed + 1000, n, 10.0 * shift, 0.05)
                .iter()
                .zip(&drift)
                .map(|(x, d)| x * d)
                .collect();
            bootstrap.paired(&base, &candidate, Comparison::Ratio)
        }
        other => panic!("no design {other}"),
    };
    result.expect("valid samples")
}

#[rstest]
#[case::lognormal_median("lognormal median", 1)]
#[case::lognormal_median_other_seed("lognormal median", 2)]
#[case::normal_mean("normal mean", 3)]
#[case::paired_with_drift("paired with drift", 4)]
fn a_20_percent_shift_is_found(#[case] design: &str, #[case] seed: u64) {
    let interval = interval_for(design, seed, 1.2);
    assert!(
        interval.low <= 1.2 && 1.2 <= interval.high,
        "{design}: {interval:?} misses the true ratio 1.2"
    );
    assert!(
        interval.low > 1.0,
        "{design}: {interval:?} does not exclude 1.0"
    );
    assert!(interval.low <= interval.estimate && interval.estimate <= interval.high);
    assert_eq!(interval.comparison, Some(Comparison::Ratio));
}

#[rstest]
#[case::lognormal_median("lognormal median", 5)]
#[case::normal_mean("normal mean", 6)]
#[case::paired_with_drift("paired with drift", 7)]
fn an_unchanged_build_contains_1(#[case] design: &str, #[case] seed: u64) {
    let interval = interval_for(design, seed, 1.0);
    assert!(
        interval.low <= 1.0 && 1.0 <= interval.high,
        "{design}: {interval:?} excludes 1.0 in an A/A comparison"
    );
}

#[test]
fn a_difference_is_on_the_samples_scale() {
    let base = normal_sample(11, 30, 100.0, 10.0);
    let candidate = normal_sample(12, 30, 120.0, 10.0);
    let interval = Bootstrap::default()
        .independent(&base, &candidate, Statistic::Mean, Comparison::Difference)
        .expect("valid samples");
    assert!(
        interval.low <= 20.0 && 20.0 <= interval.high,
        "{interval:?}"
    );
    assert!(interval.low > 0.0, "{interval:?}");
    assert_eq!(interval.comparison, Some(Comparison::Difference));
}

/// A paired design sees through drift that hides the shift from independent samples.
#[test]
fn pairing_cancels_shared_drift() {
    let paired = interval_for("paired with drift", 4, 1.2);
    let drift = lognormal_sample(4 + 2000, 30, 1.0, 0.3);
    let shifted = |seed, median| -> Vec<f64> {
        lognormal_sample(seed, 30, median, 0.05)
            .iter()
            .zip(&drift)
            .map(|(x, d)| x * d)
            .collect()
    };
    let independent = Bootstrap::default()
        .independent(
            &shifted(4, 10.0),
            &shifted(1004, 12.0),
            Statistic::Median,
            Comparison::Ratio,
        )
        .expect("valid samples");
    assert!(
        paired.high - paired.low < (independent.high - independent.low) / 3.0,
        "paired {paired:?} is not much narrower than independent {independent:?}"
    );
}

/// Over 200 seeded experiments the 95 % interval for the mean of a normal sample of 30 covers
/// the true mean in 90–99 % of them (the percentile bootstrap runs slightly below nominal).
#[test]
fn coverage_of_the_mean_is_near_nominal() {
    let covered = (0..200_u64)
        .filter(|&seed| {
            let xs = normal_sample(seed, 30, 5.0, 2.0);
            let bootstrap = Bootstrap {
                resamples: 1000,
                confidence: 0.95,
                seed: seed ^ 0xABCD,
            };
            let interval = bootstrap
                .one_sample(&xs, Statistic::Mean)
                .expect("a valid sample");
            interval.low <= 5.0 && 5.0 <= interval.high
        })
        .count();
    assert!((180..=198).contains(&covered), "covered {covered} of 200");
}

#[test]
fn the_same_seed_gives_the_same_interval() {
    let xs = lognormal_sample(21, 25, 10.0, 0.2);
    let at = |seed| {
        Bootstrap {
            seed,
            ..Bootstrap::default()
        }
        .one_sample(&xs, Statistic::Mean)
        .expect("a valid sample")
    };
    assert_eq!(at(7), at(7));
    assert_ne!(at(7).low, at(8).low);
    let interval = at(7);
    assert_eq!(interval.estimate, Statistic::Mean.of(&xs));
    assert_eq!(interval.comparison, None);
    assert_eq!(interval.confidence, 0.95);
}

#[test]
fn a_wider_confidence_gives_a_wider_interval() {
    let xs = normal_sample(31, 20, 0.0, 1.0);
    let at = |confidence| {
        Bootstrap {
            confidence,
            ..Bootstrap::default()
        }
        .one_sample(&xs, Statistic::Median)
        .expect("a valid sample")
    };
    let (narrow, wide) = (at(0.8), at(0.99));
    assert!(wide.low < narrow.low && narrow.high < wide.high);
}

fn with(resamples: usize, confidence: f64) -> Bootstrap {
    Bootstrap {
        resamples,
        confidence,
        seed: 1,
    }
}

#[rstest]
#[case::one_value(with(100, 0.95).one_sample(&[1.0], Statistic::Mean),
    StatsError::TooFewSamples { needed: 2, got: 1 })]
#[case::nan(with(100, 0.95).one_sample(&[1.0, f64::NAN], Statistic::Mean), StatsError::NonFinite)]
#[case::quantile_above_one(with(100, 0.95).one_sample(&[1.0, 2.0], Statistic::Quantile(1.5)),
    StatsError::InvalidParameter { name: "quantile", value: 1.5 })]
#[case::no_resamples(with(0, 0.95).one_sample(&[1.0, 2.0], Statistic::Mean),
    StatsError::InvalidParameter { name: "resamples", value: 0.0 })]
#[case::confidence_one(with(100, 1.0).one_sample(&[1.0, 2.0], Statistic::Mean),
    StatsError::InvalidConfidence(1.0))]
#[case::confidence_zero(with(100, 0.0).paired(&[1.0, 2.0], &[1.0, 2.0], Comparison::Ratio),
    StatsError::InvalidConfidence(0.0))]
#[case::zero_base(with(100, 0.95)
    .independent(&[0.0, 2.0], &[1.0, 2.0], Statistic::Median, Comparison::Ratio),
    StatsError::NonPositiveBase)]
#[case::negative_paired_base(with(100, 0.95).paired(&[-1.0, 2.0], &[1.0, 2.0], Comparison::Ratio),
    StatsError::NonPositiveBase)]
#[case::candidate_too_small(with(100, 0.95)
    .independent(&[1.0, 2.0], &[1.0], Statistic::Median, Comparison::Difference),
    StatsError::TooFewSamples { needed: 2, got: 1 })]
#[case::infinite_candidate(with(100, 0.95)
    .independent(&[1.0, 2.0], &[1.0, f64::INFINITY], Statistic::Mean, Comparison::Difference),
    StatsError::NonFinite)]
#[case::unpaired(with(100, 0.95).paired(&[1.0, 2.0, 3.0], &[1.0, 2.0], Comparison::Difference),
    StatsError::LengthMismatch { base: 3, candidate: 2 })]
fn bad_input_is_refused(
    #[case] result: Result<Interval, StatsError>,
    #[case] expected: StatsError,
) {
    assert_eq!(result, Err(expected));
}

#[test]
fn a_difference_allows_non_positive_values() {
    let result =
        with(100, 0.95).paired(&[-1.0, 0.0, 2.0], &[0.0, 1.0, 2.0], Comparison::Difference);
    let interval = result.expect("differences need no positive base");
    assert_eq!(interval.estimate, 1.0);
}

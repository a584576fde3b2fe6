//! Expectations judged on intervals: every expectation against an interval inside, outside,
//! straddling its tolerance, and against an error.

use rstest::rstest;

use super::lognormal_sample;
use crate::verdict::stats::{
    Bootstrap, Comparison, Expectation, Interval, Judgement, Statistic, StatsError, Why,
    interval_confidence,
};

fn ratio(low: f64, high: f64) -> Result<Interval, StatsError> {
    on(Some(Comparison::Ratio), low, high)
}

fn difference(low: f64, high: f64) -> Result<Interval, StatsError> {
    on(Some(Comparison::Difference), low, high)
}

fn on(comparison: Option<Comparison>, low: f64, high: f64) -> Result<Interval, StatsError> {
    Ok(Interval {
        estimate: (low + high) / 2.0,
        low,
        high,
        confidence: 0.9,
        comparison,
    })
}

fn error() -> Result<Interval, StatsError> {
    Err(StatsError::TooFewSamples { needed: 2, got: 1 })
}

const STRADDLES: Judgement = Judgement::Inconclusive(Why::Straddles);

#[rstest]
#[case::at_most_inside(Expectation::AtMost(1.10), ratio(0.95, 1.05), Judgement::Pass)]
#[case::at_most_on_the_edge(Expectation::AtMost(1.10), ratio(1.0, 1.10), Judgement::Pass)]
#[case::at_most_outside(Expectation::AtMost(1.10), ratio(1.15, 1.30), Judgement::Fail)]
#[case::at_most_straddling(Expectation::AtMost(1.10), ratio(1.05, 1.15), STRADDLES)]
#[case::at_most_from_the_edge(Expectation::AtMost(1.10), ratio(1.10, 1.20), STRADDLES)]
#[case::at_least_inside(Expectation::AtLeast(0.90), ratio(0.95, 1.05), Judgement::Pass)]
#[case::at_least_outside(Expectation::AtLeast(0.90), ratio(0.70, 0.85), Judgement::Fail)]
#[case::at_least_straddling(Expectation::AtLeast(0.90), ratio(0.85, 0.95), STRADDLES)]
#[case::within_inside(Expectation::Within(0.10), ratio(0.95, 1.05), Judgement::Pass)]
#[case::within_above(Expectation::Within(0.10), ratio(1.15, 1.30), Judgement::Fail)]
#[case::within_below(Expectation::Within(0.10), ratio(0.70, 0.85), Judgement::Fail)]
#[case::within_straddling(Expectation::Within(0.10), ratio(1.05, 1.15), STRADDLES)]
#[case::within_wider_than_band(Expectation::Within(0.10), ratio(0.85, 1.15), STRADDLES)]
#[case::within_difference_inside(Expectation::Within(5.0), difference(-2.0, 3.0), Judgement::Pass)]
#[case::within_difference_outside(Expectation::Within(5.0), difference(6.0, 9.0), Judgement::Fail)]
#[case::within_difference_straddling(Expectation::Within(5.0), difference(3.0, 7.0), STRADDLES)]
#[case::at_most_absolute(Expectation::AtMost(50.0), on(None, 40.0, 45.0), Judgement::Pass)]
#[case::at_least_absolute(Expectation::AtLeast(50.0), on(None, 40.0, 45.0), Judgement::Fail)]
fn judged_on_the_interval(
    #[case] expectation: Expectation,
    #[case] interval: Result<Interval, StatsError>,
    #[case] expected: Judgement,
) {
    assert_eq!(
        expectation.judge(&interval),
        expected,
        "{expectation:?} on {interval:?}"
    );
}

#[rstest]
#[case::at_most_error(Expectation::AtMost(1.10), error(), "too few samples")]
#[case::at_least_error(Expectation::AtLeast(0.90), error(), "too few samples")]
#[case::within_error(Expectation::Within(0.10), error(), "too few samples")]
#[case::within_one_sample(Expectation::Within(0.10), on(None, 0.95, 1.05), "needs a comparison")]
#[case::within_negative(Expectation::Within(-0.1), ratio(0.95, 1.05), "not a finite number")]
#[case::at_most_nan(
    Expectation::AtMost(f64::NAN),
    ratio(0.95, 1.05),
    "not a finite number"
)]
#[case::nan_bound(Expectation::AtMost(1.1), ratio(f64::NAN, 1.05), "is not an interval")]
#[case::reversed(Expectation::AtLeast(0.9), ratio(1.05, 0.95), "is not an interval")]
fn no_interval_is_inconclusive_never_pass_or_fail(
    #[case] expectation: Expectation,
    #[case] interval: Result<Interval, StatsError>,
    #[case] says: &str,
) {
    match expectation.judge(&interval) {
        Judgement::Inconclusive(Why::Invalid(why)) => assert!(why.contains(says), "{why}"),
        other => panic!("{expectation:?} on {interval:?} gave {other:?}"),
    }
}

#[rstest]
#[case(0.95, 0.90)]
#[case(0.975, 0.95)]
#[case(0.995, 0.99)]
fn a_one_sided_claim_uses_a_narrower_two_sided_interval(#[case] one: f64, #[case] two: f64) {
    assert!((interval_confidence(one) - two).abs() < 1e-12);
}

/// From samples to verdict at 5 % noise and 30 runs a side: a 20 % regression fails "at most
/// 10 % above" at 95 %, an unchanged build passes it, and one exactly at the tolerance is
/// inconclusive.
#[rstest]
#[case::regression(1.2, Judgement::Fail)]
#[case::unchanged(1.0, Judgement::Pass)]
#[case::at_the_tolerance(1.1, STRADDLES)]
fn samples_to_verdict(#[case] shift: f64, #[case] expected: Judgement) {
    let bootstrap = Bootstrap {
        confidence: interval_confidence(0.95),
        ..Bootstrap::default()
    };
    let base = lognormal_sample(41, 30, 10.0, 0.05);
    let candidate: Vec<f64> = lognormal_sample(42, 30, 10.0, 0.05)
        .iter()
        .map(|x| x * shift)
        .collect();
    let interval = bootstrap.independent(&base, &candidate, Statistic::Median, Comparison::Ratio);
    assert_eq!(
        Expectation::AtMost(1.10).judge(&interval),
        expected,
        "{interval:?}"
    );
}

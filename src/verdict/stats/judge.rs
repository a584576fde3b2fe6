//! Expectations judged on a confidence interval, not on a point: PASS when the whole interval
//! satisfies the tolerance, FAIL when the whole interval violates it, INCONCLUSIVE when it
//! straddles the tolerance or could not be computed. Inconclusive is neither a pass nor a fail.
//!
//! A one-sided claim ("at most 10 % above", at confidence c) uses only one bound of a
//! two-sided interval, so that interval is computed at `interval_confidence(c) = 2c − 1`
//! (90 % for a 95 % claim): its upper bound is then a one-sided c bound. `Within` is two
//! one-sided claims at once (an equivalence test, TOST), and holds at c with the same interval.

use super::bootstrap::Interval;
use super::error::StatsError;

/// A tolerance on the interval's scale: a ratio's (`AtMost(1.10)` = "at most 10 % above"), a
/// difference's (in the samples' unit) or, for one sample, the statistic's own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expectation {
    /// The value is at most this.
    AtMost(f64),
    /// The value is at least this.
    AtLeast(f64),
    /// The comparison stays this close to "no change": inside [1 − t, 1 + t] for a ratio,
    /// [−t, t] for a difference. Needs an interval of a comparison.
    Within(f64),
}

/// A verdict with a stated confidence.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    Pass,
    Fail,
    Inconclusive(Why),
}

/// Why a judgement is inconclusive.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// The interval reaches both sides of the tolerance: more data or less noise would decide.
    Straddles,
    /// There is no usable interval; the message says why.
    Invalid(String),
}

/// The two-sided confidence of the interval a one-sided claim at `one_sided` is judged on.
pub fn interval_confidence(one_sided: f64) -> f64 {
    2.0 * one_sided - 1.0
}

impl Expectation {
    /// Judges `interval`; an error is `Inconclusive(Invalid)`, never a pass or a fail.
    pub fn judge(&self, interval: &Result<Interval, StatsError>) -> Judgement {
        let interval = match interval {
            Ok(interval) => interval,
            Err(e) => return invalid(e.to_string()),
        };
        let (low, high) = (interval.low, interval.high);
        if !(low.is_finite() && high.is_finite() && low <= high) {
            return invalid(format!("the interval [{low}, {high}] is not an interval"));
        }
        match *self {
            Expectation::AtMost(t) | Expectation::AtLeast(t) if !t.is_finite() => {
                invalid(format!("the tolerance {t} is not a finite number"))
            }
            Expectation::AtMost(t) => decide(high <= t, low > t),
            Expectation::AtLeast(t) => decide(low >= t, high < t),
            Expectation::Within(t) => {
                let Some(comparison) = interval.comparison else {
                    return invalid("`within` needs a comparison of two samples".to_owned());
                };
                if !(t.is_finite() && t >= 0.0) {
                    return invalid(format!("the tolerance {t} is not a finite number ≥ 0"));
                }
                let (lo, hi) = (comparison.neutral() - t, comparison.neutral() + t);
                decide(low >= lo && high <= hi, high < lo || low > hi)
            }
        }
    }
}

fn decide(pass: bool, fail: bool) -> Judgement {
    if pass {
        Judgement::Pass
    } else if fail {
        Judgement::Fail
    } else {
        Judgement::Inconclusive(Why::Straddles)
    }
}

fn invalid(why: String) -> Judgement {
    Judgement::Inconclusive(Why::Invalid(why))
}

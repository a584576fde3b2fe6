//! What every verdict judged on a bootstrap interval shares (`compare:` claims, `repeat:`
//! thresholds, repeated runs against a baseline distribution): the bootstrap drawn for a claim's
//! confidence, the bound a relative claim sets, how an interval reads, and a judgement made an
//! outcome with its reason.

use std::fmt::Display;

use super::stats::{Bootstrap, Expectation as Bound, Interval, Judgement, Why, interval_confidence};
use crate::report::{Outcome, format_value};
use crate::spec::Side;

/// Bootstrap resamples: an interval's ends move by well under 1 % between seeds at this count.
const RESAMPLES: usize = 10_000;

/// The bootstrap for a claim made at `confidence`: its two-sided interval is the 2c − 1 one,
/// whose ends are one-sided bounds at `confidence`.
pub(super) fn bootstrap(confidence: f64, seed: u64) -> Bootstrap {
    Bootstrap {
        resamples: RESAMPLES,
        confidence: interval_confidence(confidence),
        seed,
    }
}

/// The bound of a relative claim `tolerance` away from `neutral` (1 for a ratio, 0 for a
/// difference) on `side`.
pub(super) fn relative_bound(side: Side, tolerance: f64, neutral: f64) -> Bound {
    match side {
        Side::Above => Bound::AtMost(neutral + tolerance),
        Side::Below => Bound::AtLeast(neutral - tolerance),
        Side::Both => Bound::Within(tolerance),
    }
}

/// `{what} 1.21 (90% interval 1.15..1.28, {count})`, its figures written by `show`.
pub(super) fn describe(what: &str, interval: &Interval, count: &str, show: fn(f64) -> String) -> String {
    format!(
        "{what} {} ({}% interval {}..{}, {count})",
        show(interval.estimate),
        format_value((interval.confidence * 100.0).round()),
        show(interval.low),
        show(interval.high),
    )
}

/// A ratio to three decimals: its noise is far above that.
pub(super) fn ratio(v: f64) -> String {
    format_value((v * 1000.0).round() / 1000.0)
}

/// The outcome of `judgement` on what was `measured` for `claim`; `narrower` says what would
/// narrow a straddling interval.
pub(super) fn outcome(
    judgement: Judgement,
    measured: &str,
    claim: &dyn Display,
    narrower: &str,
) -> Outcome {
    match judgement {
        Judgement::Pass => Outcome::Pass,
        Judgement::Fail => Outcome::Fail {
            reasons: vec![format!("{measured}: breaks `{claim}`")],
        },
        Judgement::Inconclusive(Why::Straddles) => Outcome::Inconclusive {
            reasons: vec![format!(
                "{measured} straddles `{claim}`: {narrower} would narrow it"
            )],
        },
        Judgement::Inconclusive(Why::Invalid(why)) => Outcome::Inconclusive {
            reasons: vec![format!("`{claim}` could not be judged: {why}")],
        },
    }
}

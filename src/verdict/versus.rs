//! Judging a `compare:` claim (`candidate at most 10% above base (95%)`) on the values each
//! repetition measured: per-pair ratios candidate/base, a bootstrap interval for their median at
//! the confidence the claim needs, and PASS, FAIL or INCONCLUSIVE from where that interval lies.

use super::interval::{bootstrap, describe, outcome, ratio, relative_bound};
use super::stats::Comparison;
use crate::report::Outcome;
use crate::spec::Versus;

/// The outcome of `claim` on pairs `(base[i], candidate[i])`, and the line that says what was
/// measured (the ratio, its interval, the pair count).
pub fn judge_versus(claim: Versus, base: &[f64], candidate: &[f64], seed: u64) -> (Outcome, String) {
    let interval = bootstrap(claim.confidence, seed).paired(base, candidate, Comparison::Ratio);
    let measured = match &interval {
        Ok(i) => describe("candidate/base", i, &format!("{} pairs", base.len()), ratio),
        Err(e) => format!("no interval: {e}"),
    };
    let bound = relative_bound(claim.side, claim.tolerance, 1.0);
    let verdict = outcome(bound.judge(&interval), &measured, &claim, "more pairs or longer phases");
    (verdict, measured)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Side;

    const AT_MOST_10: Versus = Versus {
        side: Side::Above,
        tolerance: 0.10,
        confidence: 0.95,
    };

    /// `n` base values around 10 with a little noise, and the candidate `factor` times each.
    fn pairs(n: usize, factor: f64, noise: f64) -> (Vec<f64>, Vec<f64>) {
        let base: Vec<f64> = (0..n).map(|i| 10.0 + (i % 3) as f64 * 0.5).collect();
        let candidate = base
            .iter()
            .enumerate()
            .map(|(i, b)| b * factor * (1.0 + noise * if i % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        (base, candidate)
    }

    #[test]
    fn a_clear_regression_fails_an_unchanged_service_passes_a_close_call_is_inconclusive() {
        let (b, c) = pairs(8, 1.3, 0.02);
        let (outcome, measured) = judge_versus(AT_MOST_10, &b, &c, 1);
        assert!(matches!(outcome, Outcome::Fail { .. }), "{outcome:?}");
        assert!(measured.starts_with("candidate/base 1.3"), "{measured}");
        assert!(measured.contains("90% interval"), "{measured}");

        let (b, c) = pairs(8, 1.0, 0.02);
        assert_eq!(judge_versus(AT_MOST_10, &b, &c, 1).0, Outcome::Pass);

        let (b, c) = pairs(8, 1.1, 0.05);
        let (outcome, _) = judge_versus(AT_MOST_10, &b, &c, 1);
        assert!(outcome.inconclusive(), "{outcome:?}");
    }

    #[test]
    fn one_sided_claims_let_the_other_direction_pass() {
        let (b, c) = pairs(8, 0.5, 0.02);
        assert_eq!(judge_versus(AT_MOST_10, &b, &c, 1).0, Outcome::Pass);
        let below = Versus {
            side: Side::Below,
            ..AT_MOST_10
        };
        assert!(matches!(
            judge_versus(below, &b, &c, 1).0,
            Outcome::Fail { .. }
        ));
        let within = Versus {
            side: Side::Both,
            ..AT_MOST_10
        };
        assert!(matches!(
            judge_versus(within, &b, &c, 1).0,
            Outcome::Fail { .. }
        ));
    }

    #[test]
    fn missing_values_are_inconclusive_never_pass_or_fail() {
        let (outcome, measured) = judge_versus(AT_MOST_10, &[10.0], &[30.0], 1);
        assert!(outcome.inconclusive(), "{outcome:?}");
        assert!(measured.starts_with("no interval"), "{measured}");
        let (outcome, _) = judge_versus(AT_MOST_10, &[10.0, f64::NAN], &[30.0, 30.0], 1);
        assert!(outcome.inconclusive(), "{outcome:?}");
    }
}

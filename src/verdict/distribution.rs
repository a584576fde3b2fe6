//! A repeated run judged against a repeated baseline: both are distributions of per-run values,
//! compared with a bootstrap interval for the ratio (or, for an absolute tolerance, the
//! difference) of their medians at the confidence of a repeated verdict; PASS, FAIL or
//! INCONCLUSIVE from where that interval lies against the baseline expectation's bound.

use super::repeated::{CONFIDENCE, is_runs_mode};
use super::interval::{bootstrap, describe, outcome, relative_bound};
use super::stats::{Comparison, Statistic};
use crate::report::{Verdict, format_value};
use crate::spec::{Expectation, Side, Tolerance};

const SEED: u64 = 0xBA5E;

/// The per-run values of a verdict of a `repeat:` run (its mode reads `N runs`), else `None`.
pub(super) fn runs_of(verdict: &Verdict) -> Option<Vec<f64>> {
    if !is_runs_mode(&verdict.mode) {
        return None;
    }
    match verdict.series.as_slice() {
        [one] if one.samples.len() >= 2 => Some(one.samples.iter().map(|s| s.v).collect()),
        _ => None,
    }
}

/// Judges `verdict` (values `current`) against the baseline run `run`'s values `base`.
pub(super) fn judge_distributions(
    verdict: &mut Verdict,
    (tolerance, side): (Tolerance, Side),
    base: &[f64],
    current: &[f64],
    run: &str,
) {
    let (comparison, t, neutral) = match tolerance {
        Tolerance::Absolute(d) => (Comparison::Difference, d, 0.0),
        Tolerance::Relative(r) => (Comparison::Ratio, r, 1.0),
        // Not accepted for baseline expectations by the spec.
        Tolerance::Digits(_) | Tolerance::LogBuckets(_) => (Comparison::Ratio, 0.0, 1.0),
    };
    let interval = bootstrap(CONFIDENCE, SEED).independent(base, current, Statistic::Median, comparison);
    let what = if comparison == Comparison::Ratio {
        "median ratio to baseline"
    } else {
        "median difference to baseline"
    };
    let count = format!("{} runs against {}", current.len(), base.len());
    let measured = match &interval {
        Ok(i) => describe(what, i, &count, format_value),
        Err(e) => format!("no interval: {e}"),
    };
    let expectation = Expectation::NearBaseline(tolerance, side);
    verdict.expectation = format!("{expectation} (run {run}): {measured}");
    let bound = relative_bound(side, t, neutral);
    verdict.outcome = outcome(bound.judge(&interval), &measured, &expectation, "more runs");
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::prom::{Sample, Series};
    use crate::report::{Outcome, Window};

    fn verdict(values: &[f64]) -> Verdict {
        Verdict {
            id: "p50".into(),
            name: "p50".into(),
            query: "q".into(),
            spec_query: "q".into(),
            during: None,
            window: Window { start: 0.0, end: 1.0 },
            evaluated_at: 1.0,
            expectation: "x".into(),
            mode: format!("{} runs", values.len()),
            series: vec![Series {
                labels: BTreeMap::new(),
                samples: values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| Sample { t: i as f64, v })
                    .collect(),
            }],
            outcome: Outcome::Pass,
        }
    }

    const ABOVE_10: (Tolerance, Side) = (Tolerance::Relative(0.10), Side::Above);

    #[test]
    fn a_repeated_run_is_judged_against_the_baseline_distribution() {
        let base = [1.0, 1.02, 0.98, 1.01, 0.99];
        let judge = |values: &[f64]| {
            let mut v = verdict(values);
            let current = runs_of(&v).expect("a repeated verdict");
            judge_distributions(&mut v, ABOVE_10, &base, &current, "r0");
            v
        };
        assert_eq!(judge(&[1.0, 1.01, 0.99, 1.02, 1.0]).outcome, Outcome::Pass);
        assert_eq!(judge(&[0.7, 0.71, 0.69, 0.72, 0.7]).outcome, Outcome::Pass, "an improvement");
        let v = judge(&[1.3, 1.31, 1.29, 1.32, 1.3]);
        assert!(matches!(v.outcome, Outcome::Fail { .. }), "{:?}", v.outcome);
        assert!(v.expectation.contains("median ratio to baseline 1.3"), "{}", v.expectation);
        assert!(judge(&[1.0, 1.25, 1.05, 1.2, 1.1]).outcome.inconclusive());
    }

    #[test]
    fn only_verdicts_of_repeated_runs_are_distributions() {
        assert!(runs_of(&verdict(&[1.0, 2.0])).is_some());
        let mut single = verdict(&[1.0, 2.0]);
        single.mode = "aggregate, throughout".into();
        assert!(runs_of(&single).is_none());
        assert!(runs_of(&verdict(&[1.0])).is_none());
    }
}

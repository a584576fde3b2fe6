//! Judging an assertion of a `repeat: N` spec on the values of every run, not on one window: a
//! threshold (`< 0.05`, `between 90 and 110`) is judged on a bootstrap interval of the median
//! run, so one disturbed run cannot fail it (from 7 runs on it cannot even widen the interval to
//! itself); PASS when the whole interval keeps to it, FAIL when the whole interval breaks it, INCONCLUSIVE when it straddles. A baseline
//! expectation keeps every run's value for `verdict::baseline` to compare distributions.

use std::collections::BTreeMap;

use super::interval::{bootstrap, describe, outcome};
use super::stats::{Expectation as Bound, Interval, Judgement, Statistic};
use crate::prom::{Sample, Series};
use crate::report::{Outcome, Verdict, Window, format_value};
use crate::spec::{Assertion, CompareOp, Expectation};

/// The confidence of a repeated verdict: its interval is the two-sided 2c − 1 one.
pub const CONFIDENCE: f64 = 0.95;

/// The verdict of `assertion` over its per-run verdicts `runs` (in run order).
pub fn judge_repeated(assertion: &Assertion, runs: Vec<Verdict>, seed: u64) -> Option<Verdict> {
    if let Some(broken) = runs.iter().find(|v| matches!(v.outcome, Outcome::Error { .. })) {
        return Some(broken.clone());
    }
    let values: Option<Vec<Sample>> = runs.iter().map(single_value).collect();
    let Some(values) = values else {
        // Several series or points per run: every run must pass on its own.
        return first_not_passed(runs);
    };
    let first = runs.first()?;
    let window = Window {
        start: first.window.start,
        end: runs.last().map_or(first.window.end, |v| v.window.end),
    };
    let (outcome, measured) = judge_values(assertion.expect, &values, seed);
    Some(Verdict {
        window,
        evaluated_at: window.end,
        expectation: match measured {
            Some(m) => format!("{}: {m}", assertion.expect),
            None => assertion.expect.to_string(),
        },
        mode: runs_mode(runs.len()),
        series: vec![Series {
            labels: BTreeMap::new(),
            samples: values,
        }],
        outcome,
        ..first.clone()
    })
}

/// Runs judged one by one: the first verdict that did not pass, else the last.
pub fn first_not_passed(runs: Vec<Verdict>) -> Option<Verdict> {
    let last = runs.last().cloned();
    runs.into_iter().find(|v| !v.outcome.passed()).or(last)
}

/// The mode a verdict over several runs reads (`5 runs`), which marks its series as one value
/// per run.
fn runs_mode(runs: usize) -> String {
    format!("{runs} runs")
}

/// Whether `mode` is that of a verdict over several runs.
pub(super) fn is_runs_mode(mode: &str) -> bool {
    mode.strip_suffix(" runs")
        .is_some_and(|n| n.parse::<usize>().is_ok())
}

/// The one value of a run that asked an aggregate at the end of its window.
fn single_value(run: &Verdict) -> Option<Sample> {
    match run.series.as_slice() {
        [one] if one.samples.len() == 1 => Some(one.samples[0]),
        _ => None,
    }
}

/// The outcome of `expect` on every run's value, and what was measured.
fn judge_values(expect: Expectation, values: &[Sample], seed: u64) -> (Outcome, Option<String>) {
    let xs: Vec<f64> = values.iter().map(|s| s.v).collect();
    let bound = match expect {
        Expectation::Compare(CompareOp::Lt | CompareOp::Le, t) => Bounds::One(Bound::AtMost(t)),
        Expectation::Compare(CompareOp::Gt | CompareOp::Ge, t) => Bounds::One(Bound::AtLeast(t)),
        Expectation::Between(lo, hi) => Bounds::Range(lo, hi),
        // `== x` and the relative expectations: every run on its own (a baseline re-judges).
        _ => {
            let pass = xs.iter().all(|&x| expect.holds(x));
            return (point_outcome(pass, expect, &xs), None);
        }
    };
    let interval = bootstrap(CONFIDENCE, seed).one_sample(&xs, Statistic::Median);
    let count = format!("{} runs", xs.len());
    let measured = interval.as_ref().ok().map(|i| describe("median", i, &count, format_value));
    let shown = measured.clone().unwrap_or_default();
    let verdict = outcome(bound.judge(&interval), &shown, &expect, "more runs or longer phases");
    (verdict, measured)
}

/// One bound or a range, judged on an interval.
enum Bounds {
    One(Bound),
    Range(f64, f64),
}

impl Bounds {
    fn judge(&self, interval: &Result<Interval, super::stats::StatsError>) -> Judgement {
        match self {
            Bounds::One(bound) => bound.judge(interval),
            Bounds::Range(lo, hi) => {
                let (low, high) = (Bound::AtLeast(*lo).judge(interval), Bound::AtMost(*hi).judge(interval));
                match (low, high) {
                    (Judgement::Pass, Judgement::Pass) => Judgement::Pass,
                    (Judgement::Fail, _) | (_, Judgement::Fail) => Judgement::Fail,
                    (Judgement::Inconclusive(why), _) | (_, Judgement::Inconclusive(why)) => {
                        Judgement::Inconclusive(why)
                    }
                }
            }
        }
    }
}

fn point_outcome(pass: bool, expect: Expectation, xs: &[f64]) -> Outcome {
    if pass {
        return Outcome::Pass;
    }
    let values: Vec<String> = xs.iter().map(|&x| format_value(x)).collect();
    Outcome::Fail {
        reasons: vec![format!("runs gave {}: not every one is {expect}", values.join(", "))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Location;

    fn assertion(expect: Expectation) -> Assertion {
        Assertion {
            name: "p50".into(),
            id: "p50".into(),
            query: "q".into(),
            client: None,
            during: Some("steady".into()),
            expect,
            mode: crate::spec::SeriesMode::Aggregate,
            eval: crate::spec::EvalMode::AtEnd,
            query_location: Location::default(),
        }
    }

    fn run(i: usize, v: f64) -> Verdict {
        Verdict {
            id: "p50".into(),
            name: "p50".into(),
            query: "q".into(),
            spec_query: "q".into(),
            during: Some("steady".into()),
            window: Window { start: i as f64, end: i as f64 + 1.0 },
            evaluated_at: i as f64 + 1.0,
            expectation: "x".into(),
            mode: "aggregate, at end".into(),
            series: vec![Series {
                labels: BTreeMap::new(),
                samples: vec![Sample { t: i as f64 + 1.0, v }],
            }],
            outcome: Outcome::Pass,
        }
    }

    fn judged(expect: Expectation, values: &[f64]) -> Verdict {
        let runs = values.iter().enumerate().map(|(i, &v)| run(i, v)).collect();
        judge_repeated(&assertion(expect), runs, 1).expect("a verdict")
    }

    #[test]
    fn a_threshold_is_judged_on_the_interval_of_the_median_run() {
        let under = Expectation::Compare(CompareOp::Lt, 0.05);
        let v = judged(under, &[0.030, 0.031, 0.029, 0.032, 0.030]);
        assert_eq!(v.outcome, Outcome::Pass);
        assert!(v.expectation.starts_with("< 0.05: median 0.03"), "{}", v.expectation);
        assert_eq!(v.series[0].samples.len(), 5);
        assert_eq!((v.window.start, v.window.end), (0.0, 5.0));
        // One disturbed run out of 7 cannot fail it; out of 5 it reaches the interval's end
        // (the bootstrap median of 5 is the largest value 5.8 % of the time): INCONCLUSIVE.
        let v = judged(under, &[0.030, 0.031, 0.2, 0.032, 0.030, 0.029, 0.031]);
        assert_eq!(v.outcome, Outcome::Pass);
        let v = judged(under, &[0.030, 0.031, 0.2, 0.032, 0.030]);
        assert!(v.outcome.inconclusive(), "{:?}", v.outcome);
        let v = judged(under, &[0.06, 0.07, 0.065, 0.08, 0.07]);
        assert!(matches!(v.outcome, Outcome::Fail { .. }), "{:?}", v.outcome);
        let v = judged(under, &[0.03, 0.07, 0.04, 0.06, 0.05]);
        assert!(v.outcome.inconclusive(), "{:?}", v.outcome);
    }

    #[test]
    fn a_range_needs_the_whole_interval_inside() {
        let range = Expectation::Between(90.0, 110.0);
        assert_eq!(judged(range, &[99.0, 101.0, 100.0, 98.0]).outcome, Outcome::Pass);
        assert!(matches!(judged(range, &[50.0, 52.0, 51.0]).outcome, Outcome::Fail { .. }));
        assert!(judged(range, &[85.0, 95.0, 105.0, 88.0]).outcome.inconclusive());
    }

    #[test]
    fn an_error_in_any_run_is_the_verdict_and_equality_holds_in_every_run() {
        let mut runs: Vec<Verdict> = (0..3).map(|i| run(i, 0.0)).collect();
        runs[1].outcome = Outcome::Error { message: "bad".into() };
        let v = judge_repeated(&assertion(Expectation::Compare(CompareOp::Eq, 0.0)), runs, 1);
        assert!(matches!(v.unwrap().outcome, Outcome::Error { .. }));
        let eq = Expectation::Compare(CompareOp::Eq, 0.0);
        assert_eq!(judged(eq, &[0.0, 0.0, 0.0]).outcome, Outcome::Pass);
        assert!(matches!(judged(eq, &[0.0, 1.0, 0.0]).outcome, Outcome::Fail { .. }));
    }
}

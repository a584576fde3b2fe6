//! Judging one assertion: expand `$phase`, query Prometheus at the end of the window (or over
//! it), and compare every value with the expectation.

use std::time::Duration;

use crate::prom::{PromClient, Series};
use crate::report::{Outcome, Verdict, Window};
use crate::spec::{Assertion, EvalMode, SeriesMode, expand_query};

/// Reasons listed per verdict at most; the values themselves are all in the record.
const MAX_REASONS: usize = 20;

/// Evaluates `assertion` at the end of `window` (so nothing of a following phase leaks into a
/// `[$phase]` range), or over it at `step` (the scrape interval) for `eval: throughout`, whose
/// first point is one step in so that every range has data. The caller has made sure a scrape
/// after the window's end has landed.
pub async fn evaluate(
    client: &PromClient,
    assertion: &Assertion,
    window: Window,
    step: Duration,
) -> Verdict {
    let length = Duration::from_secs_f64(window.seconds().max(0.001));
    let query = expand_query(&assertion.query, length);
    let evaluated_at = window.end;
    let result = match assertion.eval {
        EvalMode::AtEnd => client.query(&query, Some(evaluated_at)).await,
        EvalMode::Throughout => {
            let first = (window.start + step.as_secs_f64()).min(window.end);
            client.query_range(&query, first, window.end, step).await
        }
    };
    let (series, outcome) = match result {
        Ok(value) => {
            let outcome = judge(assertion, &value.series);
            (value.series, outcome)
        }
        Err(e) => (
            Vec::new(),
            Outcome::Error {
                message: e.to_string(),
            },
        ),
    };
    Verdict {
        id: assertion.id.clone(),
        name: assertion.name.clone(),
        query,
        spec_query: assertion.query.clone(),
        during: assertion.during.clone(),
        window,
        evaluated_at,
        expectation: assertion.expect.to_string(),
        mode: mode_label(assertion),
        series,
        outcome,
    }
}

fn mode_label(a: &Assertion) -> String {
    let series = match a.mode {
        SeriesMode::Aggregate => "aggregate",
        SeriesMode::EachSeries => "each series",
    };
    let eval = match a.eval {
        EvalMode::AtEnd => "at end",
        EvalMode::Throughout => "throughout",
    };
    format!("{series}, {eval}")
}

/// The verdict on a query result, without any I/O.
pub fn judge(assertion: &Assertion, series: &[Series]) -> Outcome {
    if series.is_empty() {
        return Outcome::Fail {
            reasons: vec!["the query returned no series (no data in the window?)".into()],
        };
    }
    if assertion.mode == SeriesMode::Aggregate && series.len() > 1 {
        return Outcome::Fail {
            reasons: vec![format!(
                "the query returned {} series but `for: aggregate` needs exactly one \
                 (aggregate in the query, or use `for: each series`)",
                series.len()
            )],
        };
    }
    let mut reasons = Vec::new();
    let mut broken = 0usize;
    for s in series {
        if s.samples.is_empty() {
            broken += 1;
            reasons.push(format!("{} has no points in the window", s.label_string()));
        }
        for p in &s.samples {
            if !assertion.expect.holds(p.v) {
                broken += 1;
                if reasons.len() < MAX_REASONS {
                    reasons.push(format!(
                        "{} {} is not {}",
                        s.label_string(),
                        crate::report::format_value(p.v),
                        assertion.expect
                    ));
                }
            }
        }
    }
    if broken == 0 {
        Outcome::Pass
    } else {
        if broken > reasons.len() {
            reasons.push(format!("… {} values broke the expectation in all", broken));
        }
        Outcome::Fail { reasons }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prom::Sample;
    use crate::spec::{CompareOp, Expectation, Location};
    use std::collections::BTreeMap;

    fn assertion(mode: SeriesMode, expect: Expectation) -> Assertion {
        Assertion {
            name: "t".into(),
            id: "t".into(),
            query: "q".into(),
            client: None,
            during: None,
            expect,
            mode,
            eval: EvalMode::AtEnd,
            query_location: Location::default(),
        }
    }

    fn series(label: &str, values: &[f64]) -> Series {
        Series {
            labels: BTreeMap::from([("endpoint".to_string(), label.to_string())]),
            samples: values.iter().map(|&v| Sample { t: 0.0, v }).collect(),
        }
    }

    #[test]
    fn aggregate_needs_exactly_one_series() {
        let a = assertion(
            SeriesMode::Aggregate,
            Expectation::Compare(CompareOp::Lt, 1.0),
        );
        assert!(judge(&a, &[series("a", &[0.5])]).passed());
        assert!(!judge(&a, &[series("a", &[0.5]), series("b", &[0.5])]).passed());
        assert!(!judge(&a, &[]).passed());
    }

    #[test]
    fn each_series_fails_on_any_bad_value_and_names_it() {
        let a = assertion(SeriesMode::EachSeries, Expectation::Between(1.0, 2.0));
        assert!(judge(&a, &[series("a", &[1.0, 2.0]), series("b", &[1.5])]).passed());
        let Outcome::Fail { reasons } = judge(&a, &[series("a", &[1.0]), series("b", &[2.5])])
        else {
            panic!("expected a failure");
        };
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].contains(r#"endpoint="b""#), "{reasons:?}");
        assert!(reasons[0].contains("2.5"), "{reasons:?}");
    }

    #[test]
    fn nan_never_passes() {
        let a = assertion(
            SeriesMode::Aggregate,
            Expectation::Compare(CompareOp::Ge, 0.0),
        );
        assert!(!judge(&a, &[series("a", &[f64::NAN])]).passed());
    }
}

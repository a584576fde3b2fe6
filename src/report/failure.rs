//! The message a failed gate prints: query, values, expectation, window, report path.

use std::fmt::Write as _;

use super::record::{Outcome, RunRecord, Verdict};

/// Lines of observed values shown before eliding the rest.
const MAX_VALUES: usize = 12;

/// `None` when the verdict passed.
pub fn failure_message(record: &RunRecord, verdict: &Verdict) -> Option<String> {
    let mut out = String::new();
    match &verdict.outcome {
        Outcome::Pass => return None,
        Outcome::Fail { .. } => {
            let _ = writeln!(out, "gate failed: {}", verdict.name);
        }
        Outcome::Error { message } => {
            let _ = writeln!(out, "gate could not be evaluated: {}", verdict.name);
            let _ = writeln!(out, "  error:    {message}");
        }
        Outcome::Inconclusive { .. } => {
            let _ = writeln!(
                out,
                "gate inconclusive (neither pass nor fail): {}",
                verdict.name
            );
        }
    }
    let _ = writeln!(out, "  query:    {}", verdict.query.trim());
    let phase = verdict
        .during
        .as_deref()
        .map_or("the whole load".to_string(), |p| format!("phase `{p}`"));
    let _ = writeln!(
        out,
        "  window:   {phase}, {:.1}s from {} to {}",
        verdict.window.seconds(),
        unix_to_utc(verdict.window.start),
        unix_to_utc(verdict.window.end)
    );
    let _ = writeln!(
        out,
        "  expected: {} ({})",
        verdict.expectation, verdict.mode
    );
    if verdict.series.is_empty() {
        let _ = writeln!(out, "  observed: no series");
    }
    for (i, series) in verdict.series.iter().enumerate() {
        if i == MAX_VALUES {
            let _ = writeln!(
                out,
                "            … {} more series",
                verdict.series.len() - i
            );
            break;
        }
        let values = series
            .samples
            .iter()
            .map(|s| format_value(s.v))
            .collect::<Vec<_>>();
        let shown = if values.len() > 8 {
            format!("{} … ({} points)", values[..8].join(", "), values.len())
        } else {
            values.join(", ")
        };
        let label = if i == 0 { "observed:" } else { "         " };
        let _ = writeln!(out, "  {label} {shown} {}", series.label_string());
    }
    if let Outcome::Fail { reasons } | Outcome::Inconclusive { reasons } = &verdict.outcome {
        for r in reasons.iter().take(MAX_VALUES) {
            let _ = writeln!(out, "  because:  {r}");
        }
    }
    let _ = write!(out, "  report:   {}", record.report_json().display());
    Some(out)
}

/// Numbers as people read them: up to 6 significant digits, no trailing noise.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

use crate::clock::unix_to_utc;

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0.3, "0.3")]
    #[case(12.0, "12")]
    #[case(0.000_123_456_7, "0.000123")]
    #[case(f64::NAN, "NaN")]
    #[case(-0.0, "0")]
    fn formats_values(#[case] v: f64, #[case] expected: &str) {
        assert_eq!(format_value(v), expected);
    }
}

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
    if let Outcome::Fail { reasons } = &verdict.outcome {
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

/// `2026-11-23 10:49:50.123 UTC` without a date-time crate: civil-from-days arithmetic.
pub fn unix_to_utc(t: f64) -> String {
    let millis = (t * 1000.0).round() as i64;
    let (secs, ms) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{ms:03} UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0.0, "1970-01-01 00:00:00.000 UTC")]
    #[case(1_795_430_990.123, "2026-11-23 10:49:50.123 UTC")]
    #[case(951_782_400.0, "2000-02-29 00:00:00.000 UTC")]
    fn renders_utc(#[case] t: f64, #[case] expected: &str) {
        assert_eq!(unix_to_utc(t), expected);
    }

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

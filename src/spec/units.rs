//! Readable units in specs: durations, rates, expectations, PromQL durations and test-name slugs.
//!
//! Errors are plain lowercase strings; the validator attaches the location.

use std::time::Duration;

use super::expectation::{CompareOp, Expectation, bound_phrase};
pub(crate) use super::number::parse_number;
use super::tolerance::Tolerance;

/// Events per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate(pub f64);

impl Rate {
    pub fn per_second(self) -> f64 {
        self.0
    }
}

const DURATION_UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// Parses `500ms`, `30s`, `2m`, `1h`, `1m30s`: whole numbers, units `h`, `m`, `s`, `ms` in
/// decreasing order, each at most once. `0s` is accepted here; callers reject zero where needed.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration (hint: write e.g. `30s`, `500ms` or `1m30s`)".to_owned());
    }
    if text.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "duration `{text}` has no unit (hint: write `{text}s`)"
        ));
    }
    let bad = || {
        format!(
            "invalid duration `{text}` (hint: write e.g. `30s`, `500ms` or `1m30s`; units are h, m, s, ms)"
        )
    };
    if let Some(positive) = text.strip_prefix('-') {
        return Err(format!(
            "invalid duration `{text}`: a duration must be positive (hint: `{}`)",
            positive.trim()
        ));
    }
    let mut rest = text;
    let mut millis: u64 = 0;
    let mut last_unit = None::<usize>;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.chars().take_while(char::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        let position = DURATION_UNITS
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(bad)?;
        if last_unit.is_some_and(|last| position <= last) {
            return Err(bad());
        }
        last_unit = Some(position);
        let value: u64 = number.parse().map_err(|_| bad())?;
        millis = value
            .checked_mul(DURATION_UNITS[position].1)
            .and_then(|v| millis.checked_add(v))
            .ok_or_else(|| format!("duration `{text}` is too long"))?;
        rest = tail;
    }
    Ok(Duration::from_millis(millis))
}

/// Formats a duration as a PromQL duration with a single unit: `2m`, `30s`, `1500ms`, `1h`.
/// Sub-millisecond remainders round up so a window never shrinks to nothing.
pub fn format_prom_duration(duration: Duration) -> String {
    let mut millis = duration.as_millis();
    if !duration.subsec_nanos().is_multiple_of(1_000_000) {
        millis += 1;
    }
    if millis == 0 {
        return "0s".to_owned();
    }
    if !millis.is_multiple_of(1000) {
        return format!("{millis}ms");
    }
    let secs = millis / 1000;
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Parses `200/s`, `50/m`, `3600/h` (decimals allowed, must be > 0) or `max` (closed loop, as
/// fast as `max_in_flight` allows: `Rate(f64::INFINITY)`).
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let text = text.trim();
    if text == "max" {
        return Ok(Rate(f64::INFINITY));
    }
    let hint = "(hint: write e.g. `200/s`, `50/m`, `3600/h` or `max`)";
    let Some((number, unit)) = text.split_once('/') else {
        if parse_number(text).is_some() {
            return Err(format!(
                "rate `{text}` has no unit (hint: write `{text}/s`)"
            ));
        }
        return Err(format!("invalid rate `{text}` {hint}"));
    };
    let per = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("invalid rate unit `/{unit}` {hint}")),
    };
    let value =
        parse_number(number.trim()).ok_or_else(|| format!("invalid rate `{text}` {hint}"))?;
    if value <= 0.0 {
        return Err(format!(
            "rate `{text}` must be greater than zero (hint: use a `pause` phase for no load)"
        ));
    }
    Ok(Rate(value / per))
}

/// `within X of baseline`, `at most X above baseline`, `at most X below baseline`; `None` when
/// `text` is none of them.
fn baseline_expectation(text: &str) -> Option<Result<Expectation, String>> {
    let (tolerance, side) = bound_phrase(text, "baseline")?;
    let Some(tolerance) = tolerance else {
        return Some(Err(format!(
            "invalid expectation `{text}` (hint: `within 10% of baseline`, `at most 10% above baseline`)"
        )));
    };
    Some(match parse_tolerance(tolerance) {
        Ok(t @ (Tolerance::Relative(_) | Tolerance::Absolute(_))) => {
            Ok(Expectation::NearBaseline(t, side))
        }
        Ok(_) => Err(format!(
            "`{text}`: a baseline expectation takes a percentage or an absolute value (hint: `within 10% of baseline`)"
        )),
        Err(e) => Err(e),
    })
}

/// Parses `< 0.3`, `<= 5`, `> 1`, `>= 0.95`, `== 0` and `between 0.9 and 1.1` (inclusive), the
/// baseline forms (`within 10% of baseline`, …) and a comparison's claims (`candidate at most 10%
/// above base (95%)`, see `versus`).
///
/// Values may carry a unit that is converted to the base unit Prometheus uses: a duration
/// suffix (`300ms` → 0.3, `2m` → 120, in seconds) or a percentage (`5%` → 0.05).
pub fn parse_expectation(text: &str) -> Result<Expectation, String> {
    let text = text.trim();
    if let Some(baseline) = baseline_expectation(text) {
        return baseline;
    }
    if let Some(versus) = super::versus::versus_expectation(text) {
        return versus;
    }
    if let Some(rest) = text.strip_prefix("between") {
        let bad = || format!("invalid range `{text}` (hint: write `between 0.9 and 1.1`)");
        let (lo, hi) = rest.split_once(" and ").ok_or_else(bad)?;
        let lo = parse_value(lo)?;
        let hi = parse_value(hi)?;
        if lo > hi {
            return Err(format!(
                "empty range `{text}`: the lower bound is above the upper one"
            ));
        }
        return Ok(Expectation::Between(lo, hi));
    }
    let ops = [
        ("<=", CompareOp::Le),
        (">=", CompareOp::Ge),
        ("==", CompareOp::Eq),
        ("<", CompareOp::Lt),
        (">", CompareOp::Gt),
    ];
    for (symbol, op) in ops {
        if let Some(rest) = text.strip_prefix(symbol) {
            return Ok(Expectation::Compare(op, parse_value(rest)?));
        }
    }
    for (wrong, right) in [("=>", ">="), ("=<", "<="), ("=", "==")] {
        if let Some(rest) = text.strip_prefix(wrong) {
            return Err(format!(
                "invalid comparison `{text}` (hint: did you mean `{right}{rest}`?)"
            ));
        }
    }
    if parse_value(text).is_ok() {
        return Err(format!(
            "expectation `{text}` has no comparison (hint: write e.g. `< {text}` or `== {text}`)"
        ));
    }
    Err(format!(
        "invalid expectation `{text}` (hint: one of `< X`, `<= X`, `> X`, `>= X`, `== X`, `between X and Y`)"
    ))
}

/// A number with an optional unit: `0.3`, `-1`, `1e6`, `300ms`, `5%`.
fn parse_value(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("missing number in expectation (hint: write e.g. `< 0.3`)".to_owned());
    }
    if let Some(v) = parse_number(text) {
        return Ok(v);
    }
    if let Some(pct) = text.strip_suffix('%')
        && let Some(v) = parse_number(pct.trim())
    {
        return Ok(v / 100.0);
    }
    if let Ok(d) = parse_duration(text) {
        return Ok(d.as_secs_f64());
    }
    Err(format!(
        "invalid number `{text}` (hint: a number, a duration such as `300ms` or a percentage such as `5%`)"
    ))
}

/// Parses a snapshot tolerance: `10%` (relative), `0.05` or `20ms` (absolute), `2 digits`
/// (significant digits) or `log 2` (logarithmic buckets of base 2).
pub fn parse_tolerance(text: &str) -> Result<Tolerance, String> {
    let text = text.trim();
    let hint = "(hint: one of `10%`, `0.05`, `20ms`, `2 digits`, `log 2`)";
    if let Some(n) = text
        .strip_suffix("digits")
        .or_else(|| text.strip_suffix("digit"))
    {
        return match n.trim().parse::<u32>() {
            Ok(n @ 1..=15) => Ok(Tolerance::Digits(n)),
            _ => Err(format!(
                "invalid tolerance `{text}`: significant digits go from 1 to 15 {hint}"
            )),
        };
    }
    if let Some(base) = text.strip_prefix("log") {
        return match parse_number(base.trim()) {
            Some(b) if b > 1.0 => Ok(Tolerance::LogBuckets(b)),
            _ => Err(format!(
                "invalid tolerance `{text}`: the log base must be a number above 1 {hint}"
            )),
        };
    }
    let value = match text.strip_suffix('%') {
        Some(pct) => parse_number(pct.trim()).map(|v| Tolerance::Relative(v / 100.0)),
        None => parse_number(text)
            .or_else(|| parse_duration(text).ok().map(|d| d.as_secs_f64()))
            .map(Tolerance::Absolute),
    };
    match value {
        Some(Tolerance::Relative(v) | Tolerance::Absolute(v)) if v < 0.0 => Err(format!(
            "invalid tolerance `{text}`: it must not be negative {hint}"
        )),
        Some(t) => Ok(t),
        None => Err(format!("invalid tolerance `{text}` {hint}")),
    }
}

/// Parses a share: `5%` or `0.05`, from 0 to 1 inclusive; `what` names it in errors
/// ("error rate").
pub fn parse_ratio(what: &str, text: &str) -> Result<f64, String> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(pct) => parse_number(pct.trim()).map(|v| v / 100.0),
        None => parse_number(text),
    };
    match value {
        Some(v) if (0.0..=1.0).contains(&v) => Ok(v),
        Some(_) => Err(format!(
            "{what} `{text}` is out of range (hint: from 0 to 100%, e.g. `5%` or `0.05`)"
        )),
        None => Err(format!(
            "invalid {what} `{text}` (hint: a percentage such as `5%` or a number from 0 to 1)"
        )),
    }
}

/// Test-name slug of an assertion name: ASCII letters and digits lowercased, every other run of
/// characters one `_`, no leading or trailing `_` (`p99 latency under 300ms` →
/// `p99_latency_under_300ms`).
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Parses a duration range `1s..30s` (the first not above the second, both above zero).
pub fn parse_duration_range(text: &str) -> Result<(Duration, Duration), String> {
    let Some((low, high)) = text.split_once("..") else {
        return Err(format!(
            "invalid range `{}` (hint: write e.g. `1s..30s`)",
            text.trim()
        ));
    };
    let (low, high) = (parse_duration(low)?, parse_duration(high)?);
    if low.is_zero() || low > high {
        return Err(format!(
            "range `{}`: the first duration must be above zero and not above the second",
            text.trim()
        ));
    }
    Ok((low, high))
}

/// The reason `pattern` is not a valid regex (the last line of the regex crate's message).
pub(crate) fn regex_problem(pattern: &str) -> Option<String> {
    let text = regex::Regex::new(pattern).err()?.to_string();
    Some(
        text.lines()
            .last()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned(),
    )
}

/// Whether `name` can be used as-is in test names and placeholders: `[A-Za-z0-9_-]+`, starting
/// with a letter or digit.
pub(crate) fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("500ms", 500)]
    #[case("30s", 30_000)]
    #[case("2m", 120_000)]
    #[case("1h", 3_600_000)]
    #[case("1m30s", 90_000)]
    #[case("1h2m3s4ms", 3_723_004)]
    #[case(" 10s ", 10_000)]
    #[case("0s", 0)]
    fn durations(#[case] text: &str, #[case] millis: u64) {
        assert_eq!(parse_duration(text), Ok(Duration::from_millis(millis)));
    }

    #[test]
    fn duration_ranges() {
        let s = Duration::from_secs;
        assert_eq!(parse_duration_range("1s..30s"), Ok((s(1), s(30))));
        assert_eq!(parse_duration_range(" 2s .. 2s "), Ok((s(2), s(2))));
        for bad in ["1s", "30s..1s", "0s..1s", "1s..", "1..2s"] {
            assert!(parse_duration_range(bad).is_err(), "{bad}");
        }
    }

    #[rstest]
    #[case("", "empty duration")]
    #[case("10", "has no unit (hint: write `10s`)")]
    #[case("10 s", "invalid duration")]
    #[case("1.5s", "invalid duration")]
    #[case("10sec", "invalid duration")]
    #[case("30s1m", "invalid duration")]
    #[case("1s1s", "invalid duration")]
    #[case("-1s", "invalid duration")]
    #[case("99999999999999999h", "too long")]
    fn bad_durations(#[case] text: &str, #[case] fragment: &str) {
        let err = parse_duration(text).unwrap_err();
        assert!(err.contains(fragment), "{err}");
    }

    #[rstest]
    #[case(Duration::from_secs(30), "30s")]
    #[case(Duration::from_millis(1500), "1500ms")]
    #[case(Duration::from_secs(120), "2m")]
    #[case(Duration::from_secs(90), "90s")]
    #[case(Duration::from_secs(7200), "2h")]
    #[case(Duration::from_secs(5400), "90m")]
    #[case(Duration::from_micros(1500), "2ms")]
    #[case(Duration::ZERO, "0s")]
    fn prom_durations(#[case] d: Duration, #[case] text: &str) {
        assert_eq!(format_prom_duration(d), text);
        if !d.is_zero() && d.subsec_nanos().is_multiple_of(1_000_000) {
            assert_eq!(parse_duration(text), Ok(d), "round trip");
        }
    }

    #[rstest]
    #[case("5%", Ok(0.05))]
    #[case("0.25", Ok(0.25))]
    #[case("100%", Ok(1.0))]
    #[case("0", Ok(0.0))]
    #[case("150%", Err("error rate `150%` is out of range"))]
    #[case("-0.1", Err("out of range"))]
    #[case("often", Err("invalid error rate `often`"))]
    fn ratios(#[case] text: &str, #[case] expected: Result<f64, &str>) {
        match (parse_ratio("error rate", text), expected) {
            (Ok(got), Ok(want)) => assert!((got - want).abs() < 1e-12, "{text}: {got}"),
            (Err(got), Err(fragment)) => assert!(got.contains(fragment), "{got}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    #[rstest]
    #[case("200/s", 200.0)]
    #[case("50/m", 50.0 / 60.0)]
    #[case("3600/h", 1.0)]
    #[case("0.5/s", 0.5)]
    #[case("max", f64::INFINITY)]
    fn rates(#[case] text: &str, #[case] per_second: f64) {
        assert_eq!(parse_rate(text), Ok(Rate(per_second)));
    }

    #[rstest]
    #[case("200", "has no unit (hint: write `200/s`)")]
    #[case("0/s", "greater than zero")]
    #[case("-5/s", "greater than zero")]
    #[case("200/d", "invalid rate unit `/d`")]
    #[case("fast", "invalid rate `fast`")]
    #[case("inf/s", "invalid rate")]
    fn bad_rates(#[case] text: &str, #[case] fragment: &str) {
        let err = parse_rate(text).unwrap_err();
        assert!(err.contains(fragment), "{err}");
    }

    #[rstest]
    #[case("< 0.3", Expectation::Compare(CompareOp::Lt, 0.3))]
    #[case("<= 5", Expectation::Compare(CompareOp::Le, 5.0))]
    #[case("> 1", Expectation::Compare(CompareOp::Gt, 1.0))]
    #[case(">= 0.95", Expectation::Compare(CompareOp::Ge, 0.95))]
    #[case("== 0", Expectation::Compare(CompareOp::Eq, 0.0))]
    #[case("<0.3", Expectation::Compare(CompareOp::Lt, 0.3))]
    #[case("> -1", Expectation::Compare(CompareOp::Gt, -1.0))]
    #[case("< 1e6", Expectation::Compare(CompareOp::Lt, 1e6))]
    #[case("< 300ms", Expectation::Compare(CompareOp::Lt, 0.3))]
    #[case("< 2m", Expectation::Compare(CompareOp::Lt, 120.0))]
    #[case("< 5%", Expectation::Compare(CompareOp::Lt, 0.05))]
    #[case("between 0.9 and 1.1", Expectation::Between(0.9, 1.1))]
    #[case("between 90% and 110%", Expectation::Between(0.9, 1.1))]
    fn expectations(#[case] text: &str, #[case] expected: Expectation) {
        assert_eq!(parse_expectation(text), Ok(expected));
    }

    #[rstest]
    #[case("0.3", "has no comparison (hint: write e.g. `< 0.3`")]
    #[case("= 0", "did you mean `== 0`?")]
    #[case("=> 1", "did you mean `>= 1`?")]
    #[case("=<1", "did you mean `<=1`?")]
    #[case("<", "missing number")]
    #[case("< fast", "invalid number `fast`")]
    #[case("< nan", "invalid number `nan`")]
    #[case("between 1", "invalid range")]
    #[case("between 2 and 1", "empty range")]
    #[case("about 3", "invalid expectation")]
    fn bad_expectations(#[case] text: &str, #[case] fragment: &str) {
        let err = parse_expectation(text).unwrap_err();
        assert!(err.contains(fragment), "{err}");
    }

    #[rstest]
    #[case("p99 latency under 300ms", "p99_latency_under_300ms")]
    #[case("  Error ratio < 1% ", "error_ratio_1")]
    #[case("in-flight: max", "in_flight_max")]
    #[case("already_slug", "already_slug")]
    #[case("élan vital", "lan_vital")]
    #[case("!!!", "")]
    fn slugs(#[case] name: &str, #[case] expected: &str) {
        assert_eq!(slug(name), expected);
    }

    #[rstest]
    #[case("quickstart", true)]
    #[case("api-latency_2", true)]
    #[case("-x", false)]
    #[case("a b", false)]
    #[case("", false)]
    fn identifiers(#[case] name: &str, #[case] ok: bool) {
        assert_eq!(is_identifier(name), ok);
    }
}

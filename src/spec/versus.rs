//! The text of a comparison's expectation: `candidate at most 10% above base (95%)`, `candidate
//! at most 5% below base`, `candidate within 10% of base (99%)` → [`Expectation::Versus`].

use super::number::parse_number;
use super::expectation::bound_phrase;
use super::{Expectation, Side, Versus};

/// The confidence of a claim written without one.
pub(crate) const DEFAULT_CONFIDENCE: f64 = 0.95;
/// The confidence a claim may ask for, in percent: from 50 (a coin toss) to 99.9.
const CONFIDENCE_PERCENT: std::ops::RangeInclusive<f64> = 50.0..=99.9;

const HINT: &str = "(hint: `candidate at most 10% above base`, `candidate at most 10% below base` or `candidate within 10% of base`, optionally followed by a confidence such as `(95%)`)";

/// A candidate-versus-base claim; `None` when `text` does not start with `candidate`.
pub(crate) fn versus_expectation(text: &str) -> Option<Result<Expectation, String>> {
    let rest = text.strip_prefix("candidate")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(parse_claim(text, rest.trim()).map(Expectation::Versus))
}

fn parse_claim(text: &str, claim: &str) -> Result<Versus, String> {
    let (claim, confidence) = split_confidence(text, claim)?;
    let (tolerance, side) = bound_phrase(claim, "base").unwrap_or((None, Side::Above));
    let tolerance = tolerance.ok_or_else(|| format!("invalid comparison `{text}` {HINT}"))?;
    Ok(Versus {
        side,
        tolerance: parse_tolerance(text, tolerance.trim())?,
        confidence: confidence.unwrap_or(DEFAULT_CONFIDENCE),
    })
}

/// The claim without its trailing `(95%)`, and that confidence when written.
fn split_confidence<'a>(text: &str, claim: &'a str) -> Result<(&'a str, Option<f64>), String> {
    let Some(open) = claim.rfind('(') else {
        if claim.contains(')') {
            return Err(format!("unbalanced `)` in `{text}` {HINT}"));
        }
        return Ok((claim, None));
    };
    let Some(inner) = claim[open + 1..].trim_end().strip_suffix(')') else {
        return Err(format!(
            "the confidence in `{text}` must end the expectation, in parentheses {HINT}"
        ));
    };
    let inner = inner.trim();
    let percent = inner
        .strip_suffix('%')
        .and_then(|pct| parse_number(pct.trim()))
        .ok_or_else(|| {
            format!(
                "invalid confidence `({inner})` in `{text}` (hint: a percentage such as `(95%)`, `(90%)` or `(99.5%)`)"
            )
        })?;
    if !CONFIDENCE_PERCENT.contains(&percent) {
        return Err(format!(
            "confidence `{inner}` in `{text}` is out of range (hint: from 50% to 99.9%, e.g. `(95%)`)"
        ));
    }
    Ok((claim[..open].trim_end(), Some(percent / 100.0)))
}

/// A relative tolerance: a percentage above 0 and below 100.
fn parse_tolerance(text: &str, tolerance: &str) -> Result<f64, String> {
    let Some(pct) = tolerance.strip_suffix('%') else {
        return Err(format!(
            "the tolerance `{tolerance}` in `{text}` must be a percentage (hint: the candidate is compared relative to the base, e.g. `candidate at most 10% above base`)"
        ));
    };
    let value = parse_number(pct.trim())
        .ok_or_else(|| format!("invalid tolerance `{tolerance}` in `{text}` {HINT}"))?;
    if value <= 0.0 || value >= 100.0 {
        return Err(format!(
            "the tolerance `{tolerance}` in `{text}` must be above 0% and below 100% (hint: e.g. `10%`)"
        ));
    }
    Ok(value / 100.0)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::super::units::parse_expectation;
    use super::*;

    fn versus(side: Side, tolerance: f64, confidence: f64) -> Expectation {
        Expectation::Versus(Versus {
            side,
            tolerance,
            confidence,
        })
    }

    #[rstest]
    #[case("candidate at most 10% above base", versus(Side::Above, 0.10, 0.95))]
    #[case("candidate at most 10% below base", versus(Side::Below, 0.10, 0.95))]
    #[case("candidate within 10% of base", versus(Side::Both, 0.10, 0.95))]
    #[case("candidate at most 10% above base (95%)", versus(Side::Above, 0.10, 0.95))]
    #[case("candidate at most 5% below base (90%)", versus(Side::Below, 0.05, 0.90))]
    #[case("candidate within 2.5% of base (99.5%)", versus(Side::Both, 0.025, 0.995))]
    #[case("  candidate  at most 10 %  above base ( 99% ) ", versus(Side::Above, 0.10, 0.99))]
    #[case("candidate at most 10% above base (50%)", versus(Side::Above, 0.10, 0.5))]
    #[case("candidate at most 10% above base (99.9%)", versus(Side::Above, 0.10, 0.999))]
    fn good_forms(#[case] text: &str, #[case] expected: Expectation) {
        let got = parse_expectation(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let (Expectation::Versus(got), Expectation::Versus(want)) = (got, expected) else {
            panic!("{text}: {got:?}");
        };
        assert_eq!(got.side, want.side, "{text}");
        assert!((got.tolerance - want.tolerance).abs() < 1e-12, "{text}: {got:?}");
        assert!((got.confidence - want.confidence).abs() < 1e-12, "{text}: {got:?}");
    }

    #[rstest]
    #[case("candidate at most 10% above base", "candidate at most 10% above base (95%)")]
    #[case("candidate at most 5% below base (90%)", "candidate at most 5% below base (90%)")]
    #[case("candidate within 2.5% of base (99.5%)", "candidate within 2.5% of base (99.5%)")]
    fn display_round_trips(#[case] text: &str, #[case] shown: &str) {
        let parsed = parse_expectation(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.to_string(), shown);
        assert_eq!(parse_expectation(shown), Ok(parsed));
    }

    #[rstest]
    #[case("candidate", "invalid comparison `candidate` (hint: `candidate at most 10% above base`")]
    #[case("candidate faster than base", "invalid comparison")]
    #[case("candidate at most 10% above baseline", "invalid comparison")]
    #[case("candidate within 10% of the base", "invalid comparison")]
    #[case("candidate at most 10% above", "invalid comparison")]
    #[case("candidate at most 0.1 above base", "tolerance `0.1` in `candidate at most 0.1 above base` must be a percentage")]
    #[case("candidate at most 20ms above base", "must be a percentage")]
    #[case("candidate at most 0% above base", "must be above 0% and below 100%")]
    #[case("candidate at most -5% above base", "must be above 0% and below 100%")]
    #[case("candidate at most 100% above base", "must be above 0% and below 100%")]
    #[case("candidate at most lots% above base", "invalid tolerance `lots%`")]
    #[case("candidate at most 10% above base (0.95)", "invalid confidence `(0.95)`")]
    #[case("candidate at most 10% above base (sure)", "invalid confidence `(sure)`")]
    #[case("candidate at most 10% above base (49%)", "confidence `49%` in `candidate at most 10% above base (49%)` is out of range (hint: from 50% to 99.9%")]
    #[case("candidate at most 10% above base (99.95%)", "out of range")]
    #[case("candidate at most 10% above base (100%)", "out of range")]
    #[case("candidate at most 10% above base (95%", "must end the expectation, in parentheses")]
    #[case("candidate at most 10% above base (95%) now", "must end the expectation")]
    #[case("candidate at most 10% above base 95%)", "unbalanced `)`")]
    fn bad_forms(#[case] text: &str, #[case] fragment: &str) {
        let err = parse_expectation(text).unwrap_err();
        assert!(err.contains(fragment), "{text}: {err}");
    }

    #[test]
    fn other_words_are_not_claims() {
        assert_eq!(versus_expectation("candidates"), None);
        assert_eq!(versus_expectation("< 1"), None);
    }
}

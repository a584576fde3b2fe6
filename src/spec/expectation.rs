//! What an assertion expects of its values: a comparison, a range, or a bound relative to a
//! saved baseline (two-sided `within X of baseline`, one-sided `at most X above baseline`).

use super::tolerance::Tolerance;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expectation {
    Compare(CompareOp, f64),
    /// Inclusive on both ends.
    Between(f64, f64),
    /// Judged against the same assertion's values in a saved baseline run (see
    /// `verdict::baseline`); on its own no value holds.
    NearBaseline(Tolerance, Side),
    /// `candidate at most 10% above base (95%)`: judged on the paired base/candidate values of
    /// a `compare:` spec; on its own no value holds.
    Versus(Versus),
}

/// A claim about the candidate relative to the base, made at a confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Versus {
    /// `Above`: `at most X above base`; `Below`: `at most X below base`; `Both`: `within X of
    /// base`.
    pub side: Side,
    /// Relative: 0.10 for `10%`.
    pub tolerance: f64,
    /// How sure the verdict must be, 0.5..1 (`(95%)`, 0.95 when not written).
    pub confidence: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// Which moves away from the baseline a baseline expectation refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `within X of baseline`: a move either way beyond X.
    Both,
    /// `at most X above baseline`: a rise beyond X (latency, errors); any fall is fine.
    Above,
    /// `at most X below baseline`: a fall beyond X (throughput); any rise is fine.
    Below,
}

impl Side {
    /// Whether `new` stays on the accepted side of `old` by `tolerance`.
    pub fn accepts(self, tolerance: Tolerance, old: f64, new: f64) -> bool {
        match self {
            Side::Both => tolerance.accepts(old, new),
            Side::Above => new <= old || tolerance.accepts(old, new),
            Side::Below => new >= old || tolerance.accepts(old, new),
        }
    }
}

/// `within X of {reference}` or `at most X above|below {reference}`: the tolerance as written
/// (`None` when the phrase does not end as it must) and its side; `None` when `text` starts as
/// neither. Baseline expectations and `candidate …` claims share the phrasing.
pub(super) fn bound_phrase<'a>(text: &'a str, reference: &str) -> Option<(Option<&'a str>, Side)> {
    if let Some(rest) = text.strip_prefix("within ") {
        let tolerance = rest.trim().strip_suffix(&format!("of {reference}"));
        return Some((tolerance.map(str::trim), Side::Both));
    }
    let rest = text.strip_prefix("at most ")?.trim();
    for (side, word) in [(Side::Above, "above"), (Side::Below, "below")] {
        if let Some(tolerance) = rest.strip_suffix(&format!("{word} {reference}")) {
            return Some((Some(tolerance.trim()), side));
        }
    }
    Some((None, Side::Above))
}

impl Expectation {
    /// Whether `value` satisfies this expectation. NaN never does.
    pub fn holds(&self, value: f64) -> bool {
        match *self {
            Expectation::Compare(op, rhs) => match op {
                CompareOp::Lt => value < rhs,
                CompareOp::Le => value <= rhs,
                CompareOp::Gt => value > rhs,
                CompareOp::Ge => value >= rhs,
                CompareOp::Eq => value == rhs,
            },
            Expectation::Between(lo, hi) => value >= lo && value <= hi,
            Expectation::NearBaseline(..) | Expectation::Versus(_) => false,
        }
    }
}

impl std::fmt::Display for Expectation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expectation::Compare(op, v) => {
                let op = match op {
                    CompareOp::Lt => "<",
                    CompareOp::Le => "<=",
                    CompareOp::Gt => ">",
                    CompareOp::Ge => ">=",
                    CompareOp::Eq => "==",
                };
                write!(f, "{op} {v}")
            }
            Expectation::Between(a, b) => write!(f, "between {a} and {b}"),
            Expectation::NearBaseline(t, Side::Both) => write!(f, "within {t} of baseline"),
            Expectation::NearBaseline(t, Side::Above) => write!(f, "at most {t} above baseline"),
            Expectation::NearBaseline(t, Side::Below) => write!(f, "at most {t} below baseline"),
            Expectation::Versus(v) => write!(f, "{v}"),
        }
    }
}

impl std::fmt::Display for Versus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tolerance = Tolerance::Relative(self.tolerance);
        let claim = match self.side {
            Side::Above => format!("at most {tolerance} above"),
            Side::Below => format!("at most {tolerance} below"),
            Side::Both => format!("within {tolerance} of"),
        };
        // A confidence reads as a percentage, as a relative tolerance does.
        let confidence = Tolerance::Relative(self.confidence);
        write!(f, "candidate {claim} base ({confidence})")
    }
}

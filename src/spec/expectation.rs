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
            Expectation::NearBaseline(..) => false,
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
        }
    }
}

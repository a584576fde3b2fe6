//! How far a value may move from a stored one and still count as unchanged: the tolerance of
//! snapshots and of baseline expectations, and the rounding it implies.

/// How far a new value may move from the stored one and still count as unchanged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// `10%`: |new - old| <= ratio * |old|.
    Relative(f64),
    /// `0.05`, `20ms`: |new - old| <= delta.
    Absolute(f64),
    /// `2 digits`: equal when rounded to this many significant digits.
    Digits(u32),
    /// `log 2`: in the same logarithmic bucket [base^k, base^(k+1)).
    LogBuckets(f64),
}

impl Tolerance {
    /// Whether `new` counts as unchanged from `old`. NaN equals only NaN.
    pub fn accepts(&self, old: f64, new: f64) -> bool {
        if old.is_nan() || new.is_nan() {
            return old.is_nan() && new.is_nan();
        }
        if old == new {
            return true;
        }
        match *self {
            Tolerance::Relative(r) => (new - old).abs() <= r * old.abs(),
            Tolerance::Absolute(d) => (new - old).abs() <= d,
            Tolerance::Digits(n) => round_significant(old, n) == round_significant(new, n),
            Tolerance::LogBuckets(base) => log_bucket(old, base) == log_bucket(new, base),
        }
    }
}

impl std::fmt::Display for Tolerance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tolerance::Relative(r) => write!(f, "{}%", trim_float(r * 100.0)),
            Tolerance::Absolute(d) => write!(f, "{}", trim_float(*d)),
            Tolerance::Digits(n) => write!(f, "{n} digits"),
            Tolerance::LogBuckets(b) => write!(f, "log {}", trim_float(*b)),
        }
    }
}

/// `10.000000000000002` → `10`: a few digits are enough to name a tolerance.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `v` rounded to `digits` significant digits (0 and non-finite values unchanged).
pub fn round_significant(v: f64, digits: u32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let magnitude = v.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits.max(1) as i32 - 1 - magnitude);
    (v * scale).round() / scale
}

/// The bucket index of `v` on a log scale of `base`, with the sign kept apart; zero has its own.
fn log_bucket(v: f64, base: f64) -> (i8, i64) {
    if v == 0.0 || !v.is_finite() {
        return (0, 0);
    }
    let k = (v.abs().ln() / base.ln()).floor() as i64;
    (if v > 0.0 { 1 } else { -1 }, k)
}

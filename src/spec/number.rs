//! Plain numbers as specs write them, below every unit that carries one.

/// A finite decimal number; rejects `inf`, `nan` and other words Rust would accept.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let looks_numeric = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && text.chars().any(|c| c.is_ascii_digit());
    let v: f64 = text.parse().ok().filter(|_| looks_numeric)?;
    v.is_finite().then_some(v)
}

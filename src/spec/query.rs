//! `$phase` in a spec's PromQL: the placeholder for the length of the window a query is asked
//! about, and its one expansion (used by the gate, the snapshots and `perfgate validate`).

use std::time::Duration;

use super::units::format_prom_duration;

/// What a query writes for its window's length, e.g. `rate(x[$phase])`. It is not PromQL
/// syntax, so it cannot clash with anything else in a query.
pub(crate) const PHASE: &str = "$phase";

/// `query` with every `$phase` replaced by `length` (a PromQL duration).
pub(crate) fn expand_phase(query: &str, length: &str) -> String {
    query.replace(PHASE, length)
}

/// `$phase` becomes the window's length as a PromQL duration.
pub fn expand_query(query: &str, window: Duration) -> String {
    expand_phase(query, &format_prom_duration(window))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_phase_to_window_length() {
        assert_eq!(
            expand_query("rate(x[$phase]) / rate(y[$phase])", Duration::from_secs(30)),
            "rate(x[30s]) / rate(y[30s])"
        );
    }

    #[test]
    fn expands_phase_to_any_text() {
        assert_eq!(expand_phase("x[$phase]", "99999s"), "x[99999s]");
    }
}

//! How a record holds a phase's built-in delivery verdict (`<phase>::delivered`, judged in
//! `verdict::delivered`): which verdicts are ones, the checks its observed series are labelled with, and their
//! one-line rendering for the verdict table (`answered 100 %, no response 0 %, lag p99 2.4 ms`).

use super::failure::format_value;
use super::record::Verdict;
use crate::prom::Series;
use crate::spec::DELIVERY_SUFFIX;

/// One value a delivery verdict observed, as its series' `check` label names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryCheck {
    /// Share of the planned requests answered (HTTP, open model).
    Answered,
    /// Share of requests sent that got no response (HTTP).
    NoResponse,
    /// The generator's dispatch-lag p99, seconds (HTTP, open model).
    SendLag,
    /// Samples the receiver did not accept (replicate).
    Dropped,
    /// Share of the clients that started (swarm).
    ClientsStarted,
    /// Seconds until the load was queryable (freshness).
    Freshness,
}

const CHECKS: [DeliveryCheck; 6] = [
    DeliveryCheck::Answered,
    DeliveryCheck::NoResponse,
    DeliveryCheck::SendLag,
    DeliveryCheck::Dropped,
    DeliveryCheck::ClientsStarted,
    DeliveryCheck::Freshness,
];

impl DeliveryCheck {
    /// The `check` label value.
    pub fn id(self) -> &'static str {
        match self {
            Self::Answered => "answered_share",
            Self::NoResponse => "transport_error_share",
            Self::SendLag => "send_lag_p99_seconds",
            Self::Dropped => "samples_dropped",
            Self::ClientsStarted => "clients_started_share",
            Self::Freshness => "lag_seconds",
        }
    }

    /// What the value is, how it is written, and its unit: `("lag p99", "2.4", " ms")`.
    fn words(self, value: f64) -> (&'static str, String, &'static str) {
        let pct = |v: f64| percent_figure(v).to_string();
        match self {
            Self::Answered => ("answered", pct(value), " %"),
            Self::NoResponse => ("no response", pct(value), " %"),
            Self::SendLag => ("lag p99", format!("{:.1}", value * 1e3), " ms"),
            Self::Dropped => ("dropped", format_value(value), ""),
            Self::ClientsStarted => ("started", pct(value), " %"),
            Self::Freshness => ("queryable after", format!("{value:.1}"), " s"),
        }
    }
}

impl Verdict {
    /// Whether this is a phase's built-in delivery verdict (not a gate of the spec's).
    pub fn is_delivery(&self) -> bool {
        self.id.ends_with(DELIVERY_SUFFIX)
    }
}

/// `share` as a percentage rounded to a tenth: 0.8417 → 84.2.
fn percent_figure(share: f64) -> f64 {
    (share * 1000.0).round() / 10.0
}

/// `share` for a sentence: `95 %`, `99.5 %`, `84.2 %`.
pub fn percent(share: f64) -> String {
    format!("{} %", percent_figure(share))
}

/// The observed values of a delivery verdict in one line, each check once: its value, or the
/// range over the runs of a repeated phase (`answered 97.1..100 %`).
pub(super) fn observed_line(series: &[Series]) -> String {
    let mut parts = Vec::new();
    for check in CHECKS {
        let values: Vec<f64> = series
            .iter()
            .filter(|s| s.labels.get("check").map(String::as_str) == Some(check.id()))
            .flat_map(|s| s.samples.iter().map(|p| p.v))
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if values.is_empty() {
            continue;
        }
        let (what, low, unit) = check.words(lo);
        let (_, high, _) = check.words(hi);
        if low == high {
            parts.push(format!("{what} {low}{unit}"));
        } else {
            parts.push(format!("{what} {low}..{high}{unit}"));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::prom::Sample;

    fn series(check: DeliveryCheck, run: &str, v: f64) -> Series {
        Series {
            labels: BTreeMap::from([
                ("check".to_owned(), check.id().to_owned()),
                ("run".to_owned(), run.to_owned()),
            ]),
            samples: vec![Sample { t: 0.0, v }],
        }
    }

    #[test]
    fn a_delivery_is_one_line_with_ranges_over_runs() {
        let one = [
            series(DeliveryCheck::Answered, "a", 1.0),
            series(DeliveryCheck::NoResponse, "a", 0.0),
            series(DeliveryCheck::SendLag, "a", 0.00244),
        ];
        assert_eq!(observed_line(&one), "answered 100 %, no response 0 %, lag p99 2.4 ms");
        let two = [
            series(DeliveryCheck::Answered, "a", 1.0),
            series(DeliveryCheck::Answered, "b", 0.8417),
        ];
        assert_eq!(observed_line(&two), "answered 84.2..100 %");
    }
}

//! `client: p50` in an assertion: a statistic the HTTP engine measured exactly (HDR histogram,
//! every request of the phase) instead of a PromQL query, so a gate or a comparison is not
//! blurred by the client histogram's bucket edges.

/// A statistic of the latencies one HTTP phase saw, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStat {
    Mean,
    P50,
    P90,
    P99,
    Max,
}

impl ClientStat {
    /// Every statistic with its name in specs.
    pub const ALL: [(ClientStat, &'static str); 5] = [
        (ClientStat::Mean, "mean"),
        (ClientStat::P50, "p50"),
        (ClientStat::P90, "p90"),
        (ClientStat::P99, "p99"),
        (ClientStat::Max, "max"),
    ];

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        Self::ALL
            .iter()
            .find(|(_, name)| *name == text)
            .map(|(stat, _)| *stat)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, n)| *n).collect();
                format!(
                    "unknown client statistic `{text}` (hint: one of {})",
                    names.join(", ")
                )
            })
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(stat, _)| *stat == self)
            .map_or("", |(_, name)| name)
    }

    /// What a verdict shows as its query: `client p50 latency of phase steady (exact)`.
    pub fn describe(self, phase: &str) -> String {
        format!("client {} latency of phase {phase} (exact)", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statistic_parses_by_its_name_and_others_are_refused() {
        for (stat, name) in ClientStat::ALL {
            assert_eq!(ClientStat::parse(name), Ok(stat));
            assert_eq!(stat.name(), name);
        }
        let err = ClientStat::parse("p95").unwrap_err();
        assert!(err.contains("one of mean, p50, p90, p99, max"), "{err}");
    }
}

//! What a phase produced, one variant per engine: the typed account a `PhaseRecord` keeps. On
//! disk it is the engine outcome's own JSON object (no tag: the record's `kind` says which), so
//! report.json keeps its shape; a saved outcome that fits no engine (another perfgate version)
//! is kept as it was read.

use serde::{Serialize, Serializer};

use super::freshness::FreshnessOutcome;
use super::http::HttpPhaseOutcome;
use super::replicate::ReplicateOutcome;
use super::swarm::SwarmOutcome;

#[derive(Debug, Clone, PartialEq)]
pub enum PhaseOutcome {
    Http(HttpPhaseOutcome),
    Freshness(FreshnessOutcome),
    Replicate(ReplicateOutcome),
    Swarm(SwarmOutcome),
    /// A saved outcome that does not read as its kind's engine outcome, kept verbatim.
    Unrecognised(serde_json::Value),
}

impl PhaseOutcome {
    /// Reads a saved outcome of a phase of `kind` (`http`, `freshness`, `replicate`, `swarm`).
    pub fn from_saved(kind: &str, value: serde_json::Value) -> Self {
        let typed = match kind {
            "http" => serde_json::from_value(value.clone()).map(Self::Http),
            "freshness" => serde_json::from_value(value.clone()).map(Self::Freshness),
            "replicate" => serde_json::from_value(value.clone()).map(Self::Replicate),
            "swarm" => serde_json::from_value(value.clone()).map(Self::Swarm),
            _ => return Self::Unrecognised(value),
        };
        typed.unwrap_or(Self::Unrecognised(value))
    }

    /// The outcome as a JSON value, exactly as report.json holds it.
    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            Self::Http(o) => serde_json::to_value(o),
            Self::Freshness(o) => serde_json::to_value(o),
            Self::Replicate(o) => serde_json::to_value(o),
            Self::Swarm(o) => serde_json::to_value(o),
            Self::Unrecognised(v) => return v.clone(),
        };
        value.unwrap_or_default()
    }
}

/// Through a `serde_json::Value`, as the record always held it: keys in sorted order and
/// non-finite numbers as `null`, so report.json stays byte for byte what it was.
impl Serialize for PhaseOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::http::{ErrorCounts, LatencySummary, StatusClasses};

    fn http() -> HttpPhaseOutcome {
        HttpPhaseOutcome {
            phase: "steady".into(),
            requested_rate: Some(40.0),
            achieved_rate: 40.0,
            sent: 120,
            completed: 120,
            completed_by_endpoint: [("/health".to_owned(), 120)].into(),
            ok: 118,
            status_classes: StatusClasses::default(),
            statuses: [(200, 118), (503, 2)].into(),
            errors: ErrorCounts::default(),
            dropped: 0,
            latency: LatencySummary::default(),
            dispatch_lag: None,
            duration: 3.0,
            wall_duration: 3.1,
        }
    }

    #[test]
    fn an_outcome_reads_back_as_its_kind_and_writes_the_same_json() {
        let outcome = PhaseOutcome::Http(http());
        let text = serde_json::to_string(&outcome).unwrap();
        // As the record always held it: the engine's object, keys sorted, no tag.
        assert!(
            text.starts_with(r#"{"achieved_rate":40.0,"completed":120,"#),
            "{text}"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let back = PhaseOutcome::from_saved("http", value);
        assert_eq!(back, outcome);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn an_outcome_of_another_kind_is_kept_verbatim() {
        let saved = serde_json::to_value(http()).unwrap();
        let read = PhaseOutcome::from_saved("swarm", saved.clone());
        assert_eq!(read, PhaseOutcome::Unrecognised(saved));
    }
}

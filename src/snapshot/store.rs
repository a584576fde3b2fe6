//! The snapshot file body and the tolerance-aware comparison that keeps it stable: a stored
//! value stays byte-for-byte as it was while the new value is within tolerance of it, so insta
//! sees a change only when something moved beyond tolerance.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::prom::Series;
use crate::report::{SeriesChange, SnapshotStatus};
use crate::spec::{SnapshotQuery, Tolerance, round_significant};

/// The YAML body of a snapshot file (after insta's metadata header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredSnapshot {
    pub query: String,
    pub window: String,
    pub tolerance: String,
    /// `{labels}` → value, sorted by labels.
    pub series: IndexMap<String, f64>,
}

/// `<dir>/<spec>__<id>.snap`, the name insta gives a snapshot named `<spec>__<id>` when the
/// module is not prepended.
pub fn snapshot_name(spec: &str, id: &str) -> String {
    format!("{spec}__{id}")
}

pub fn snapshot_file(dir: &Path, spec: &str, id: &str) -> PathBuf {
    dir.join(format!("{}.snap", snapshot_name(spec, id)))
}

/// The body of an insta `.snap` file: what follows the second `---` line.
pub fn read_body(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut lines = text.split_inclusive('\n');
    let first = lines.next()?;
    if first.trim_end() != "---" {
        return Some(text);
    }
    let mut offset = first.len();
    for line in lines {
        offset += line.len();
        if line.trim_end() == "---" {
            return Some(text[offset..].to_owned());
        }
    }
    None
}

pub fn parse_body(body: &str) -> Option<StoredSnapshot> {
    serde_yaml_ng::from_str(body).ok()
}

/// What a run's outcome does to a stored snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub status: SnapshotStatus,
    pub changes: Vec<SeriesChange>,
    pub contents: String,
}

/// Compares the new `series` (last point of each) with the stored body, if any.
pub fn compare(query: &SnapshotQuery, series: &[Series], stored: Option<&str>) -> Comparison {
    let old = stored.and_then(parse_body);
    let mut new_values: Vec<(String, f64)> = series
        .iter()
        .map(|s| {
            let v = s.samples.last().map_or(f64::NAN, |p| p.v);
            (s.label_string(), v)
        })
        .collect();
    new_values.sort_by(|a, b| a.0.cmp(&b.0));
    let mut kept = IndexMap::new();
    let mut changes = Vec::new();
    for (labels, new) in &new_values {
        let previous = old.as_ref().and_then(|o| o.series.get(labels)).copied();
        let within = previous.is_some_and(|p| query.tolerance.accepts(p, *new));
        let value = match previous {
            Some(p) if within => p,
            _ => round_for(query.tolerance, *new),
        };
        kept.insert(labels.clone(), value);
        changes.push(SeriesChange {
            series: labels.clone(),
            old: previous,
            new: Some(*new),
            within,
        });
    }
    if let Some(o) = &old {
        for (labels, v) in &o.series {
            if !kept.contains_key(labels) {
                changes.push(SeriesChange {
                    series: labels.clone(),
                    old: Some(*v),
                    new: None,
                    within: false,
                });
            }
        }
    }
    let body = StoredSnapshot {
        query: query.query.trim().to_owned(),
        window: query
            .during
            .clone()
            .unwrap_or_else(|| "whole load".to_owned()),
        tolerance: query.tolerance.to_string(),
        series: kept,
    };
    let contents = serde_yaml_ng::to_string(&body).unwrap_or_default();
    let status = match stored {
        None => SnapshotStatus::New,
        Some(s) if s.trim_end() == contents.trim_end() => SnapshotStatus::Unchanged,
        Some(_) => SnapshotStatus::Changed,
    };
    Comparison {
        status,
        changes,
        contents,
    }
}

/// A new value as stored: only as many digits as the tolerance can tell apart, so the file is
/// readable and a stored value does not pretend to a precision the run does not have.
pub fn round_for(tolerance: Tolerance, v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    match tolerance {
        Tolerance::Relative(r) if r > 0.0 => {
            round_significant(v, ((-r.log10()).ceil() as i32 + 2).clamp(3, 15) as u32)
        }
        Tolerance::Absolute(d) if d > 0.0 => {
            let quantum = 10f64.powi(d.log10().floor() as i32 - 1);
            let rounded = (v / quantum).round() * quantum;
            // Strip float noise (`0.30000000000000004`) by a last pass to 15 digits.
            round_significant(rounded, 15)
        }
        Tolerance::Digits(n) => round_significant(v, n),
        Tolerance::LogBuckets(_) => round_significant(v, 3),
        Tolerance::Relative(_) | Tolerance::Absolute(_) => round_significant(v, 15),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::prom::Sample;
    use crate::spec::Location;

    fn query(tolerance: Tolerance) -> SnapshotQuery {
        SnapshotQuery {
            name: "requests".into(),
            id: "requests".into(),
            query: "sum by (endpoint) (x)".into(),
            during: Some("steady".into()),
            tolerance,
            query_location: Location::default(),
        }
    }

    fn series(values: &[(&str, f64)]) -> Vec<Series> {
        values
            .iter()
            .map(|(e, v)| Series {
                labels: BTreeMap::from([("endpoint".to_string(), e.to_string())]),
                samples: vec![Sample { t: 0.0, v: *v }],
            })
            .collect()
    }

    #[test]
    fn within_tolerance_keeps_the_stored_bytes() {
        let q = query(Tolerance::Relative(0.1));
        let first = compare(&q, &series(&[("/a", 100.0), ("/b", 0.5)]), None);
        assert_eq!(first.status, SnapshotStatus::New);
        let second = compare(
            &q,
            &series(&[("/a", 108.3), ("/b", 0.46)]),
            Some(&first.contents),
        );
        assert_eq!(second.status, SnapshotStatus::Unchanged);
        assert_eq!(second.contents, first.contents);
        assert!(second.changes.iter().all(|c| c.within));
    }

    #[test]
    fn beyond_tolerance_writes_the_new_value_and_names_the_series() {
        let q = query(Tolerance::Relative(0.1));
        let first = compare(&q, &series(&[("/a", 100.0), ("/b", 0.5)]), None);
        let second = compare(
            &q,
            &series(&[("/a", 100.0), ("/b", 1.04)]),
            Some(&first.contents),
        );
        assert_eq!(second.status, SnapshotStatus::Changed);
        assert!(
            second.contents.contains(r#"'{endpoint="/b"}': 1.04"#),
            "{}",
            second.contents
        );
        assert!(
            second.contents.contains(r#"'{endpoint="/a"}': 100.0"#),
            "{}",
            second.contents
        );
        let b = second
            .changes
            .iter()
            .find(|c| c.series.contains("/b"))
            .unwrap();
        assert_eq!((b.old, b.new, b.within), (Some(0.5), Some(1.04), false));
    }

    #[test]
    fn a_vanished_series_is_a_change() {
        let q = query(Tolerance::Absolute(1.0));
        let first = compare(&q, &series(&[("/a", 1.0), ("/b", 2.0)]), None);
        let second = compare(&q, &series(&[("/a", 1.0)]), Some(&first.contents));
        assert_eq!(second.status, SnapshotStatus::Changed);
        assert!(second.changes.iter().any(|c| c.new.is_none()));
    }

    #[test]
    fn digits_and_log_buckets() {
        assert!(Tolerance::Digits(2).accepts(0.123, 0.1249));
        assert!(!Tolerance::Digits(2).accepts(0.123, 0.126));
        assert!(Tolerance::LogBuckets(2.0).accepts(65.0, 127.0));
        assert!(!Tolerance::LogBuckets(2.0).accepts(65.0, 129.0));
        assert_eq!(round_for(Tolerance::Absolute(0.05), 0.123456), 0.123);
        assert_eq!(round_for(Tolerance::Relative(0.1), 123.456), 123.0);
    }

    #[test]
    fn reads_the_body_after_insta_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.snap");
        std::fs::write(&file, "---\nsource: a.rs\nexpression: x\n---\nquery: q\n").unwrap();
        assert_eq!(read_body(&file).as_deref(), Some("query: q\n"));
    }
}

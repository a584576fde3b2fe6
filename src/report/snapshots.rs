//! Snapshot outcomes in words: what changed, series by series, old → new.

use std::fmt::Write as _;

use super::failure::format_value;
use super::record::{SeriesChange, SnapshotOutcome, SnapshotStatus};

/// `snapshot changed: requests` and one line per series that moved, came or went.
pub fn describe_snapshot(outcome: &SnapshotOutcome) -> String {
    let mut out = String::new();
    let head = match outcome.status {
        SnapshotStatus::New => "new snapshot (none stored yet)",
        SnapshotStatus::Unchanged => "snapshot assertion failed",
        SnapshotStatus::Changed | SnapshotStatus::Error => "snapshot changed beyond tolerance",
    };
    let _ = writeln!(out, "{head}: {}", outcome.name);
    let _ = writeln!(out, "  query:     {}", outcome.query);
    let _ = writeln!(out, "  tolerance: {}", outcome.tolerance);
    for c in outcome.changes.iter().filter(|c| !c.within) {
        let _ = writeln!(out, "  {}", change_line(c));
    }
    let _ = write!(
        out,
        "  file:      {} (review with `cargo insta review`)",
        outcome.file.display()
    );
    out
}

/// `{endpoint="/b"}: 0.5 → 1.04 (+108%)`.
pub fn change_line(c: &SeriesChange) -> String {
    match (c.old, c.new) {
        (Some(o), Some(n)) => format!(
            "{}: {} → {}{}",
            c.series,
            format_value(o),
            format_value(n),
            relative(o, n).map_or(String::new(), |r| format!(" ({r})"))
        ),
        (None, Some(n)) => format!("{}: new series, {}", c.series, format_value(n)),
        (Some(o), None) => format!("{}: gone (was {})", c.series, format_value(o)),
        (None, None) => c.series.clone(),
    }
}

/// `+12.5%`, or `None` when the old value is zero or not finite.
pub fn relative(old: f64, new: f64) -> Option<String> {
    (old != 0.0 && old.is_finite() && new.is_finite())
        .then(|| format!("{:+.1}%", (new - old) / old.abs() * 100.0))
}

//! summary.md: stack and tool versions, phases (achieved vs requested load), every assertion,
//! snapshot diffs and failure details. A pure function of the record.

use std::fmt::Write as _;

use super::failure::failure_message;
use super::record::{RunRecord, SnapshotOutcome, SnapshotStatus};
use super::snapshots::change_line;
use super::table::{phase_table, snapshot_table, verdict_table};

/// summary.md of `record`: header, stack, phases, assertions (with failure details) and
/// snapshots.
pub fn summary_markdown(record: &RunRecord) -> String {
    let mut out = String::new();
    header(&mut out, record);
    stack(&mut out, record);
    let _ = writeln!(
        out,
        "\n## Phases\n\n```\n{}\n```\n",
        phase_table(record, false)
    );
    assertions(&mut out, record);
    if !record.snapshots.is_empty() {
        let _ = writeln!(
            out,
            "## Snapshots\n\n```\n{}\n```\n",
            snapshot_table(record, false)
        );
        for s in &record.snapshots {
            snapshot_detail(&mut out, s);
        }
    }
    out
}

/// The title, what ran and how long the stack took; the run's failure if any.
fn header(out: &mut String, record: &RunRecord) {
    let _ = writeln!(out, "# perfgate run: {}\n", record.spec);
    let version = if record.perfgate_version.is_empty() {
        "unknown"
    } else {
        record.perfgate_version.as_str()
    };
    let _ = writeln!(
        out,
        "spec `{}`, run `{}`, perfgate {version}, stack up in {} ms, every target scraped {} ms later\n",
        record.spec_path.display(),
        record.run_id,
        record.bring_up_ms,
        record.first_scrape_ms
    );
    if let Some(f) = &record.failure {
        let _ = writeln!(out, "**{:?}**: {}\n", f.kind, f.message);
    }
}

/// One line per service: kind, tool, readiness time, log.
fn stack(out: &mut String, record: &RunRecord) {
    let _ = writeln!(out, "## Stack\n");
    for s in &record.services {
        let tool = s.tool.as_deref().unwrap_or("built-in");
        let _ = writeln!(
            out,
            "- `{}` ({}, {tool}), ready after {} ms, log `{}`",
            s.name,
            s.kind,
            s.ready_after_ms,
            s.log.display()
        );
    }
}

/// The verdict table, the baseline it was judged against, and each failure's message.
fn assertions(out: &mut String, record: &RunRecord) {
    let _ = writeln!(
        out,
        "## Assertions\n\n```\n{}\n```\n",
        verdict_table(record, false)
    );
    if let Some(b) = &record.baseline {
        let run = b.run_id.as_deref().unwrap_or("none found");
        let _ = writeln!(
            out,
            "Baseline `{}` (run `{run}`, `{}`).\n",
            b.name,
            b.path.display()
        );
    }
    for v in &record.verdicts {
        if let Some(msg) = failure_message(record, v) {
            let _ = writeln!(out, "```\n{msg}\n```\n");
        }
    }
}

/// What a snapshot that did not stay the same shows: its error, or the series that moved.
fn snapshot_detail(out: &mut String, s: &SnapshotOutcome) {
    match s.status {
        SnapshotStatus::Unchanged => {}
        SnapshotStatus::Error => {
            let _ = writeln!(
                out,
                "- `{}`: query failed: {}",
                s.id,
                s.error.as_deref().unwrap_or("unknown error")
            );
        }
        SnapshotStatus::New | SnapshotStatus::Changed => {
            let what = if s.status == SnapshotStatus::New {
                "new"
            } else {
                "changed"
            };
            let _ = writeln!(
                out,
                "### `{}` {what} (tolerance {})\n\n`{}`\n\n```diff",
                s.id,
                s.tolerance,
                s.file.display()
            );
            for c in s.changes.iter().filter(|c| !c.within) {
                let _ = writeln!(out, "{}", change_line(c));
            }
            let _ = writeln!(out, "```\n");
        }
    }
}

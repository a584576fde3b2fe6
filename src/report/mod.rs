//! Run records and their renderings: tables, failure messages, summary.md, junit.xml,
//! report.html (with SVG plots), run-to-run diffs. Pure functions of a `RunRecord`; nothing
//! here talks to a service.

mod delivery;
mod diff;
mod failure;
mod files;
mod grid;
mod html;
mod junit;
mod outcomes;
mod record;
mod snapshots;
mod summary;
mod svg;
mod table;

pub use delivery::{DeliveryCheck, percent};
pub use diff::diff_records;
pub use failure::{failure_message, format_value};
pub use files::{read_record, write_report};
pub use outcomes::{replicate_summary, swarm_table};
pub use record::{
    BaselineRef, Failure, FailureKind, Outcome, PhaseNoise, PhaseRecord, Plot, RunRecord, SeriesChange,
    SnapshotOutcome, SnapshotStatus, Verdict, Window,
};
pub use snapshots::describe_snapshot;
pub use table::{phase_table, snapshot_table, verdict_table};
#[cfg(any(test, feature = "internals"))]
pub use {html::report_html, junit::junit_xml, summary::summary_markdown};

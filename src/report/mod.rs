//! Run records and their renderings: the verdict table, failure messages, report files.
//! Pure functions of a `RunRecord`; nothing here talks to a service.

mod failure;
mod files;
mod record;
mod table;

pub use failure::{failure_message, format_value, unix_to_utc};
pub use files::{read_record, write_report};
pub use record::{Failure, FailureKind, Outcome, PhaseRecord, RunRecord, Verdict, Window};
pub use table::{phase_table, verdict_table};

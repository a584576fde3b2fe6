//! Handing a snapshot outcome to insta, so `.snap.new` files, `INSTA_UPDATE`, `CI=true` and
//! `cargo insta review` / `accept` behave as insta users expect.

use std::path::{Path, PathBuf};

use super::store::snapshot_name;
use crate::report::{SnapshotOutcome, describe_snapshot};

/// Asserts `outcome.contents` against the stored snapshot with insta. `Err` carries a readable
/// account of what changed (insta has printed its own diff to the terminal too).
pub fn check_snapshot(spec: &str, outcome: &SnapshotOutcome) -> Result<(), String> {
    if let Some(e) = &outcome.error {
        return Err(format!(
            "snapshot `{}` could not be evaluated: {e}\n  query: {}",
            outcome.name, outcome.query
        ));
    }
    let dir = outcome
        .file
        .parent()
        .map_or_else(|| PathBuf::from("snapshots"), Path::to_path_buf);
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!(
        "perfgate snapshot `{}` of spec `{spec}`",
        outcome.name
    ));
    let name = snapshot_name(spec, &outcome.id);
    let contents = outcome.contents.clone();
    // insta reports a mismatch by panicking (that is its contract inside tests); the panic is
    // caught here and becomes an ordinary error.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        settings.bind(|| insta::assert_snapshot!(name.as_str(), contents));
    }));
    match result {
        Ok(()) => Ok(()),
        Err(_) => Err(describe_snapshot(outcome)),
    }
}

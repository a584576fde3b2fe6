//! Snapshot-diffed metric outcomes: the `snapshot:` queries of a spec, their stable YAML
//! snapshot files (stored values kept while within tolerance), and insta's review workflow.

mod check;
mod collect;
mod store;

pub use check::check_snapshot;
pub use collect::{collect_plots, collect_snapshots};

//! Pass 2 for `snapshot:` entries: names, windows, tolerances; and where snapshot files live.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::locate::YamlPath;
use super::model::SnapshotQuery;
use super::tolerance::Tolerance;
use super::named_query::{NamedQuery, check_named_query};
use super::raw::RawSnapshot;
use super::units::parse_tolerance;

/// The tolerance of a snapshot query that names none.
pub const DEFAULT_TOLERANCE: Tolerance = Tolerance::Relative(0.10);

pub(crate) fn snapshots(
    ctx: &mut Ctx,
    items: &[Value],
    at: &YamlPath,
    phases: &[String],
) -> Option<Vec<SnapshotQuery>> {
    let mut out = Vec::new();
    let mut ok = true;
    let mut ids: HashMap<String, (String, usize)> = HashMap::new();
    for (i, value) in items.iter().enumerate() {
        match snapshot(ctx, value, &at.index(i), phases, &mut ids) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn snapshot(
    ctx: &mut Ctx,
    value: &Value,
    at: &YamlPath,
    phases: &[String],
    ids: &mut HashMap<String, (String, usize)>,
) -> Option<SnapshotQuery> {
    let raw = ctx.de::<RawSnapshot>(value, at)?;
    let entry = NamedQuery {
        what: "snapshot",
        becomes: "snapshot",
        name: &raw.name,
        during: raw.during.as_deref(),
        query: &raw.query,
    };
    let (id, ok) = check_named_query(ctx, at, &entry, phases, ids);
    let query_at = at.key("query");
    let tolerance = match &raw.tolerance {
        Some(text) => ctx.check(&at.key("tolerance"), parse_tolerance(&text.0)),
        None => Some(DEFAULT_TOLERANCE),
    };
    if !ok {
        return None;
    }
    Some(SnapshotQuery {
        name: raw.name,
        id,
        query: raw.query,
        during: raw.during,
        tolerance: tolerance?,
        query_location: ctx.index.content_start(&query_at),
    })
}

/// `snapshot_dir:` resolved against the spec's folder; `<spec folder>/snapshots` by default.
pub(crate) fn snapshot_dir(spec_path: &Path, configured: Option<&str>) -> PathBuf {
    let base = spec_path.parent().unwrap_or(Path::new(""));
    match configured {
        Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => base.join(dir),
        None => base.join("snapshots"),
    }
}

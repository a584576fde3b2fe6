//! What assertions and snapshots share: a named query entry (name → id, `during`, query) and
//! its checks.

use std::collections::HashMap;

use super::decode::Ctx;
use super::locate::YamlPath;
use super::units::slug;

/// What assertions and snapshots share: a name that becomes an id, a `during` phase, a query.
pub(super) struct NamedQuery<'a> {
    /// "assertion" or "snapshot", for messages.
    pub what: &'static str,
    /// What the id becomes: "test" or "snapshot".
    pub becomes: &'static str,
    pub name: &'a str,
    pub during: Option<&'a str>,
    pub query: &'a str,
}

/// Checks a named query entry at `at`: a non-empty, unique id (recorded in `ids` with its line),
/// a known `during` phase, a non-empty query. Returns the id and whether all of it was valid.
pub(super) fn check_named_query(
    ctx: &mut Ctx,
    at: &YamlPath,
    entry: &NamedQuery<'_>,
    phases: &[String],
    ids: &mut HashMap<String, (String, usize)>,
) -> (String, bool) {
    let mut ok = true;
    let name_at = at.key("name");
    let id = slug(entry.name);
    if id.is_empty() {
        ctx.at_value(
            &name_at,
            format!(
                "{} name `{}` has no letters or digits (hint: the name becomes the {} name)",
                entry.what,
                entry.name,
                if entry.becomes == "test" {
                    "test"
                } else {
                    "snapshot file"
                }
            ),
        );
        ok = false;
    } else if let Some((first, line)) = ids.get(&id) {
        ctx.at_value(&name_at, format!("duplicate {} id `{id}`", entry.what))
            .hint = Some(format!(
            "`{}` and `{first}` (line {line}) both become {} `{id}`; rename one",
            entry.name, entry.becomes
        ));
        ok = false;
    } else {
        let line = ctx.index.value(&name_at).location.line;
        ids.insert(id.clone(), (entry.name.to_owned(), line));
    }
    if let Some(during) = entry.during
        && !phases.iter().any(|p| p == during)
    {
        let known: Vec<&str> = phases.iter().map(String::as_str).collect();
        ctx.unknown_name(&at.key("during"), "phase", during, &known);
        ok = false;
    }
    if entry.query.trim().is_empty() {
        ctx.at_value(
            &at.key("query"),
            "the query is empty (hint: write a PromQL expression)",
        );
        ok = false;
    }
    (id, ok)
}

//! `perfgate diff`: what changed between two runs, per assertion and per snapshot series.

use std::collections::BTreeSet;

use comfy_table::{Cell, Color, Table};

use super::failure::format_value;
use super::grid::table;
use super::record::{Outcome, RunRecord, Verdict};
use super::snapshots::relative;
use crate::prom::Series;

#[derive(Debug, Clone, PartialEq)]
pub struct DiffOutcome {
    /// The rendered tables.
    pub text: String,
    /// Assertions whose verdict differs between the runs (either way).
    pub flipped: Vec<String>,
}

fn word(o: Option<&Outcome>) -> &'static str {
    o.map_or("-", Outcome::word)
}

fn last(series: &[Series], labels: &str) -> Option<f64> {
    series
        .iter()
        .find(|s| s.label_string() == labels)
        .and_then(|s| s.samples.last())
        .map(|p| p.v)
}

fn show(v: Option<f64>) -> String {
    v.map_or("-".into(), format_value)
}

fn change(old: Option<f64>, new: Option<f64>) -> String {
    match (old, new) {
        (Some(o), Some(n)) => relative(o, n).unwrap_or_else(|| "n/a".into()),
        _ => String::new(),
    }
}

/// The labels of `new`'s series, then those only `old` has.
fn union_labels(old: Option<&[Series]>, new: Option<&[Series]>) -> Vec<String> {
    let labels = |s: Option<&[Series]>| -> Vec<String> {
        s.map(|s| s.iter().map(Series::label_string).collect())
            .unwrap_or_default()
    };
    let mut out = labels(new);
    for l in labels(old) {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// One assertion's rows: (series labels, old value, new value).
type Row = (String, Option<f64>, Option<f64>);

/// An assertion's rows: one per series of either run, or one when there is nothing to list.
fn verdict_rows(old: Option<&Verdict>, new: Option<&Verdict>) -> Vec<Row> {
    let series = union_labels(
        old.map(|v| v.series.as_slice()),
        new.map(|v| v.series.as_slice()),
    );
    // A single series on both sides is the same value even if its labels changed.
    let single = series.len() != 1
        && old.is_some_and(|v| v.series.len() == 1)
        && new.is_some_and(|v| v.series.len() == 1);
    if single {
        let get = |v: Option<&Verdict>| v.and_then(|v| v.series[0].samples.last()).map(|p| p.v);
        vec![(String::new(), get(old), get(new))]
    } else if series.is_empty() {
        vec![(String::new(), None, None)]
    } else {
        series
            .iter()
            .map(|l| {
                let o = old.and_then(|v| last(&v.series, l));
                let n = new.and_then(|v| last(&v.series, l));
                (l.clone(), o, n)
            })
            .collect()
    }
}

/// Compares run `a` (old) with run `b` (new).
pub fn diff_records(a: &RunRecord, b: &RunRecord, color: bool) -> DiffOutcome {
    let mut flipped = Vec::new();
    let t = assertion_table(a, b, color, &mut flipped);
    let mut text = format!(
        "perfgate diff: {} run {} → {} run {}\n{}\n",
        a.spec, a.run_id, b.spec, b.run_id, t
    );
    if let Some(t) = snapshot_table(a, b, color) {
        text.push_str(&format!("{t}\n"));
    }
    if flipped.is_empty() {
        text.push_str("no verdict changed\n");
    } else {
        text.push_str(&format!("verdict changed: {}\n", flipped.join(", ")));
    }
    DiffOutcome { text, flipped }
}

/// `assertion | series | old → new | change | verdict` over the assertions of both runs (`b`'s
/// order first); pushes the assertions whose verdict word changed onto `flipped`.
fn assertion_table(a: &RunRecord, b: &RunRecord, color: bool, flipped: &mut Vec<String>) -> Table {
    let mut ids: Vec<&str> = b.verdicts.iter().map(|v| v.id.as_str()).collect();
    for v in &a.verdicts {
        if !ids.contains(&v.id.as_str()) {
            ids.push(&v.id);
        }
    }
    let mut t = table(
        &["assertion", "series", "old → new", "change", "verdict"],
        color,
    );
    for id in ids {
        let (old, new) = (a.verdict(id), b.verdict(id));
        let (wo, wn) = (word(old.map(|v| &v.outcome)), word(new.map(|v| &v.outcome)));
        let flip = wo != wn;
        if flip {
            flipped.push(id.to_owned());
        }
        for (i, (label, o, n)) in verdict_rows(old, new).into_iter().enumerate() {
            let verdict = if i > 0 {
                Cell::new("")
            } else if flip {
                Cell::new(format!("{wo} → {wn}")).fg(Color::Red)
            } else {
                Cell::new(wn)
            };
            let shown = if label == "{}" { String::new() } else { label };
            t.add_row(vec![
                Cell::new(if i == 0 { id } else { "" }),
                Cell::new(shown),
                Cell::new(format!("{} → {}", show(o), show(n))),
                Cell::new(change(o, n)),
                verdict,
            ]);
        }
    }
    t
}

/// `snapshot | series | old → new | change` over the snapshots of both runs, sorted; `None`
/// when neither run has one.
fn snapshot_table(a: &RunRecord, b: &RunRecord, color: bool) -> Option<Table> {
    let snapshot_ids: BTreeSet<&str> = a
        .snapshots
        .iter()
        .chain(&b.snapshots)
        .map(|s| s.id.as_str())
        .collect();
    if snapshot_ids.is_empty() {
        return None;
    }
    let mut t = table(&["snapshot", "series", "old → new", "change"], color);
    for id in snapshot_ids {
        let (old, new) = (a.snapshot(id), b.snapshot(id));
        let mut labels = union_labels(
            old.map(|s| s.series.as_slice()),
            new.map(|s| s.series.as_slice()),
        );
        labels.sort();
        for (i, l) in labels.iter().enumerate() {
            let o = old.and_then(|s| last(&s.series, l));
            let n = new.and_then(|s| last(&s.series, l));
            t.add_row(vec![
                Cell::new(if i == 0 { id } else { "" }),
                Cell::new(l),
                Cell::new(format!("{} → {}", show(o), show(n))),
                Cell::new(change(o, n)),
            ]);
        }
    }
    Some(t)
}

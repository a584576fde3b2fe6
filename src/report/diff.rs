//! `perfgate diff`: what changed between two runs, per assertion and per snapshot series.

use std::collections::BTreeSet;

use comfy_table::{Cell, Color};

use super::failure::format_value;
use super::record::{Outcome, RunRecord, Verdict};
use super::snapshots::relative;
use super::table::table;
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

fn labels_of(v: Option<&Verdict>) -> Vec<String> {
    v.map(|v| v.series.iter().map(Series::label_string).collect())
        .unwrap_or_default()
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

/// Compares run `a` (old) with run `b` (new).
pub fn diff_records(a: &RunRecord, b: &RunRecord, color: bool) -> DiffOutcome {
    let mut ids: Vec<&str> = b.verdicts.iter().map(|v| v.id.as_str()).collect();
    for v in &a.verdicts {
        if !ids.contains(&v.id.as_str()) {
            ids.push(&v.id);
        }
    }
    let mut flipped = Vec::new();
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
        let mut series: Vec<String> = labels_of(new);
        for l in labels_of(old) {
            if !series.contains(&l) {
                series.push(l);
            }
        }
        // A single series on both sides is the same value even if its labels changed.
        let single = series.len() != 1
            && old.is_some_and(|v| v.series.len() == 1)
            && new.is_some_and(|v| v.series.len() == 1);
        let rows: Vec<(String, Option<f64>, Option<f64>)> = if single {
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
        };
        for (i, (label, o, n)) in rows.into_iter().enumerate() {
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
    let mut text = format!(
        "perfgate diff: {} run {} → {} run {}\n{}\n",
        a.spec, a.run_id, b.spec, b.run_id, t
    );
    let snapshot_ids: BTreeSet<&str> = a
        .snapshots
        .iter()
        .chain(&b.snapshots)
        .map(|s| s.id.as_str())
        .collect();
    if !snapshot_ids.is_empty() {
        let mut t = table(&["snapshot", "series", "old → new", "change"], color);
        for id in snapshot_ids {
            let (old, new) = (a.snapshot(id), b.snapshot(id));
            let mut labels: Vec<String> = new
                .map(|s| s.series.iter().map(Series::label_string).collect())
                .unwrap_or_default();
            for l in old
                .map(|s| {
                    s.series
                        .iter()
                        .map(Series::label_string)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
            {
                if !labels.contains(&l) {
                    labels.push(l);
                }
            }
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
        text.push_str(&format!("{t}\n"));
    }
    if flipped.is_empty() {
        text.push_str("no verdict changed\n");
    } else {
        text.push_str(&format!("verdict changed: {}\n", flipped.join(", ")));
    }
    DiffOutcome { text, flipped }
}

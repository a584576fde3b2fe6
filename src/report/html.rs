//! report.html: one self-contained page (inline CSS and SVG, no scripts, no external assets)
//! with the run's verdicts, a plot per asserted query, phases and snapshot diffs.

use std::fmt::Write as _;

use super::failure::{failure_message, format_value};
use super::junit::esc;
use super::record::{Outcome, RunRecord, SnapshotOutcome, SnapshotStatus, Verdict};
use super::snapshots::relative;
use super::svg::{legend, plot_svg};
use super::table::phase_table;
use crate::clock::unix_to_utc;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:820px;color:#222}\
code,pre{font-family:ui-monospace,monospace;font-size:12px}pre{background:#f6f6f6;padding:8px;overflow-x:auto}\
.pass{color:#fff;background:#2ca02c}.fail{color:#fff;background:#d62728}.inconclusive{color:#000;background:#ffbf00}.badge{padding:2px 8px;border-radius:4px;font-weight:600}\
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:left}\
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}";

/// The report page of `record`: a header, a section per assertion, the phase table and the
/// snapshot changes.
pub fn report_html(record: &RunRecord) -> String {
    let mut out = String::new();
    page_header(&mut out, record);
    for v in &record.verdicts {
        assertion_section(&mut out, record, v);
    }
    let _ = writeln!(
        out,
        "<h2>Phases</h2>\n<pre>{}</pre>",
        esc(&phase_table(record, false))
    );
    if !record.snapshots.is_empty() {
        snapshot_rows(&mut out, &record.snapshots);
    }
    out.push_str("</body></html>\n");
    out
}

/// The document head, the title and how many assertions passed; the run's failure if any.
fn page_header(out: &mut String, record: &RunRecord) {
    let passed = record
        .verdicts
        .iter()
        .filter(|v| v.outcome.passed())
        .count();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>perfgate: {spec}</title><style>{STYLE}</style></head><body>\n<h1>perfgate run: {spec}</h1>\n<p>run <code>{run}</code>, started {started}, {passed} of {total} assertions passed</p>\n",
        spec = esc(&record.spec),
        run = esc(&record.run_id),
        started = esc(&unix_to_utc(record.started_at)),
        total = record.verdicts.len()
    );
    if let Some(f) = &record.failure {
        let _ = writeln!(
            out,
            "<p class=\"badge fail\">{:?}: {}</p>",
            f.kind,
            esc(&f.message)
        );
    }
}

/// One assertion: its verdict, query, window, expectation and values, its plot and its failure
/// message.
fn assertion_section(out: &mut String, record: &RunRecord, v: &Verdict) {
    let class = match v.outcome {
        Outcome::Pass => "pass",
        Outcome::Inconclusive { .. } => "inconclusive",
        _ => "fail",
    };
    let word = v.outcome.word();
    let observed = v
        .series
        .iter()
        .filter_map(|s| s.samples.last())
        .map(|p| format_value(p.v))
        .take(6)
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        out,
        "<section class=\"assertion\"><h2><span class=\"badge {class}\">{word}</span> {}</h2>\n<p><code>{}</code></p>\n<p>window: {}, expected <b>{}</b>, observed <b>{}</b></p>",
        esc(&v.name),
        esc(v.query.trim()),
        esc(v.during.as_deref().unwrap_or("whole load")),
        esc(&v.expectation),
        esc(if observed.is_empty() {
            "no series"
        } else {
            &observed
        })
    );
    plot_block(out, record, v);
    if let Some(msg) = failure_message(record, v) {
        let _ = writeln!(out, "<pre>{}</pre>", esc(&msg));
    }
    out.push_str("</section>\n");
}

/// The assertion's plot with its legend, or why there is none.
fn plot_block(out: &mut String, record: &RunRecord, v: &Verdict) {
    match record.plot(&v.id) {
        Some(plot) if plot.error.is_none() => {
            out.push_str(&plot_svg(plot, v, &record.phases));
            out.push_str("\n<div class=\"legend\">");
            for (color, label) in legend(plot) {
                let _ = write!(
                    out,
                    "<span><i style=\"background:{color}\"></i>{}</span>",
                    esc(&label)
                );
            }
            out.push_str("</div>\n");
        }
        Some(plot) => {
            let _ = writeln!(
                out,
                "<p>no plot: {}</p>",
                esc(plot.error.as_deref().unwrap_or_default())
            );
        }
        None => out.push_str("<p>no plot recorded</p>\n"),
    }
}

/// The snapshot table: a row per changed or unchanged series of each snapshot.
fn snapshot_rows(out: &mut String, snapshots: &[SnapshotOutcome]) {
    out.push_str("<h2>Snapshots</h2>\n<table><tr><th>snapshot</th><th>series</th><th>stored</th><th>new</th><th>change</th><th>status</th></tr>\n");
    for s in snapshots {
        for c in &s.changes {
            let show = |v: Option<f64>| v.map_or("-".to_string(), format_value);
            let change = match (c.old, c.new) {
                (Some(o), Some(n)) => relative(o, n).unwrap_or_default(),
                _ => String::new(),
            };
            let status = match (s.status, c.within) {
                (_, true) => "same",
                (SnapshotStatus::New, _) => "new",
                _ => "changed",
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{status}</td></tr>",
                esc(&s.id),
                esc(&c.series),
                show(c.old),
                show(c.new),
                change
            );
        }
    }
    out.push_str("</table>\n");
}

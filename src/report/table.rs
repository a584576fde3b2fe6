//! Terminal tables: one row per verdict, one row per phase (with how disturbed the machine was).

use comfy_table::{Cell, Color};

use super::grid::table;

use super::failure::format_value;
use super::outcomes::phase_line;
use super::record::{Outcome, PhaseNoise, RunRecord};

/// `verdict | assertion | window | observed | expected`.
/// `color` allows ANSI colours when the output is a terminal.
pub fn verdict_table(record: &RunRecord, color: bool) -> String {
    let mut t = table(
        &["verdict", "assertion", "window", "observed", "expected"],
        color,
    );
    for v in &record.verdicts {
        let word = v.outcome.word();
        let color = match v.outcome {
            Outcome::Pass => Color::Green,
            Outcome::Inconclusive { .. } => Color::Yellow,
            _ => Color::Red,
        };
        let observed = match (&v.outcome, v.series.as_slice()) {
            (Outcome::Error { message }, _) => message.chars().take(60).collect(),
            (_, []) => "no series".to_string(),
            (_, series) if v.is_delivery() => super::delivery::observed_line(series),
            (_, [one]) if one.samples.len() == 1 => format_value(one.samples[0].v),
            (_, series) => {
                let points: Vec<f64> = series
                    .iter()
                    .flat_map(|s| s.samples.iter().map(|p| p.v))
                    .filter(|v| !v.is_nan())
                    .collect();
                let lo = points.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = points.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                format!(
                    "{} series, {}..{}",
                    series.len(),
                    format_value(lo),
                    format_value(hi)
                )
            }
        };
        t.add_row(vec![
            Cell::new(word).fg(color),
            Cell::new(&v.name),
            Cell::new(v.during.as_deref().unwrap_or("whole load")),
            Cell::new(observed),
            Cell::new(&v.expectation),
        ]);
    }
    t.to_string()
}

/// `phase | kind | duration | load` (the engine's one-line account), and `machine` (how
/// disturbed it was) when the record has that.
pub fn phase_table(record: &RunRecord, color: bool) -> String {
    let noisy = record.phases.iter().any(|p| p.noise.is_some());
    let mut header = vec!["phase", "kind", "duration", "load"];
    if noisy {
        header.push("machine");
    }
    let mut t = table(&header, color);
    for p in &record.phases {
        let load = p.load.as_ref().map_or(String::new(), phase_line);
        let mut row = vec![
            Cell::new(&p.name),
            Cell::new(&p.kind),
            Cell::new(format!("{:.1}s", p.window.seconds())),
            Cell::new(load),
        ];
        if noisy {
            row.push(p.noise.as_ref().map_or_else(|| Cell::new(""), machine_cell));
        }
        t.add_row(row);
    }
    t.to_string()
}

/// `DISTURBED: <the limits broken>`, else the figures the noise guard judged.
fn machine_cell(noise: &PhaseNoise) -> Cell {
    if !noise.disturbed.is_empty() {
        return Cell::new(format!("DISTURBED: {}", noise.disturbed.join(", "))).fg(Color::Yellow);
    }
    let lag = noise
        .dispatch_lag_p99_ms
        .map_or(String::new(), |l| format!("lag p99 {l:.1} ms, "));
    Cell::new(format!(
        "quiet: {lag}steal {:.1} %, perfgate {:.0} % CPU",
        noise.steal_percent, noise.perfgate_cpu_percent
    ))
}

/// `snapshot | series | stored | new | change | status`, one row per series.
pub fn snapshot_table(record: &RunRecord, color: bool) -> String {
    use super::record::SnapshotStatus;
    let mut t = table(
        &["snapshot", "series", "stored", "new", "change", "status"],
        color,
    );
    for s in &record.snapshots {
        if let Some(e) = &s.error {
            t.add_row(vec![
                Cell::new(&s.id),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
                Cell::new(e.chars().take(60).collect::<String>()),
                Cell::new("ERROR").fg(Color::Red),
            ]);
            continue;
        }
        for c in &s.changes {
            let (word, color) = match (s.status, c.within) {
                (_, true) => ("same", Color::Green),
                (SnapshotStatus::New, _) => ("new", Color::Yellow),
                _ => ("CHANGED", Color::Red),
            };
            let show = |v: Option<f64>| v.map_or("-".to_string(), format_value);
            let change = match (c.old, c.new) {
                (Some(o), Some(n)) => super::snapshots::relative(o, n).unwrap_or_default(),
                _ => String::new(),
            };
            t.add_row(vec![
                Cell::new(&s.id),
                Cell::new(&c.series),
                Cell::new(show(c.old)),
                Cell::new(show(c.new)),
                Cell::new(change),
                Cell::new(word).fg(color),
            ]);
        }
    }
    t.to_string()
}

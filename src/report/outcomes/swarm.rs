//! The summary table of a swarm (`perfgate swarm`): a pure rendering of its outcome.

use comfy_table::Cell;

use crate::load::swarm::{SpeedQuantiles, SwarmOutcome, rate};
use crate::report::grid::table;

/// `figure | value`, one row per figure of the outcome.
pub fn swarm_table(o: &SwarmOutcome, color: bool) -> String {
    let mut t = table(&["swarm", "value"], color);
    let seconds = |s: f64| format!("{s:.2} s");
    let mut rows = vec![
        ("url", o.url.clone()),
        (
            "clients",
            format!(
                "{} ({} produced media, at most {} running at once, {} failed)",
                o.clients, o.clients_started, o.peak_running, o.clients_failed
            ),
        ),
        (
            "mode",
            format!(
                "{}, ramp {}",
                if o.decode { "decode" } else { "copy" },
                o.ramp
                    .map_or("all at once".to_owned(), |r| format!("{r}/s"))
            ),
        ),
        (
            "processes",
            format!("{} started, {} restarts", o.spawns, o.restarts),
        ),
        ("stalls", o.stalls.to_string()),
    ];
    let quantiles = |q: Option<SpeedQuantiles>| {
        q.map_or("no client ran".to_owned(), |s| {
            format!("{:.3} / {:.3} / {:.3} / {:.3}", s.p5, s.p50, s.p95, s.p99)
        })
    };
    rows.push(("media speed p5 / p50 / p95 / p99", quantiles(o.media_speed)));
    rows.push(("ffmpeg speed p5 / p50 / p95 / p99", quantiles(o.speed)));
    rows.push((
        "time to first frame p50 / p95 / max",
        o.ttff.map_or("none".to_owned(), |t| {
            format!(
                "{} / {} / {}",
                seconds(t.p50),
                seconds(t.p95),
                seconds(t.max)
            )
        }),
    ));
    rows.push((
        "segments / playlists",
        format!("{} / {}", o.segments, o.playlists),
    ));
    let average = if o.wall_duration > 0.0 {
        o.bytes as f64 / o.wall_duration
    } else {
        0.0
    };
    rows.push((
        "received",
        format!(
            "{:.1} MB ({} on average)",
            o.bytes as f64 / 1e6,
            rate(average)
        ),
    ));
    let errors = if o.errors.is_empty() {
        "0".to_owned()
    } else {
        let kinds: Vec<String> = o.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
        format!("{} ({})", o.errors_total, kinds.join(", "))
    };
    rows.push(("errors", errors));
    rows.push((
        "wall time",
        format!("{} of {}", seconds(o.wall_duration), seconds(o.duration)),
    ));
    for (figure, value) in rows {
        t.add_row(vec![Cell::new(figure), Cell::new(value)]);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::swarm::TtffSummary;

    #[test]
    fn every_figure_is_in_the_table() {
        let outcome = SwarmOutcome {
            phase: "swarm".into(),
            url: "http://127.0.0.1:8080/live.m3u8".into(),
            clients: 10,
            ramp: Some(5.0),
            decode: false,
            duration: 30.0,
            wall_duration: 30.4,
            clients_started: 10,
            peak_running: 9,
            clients_failed: 1,
            spawns: 13,
            restarts: 3,
            stalls: 2,
            segments: 140,
            completed: 140,
            playlists: 70,
            bytes: 12_500_000,
            errors: [("http_404".to_owned(), 4), ("connect".to_owned(), 1)].into(),
            errors_total: 5,
            speed: Some(SpeedQuantiles {
                p5: 0.97,
                p50: 1.01,
                p95: 1.2,
                p99: 1.5,
                min: 0.9,
                clients: 9,
            }),
            media_speed: Some(SpeedQuantiles {
                p5: 0.99,
                p50: 1.0,
                p95: 1.0,
                p99: 1.01,
                min: 0.98,
                clients: 9,
            }),
            ttff: Some(TtffSummary {
                count: 13,
                p50: 0.8,
                p95: 1.9,
                p99: 2.0,
                max: 2.1,
            }),
        };
        let text = swarm_table(&outcome, false);
        for needle in [
            "10 (10 produced media, at most 9 running at once, 1 failed)",
            "13 started, 3 restarts",
            "0.970 / 1.010 / 1.200 / 1.500",
            "0.990 / 1.000 / 1.000 / 1.010",
            "0.80 s / 1.90 s / 2.10 s",
            "140 / 70",
            "12.5 MB (411.2 kB/s on average)",
            "5 (connect 1, http_404 4)",
            "30.40 s of 30.00 s",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in\n{text}");
        }
    }
}

//! The live terminal view of `perfgate swarm` (indicatif, three lines): progress and clients by
//! state, speed percentiles and throughput, errors. Off when stderr is not a terminal (so under
//! `cargo test` and in CI logs), with `NO_COLOR`, or with `--quiet`.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::load::swarm::{SwarmProgress, rate};

pub struct SwarmView {
    _multi: MultiProgress,
    clients: ProgressBar,
    speed: ProgressBar,
    errors: ProgressBar,
}

impl SwarmView {
    /// A view for a swarm of `duration`, or `None` when it must stay off.
    pub fn new(quiet: bool, duration: std::time::Duration) -> Option<Self> {
        if quiet || std::env::var_os("NO_COLOR").is_some() || !std::io::stderr().is_terminal() {
            return None;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(5));
        let clients = multi.add(ProgressBar::new(duration.as_millis() as u64));
        clients.set_style(
            ProgressStyle::with_template("{prefix:>6.cyan.bold} [{bar:24}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        clients.set_prefix("swarm");
        let line = || {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("       {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        };
        let speed = multi.add(line());
        let errors = multi.add(line());
        Some(Self {
            _multi: multi,
            clients,
            speed,
            errors,
        })
    }

    pub fn update(&self, p: &SwarmProgress) {
        self.clients.set_position((p.elapsed * 1000.0) as u64);
        self.clients.set_message(format!(
            "{:.0}s/{:.0}s  {}",
            p.elapsed,
            p.duration,
            p.clients.line()
        ));
        let speed = match (p.media_speed, p.speed) {
            (Some(m), _) => format!(
                "media speed p5 {:.2}  p50 {:.2}  p99 {:.2}",
                m.p5, m.p50, m.p99
            ),
            (None, Some(s)) => format!("ffmpeg speed p5 {:.2}  p50 {:.2}", s.p5, s.p50),
            (None, None) => "speed: no client running".to_owned(),
        };
        let ttff = p.ttff.map_or(String::new(), |t| {
            format!("  |  first frame p95 {:.2}s", t.p95)
        });
        self.speed.set_message(format!(
            "{speed}  |  {}  |  segments {}{ttff}",
            rate(p.bytes_per_second),
            p.segments
        ));
        let kinds: Vec<String> = p.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
        self.errors.set_message(format!(
            "errors {}{}  |  stalls {}  |  restarts {}",
            p.errors_total(),
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join(", "))
            },
            p.stalls,
            p.restarts
        ));
    }

    pub fn finish(self) {
        for bar in [&self.clients, &self.speed, &self.errors] {
            bar.finish_and_clear();
        }
    }
}

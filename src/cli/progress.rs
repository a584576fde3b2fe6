//! Live progress: `perfgate run` on a terminal (indicatif), silent elsewhere; a one-line
//! engine (`perfgate replicate`) as a spinner on a terminal and as plain lines elsewhere, so a
//! CI log shows it is alive.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::run::ProgressEvent;

/// A progress observer for `RunOptions::progress`, or `None` when stderr is not a terminal.
pub fn observer(quiet: bool) -> Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    Some(Arc::new(move |event| {
        let mut bar = bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            ProgressEvent::StackUp { services, took } => {
                eprintln!(
                    "stack up: {services} services in {took:.2?}; waiting for the first scrape"
                );
            }
            ProgressEvent::TargetsUp { took } => {
                eprintln!("every target scraped after {took:.2?}");
            }
            ProgressEvent::PhaseStarted { name, duration } => {
                let pb = ProgressBar::with_draw_target(
                    Some(duration.as_millis() as u64),
                    ProgressDrawTarget::stderr(),
                );
                pb.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>12.cyan.bold} [{bar:30}] {elapsed:>4} / {duration_s}  {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .with_key(
                        "duration_s",
                        move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{}s", duration.as_secs());
                        },
                    )
                    .progress_chars("=> "),
                );
                pb.set_prefix(name);
                pb.enable_steady_tick(Duration::from_millis(200));
                *bar = Some(pb);
            }
            ProgressEvent::PhaseTick {
                elapsed, progress, ..
            } => {
                if let Some(pb) = bar.as_ref() {
                    pb.set_position(elapsed.as_millis() as u64);
                    pb.set_message(progress.line());
                }
            }
            ProgressEvent::PhaseEnded { .. } => {
                if let Some(pb) = bar.take() {
                    pb.finish();
                }
            }
            ProgressEvent::Evaluating => eprintln!("evaluating assertions…"),
        }
    }))
}

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// One line of progress: a spinner on a terminal; plain lines elsewhere (the first update,
/// then one every [`PLAIN_EVERY`]); nothing when quiet.
pub(crate) enum LineProgress {
    Bar(ProgressBar),
    Plain {
        label: &'static str,
        next: Option<Instant>,
    },
    Quiet,
}

impl LineProgress {
    pub(crate) fn new(label: &'static str, quiet: bool) -> Self {
        if quiet {
            return Self::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Self::Plain { label, next: None };
        }
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(200));
        Self::Bar(pb)
    }

    /// Shows `line`, `elapsed` into the work.
    pub(crate) fn show(&mut self, elapsed: Duration, line: impl FnOnce() -> String) {
        match self {
            Self::Bar(pb) => pb.set_message(line()),
            Self::Plain { label, next } => {
                let now = Instant::now();
                if next.is_none_or(|at| now >= at) {
                    eprintln!("{label} {:.1}s: {}", elapsed.as_secs_f64(), line());
                    *next = Some(now + PLAIN_EVERY);
                }
            }
            Self::Quiet => {}
        }
    }

    pub(crate) fn finish(self) {
        if let Self::Bar(pb) = self {
            pb.finish_and_clear();
        }
    }
}

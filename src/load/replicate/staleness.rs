//! Where a copied series ends. `query_range` shows a series at each point of its grid
//! (`start`, `start + step`, … up to `end`) while the source has a sample at most the lookback
//! delta old and no staleness marker since; the marker itself is never returned. So a series
//! that the source shows at a grid point but not at the next one (inside the window) ended
//! there, and its copy gets a staleness marker at that next grid point, as a scraping
//! Prometheus would have written one. A series still shown at the window's last point has not
//! ended and gets none.

use crate::prom::remote_write::{Sample, stale_nan};

/// The grid of one `query_range`, in unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
}

impl Window {
    /// The window ending at `end` (unix seconds) reaching `lookback` back, at `step`; times
    /// are whole milliseconds, as they go into the query.
    pub(crate) fn new(end: f64, lookback: std::time::Duration, step: std::time::Duration) -> Self {
        let end_ms = (end * 1000.0).round() as i64;
        Self {
            start_ms: end_ms - lookback.as_millis() as i64,
            end_ms,
            step_ms: (step.as_millis() as i64).max(1),
        }
    }

    /// The last grid point: the newest time the source can show a series at.
    pub(crate) fn last_point(&self) -> i64 {
        let span = (self.end_ms - self.start_ms).max(0);
        self.start_ms + span / self.step_ms * self.step_ms
    }
}

/// Puts a staleness marker after every point of `samples` (oldest first, on `window`'s grid)
/// whose next grid point is inside the window and not shown; returns how many it added.
pub(crate) fn mark_ends(samples: &mut Vec<Sample>, window: &Window) -> usize {
    let last = window.last_point();
    let ends = |i: usize, s: &Sample| {
        let next = s.timestamp + window.step_ms;
        let shown = samples.get(i + 1).is_some_and(|n| n.timestamp <= next);
        (!shown && next <= last).then_some(next)
    };
    let marks = samples
        .iter()
        .enumerate()
        .filter(|(i, s)| ends(*i, s).is_some())
        .count();
    if marks == 0 {
        return 0;
    }
    let mut out = Vec::with_capacity(samples.len() + marks);
    for (i, s) in samples.iter().enumerate() {
        out.push(*s);
        if let Some(at) = ends(i, s) {
            out.push(Sample {
                value: stale_nan(),
                timestamp: at,
            });
        }
    }
    *samples = out;
    marks
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::prom::remote_write::is_stale_nan;

    /// `[start, end]` = [1000, 10000] at 1000: points 1000, 2000, …, 10000.
    const WINDOW: Window = Window {
        start_ms: 1_000,
        end_ms: 10_000,
        step_ms: 1_000,
    };

    fn render(times: &[i64], window: &Window) -> (Vec<String>, usize) {
        let mut samples: Vec<Sample> = times
            .iter()
            .map(|&t| Sample {
                value: 1.0,
                timestamp: t,
            })
            .collect();
        let marks = mark_ends(&mut samples, window);
        let shown = samples
            .iter()
            .map(|s| {
                if is_stale_nan(s.value) {
                    format!("stale@{}", s.timestamp)
                } else {
                    s.timestamp.to_string()
                }
            })
            .collect();
        (shown, marks)
    }

    #[rstest]
    #[case::shown_to_the_end(&[8_000, 9_000, 10_000], &["8000", "9000", "10000"])]
    #[case::ended_inside(&[1_000, 2_000, 3_000], &["1000", "2000", "3000", "stale@4000"])]
    #[case::ended_one_step_before_the_end(&[9_000], &["9000", "stale@10000"])]
    #[case::gone_and_back(
        &[1_000, 2_000, 6_000, 7_000, 8_000, 9_000, 10_000],
        &["1000", "2000", "stale@3000", "6000", "7000", "8000", "9000", "10000"],
    )]
    #[case::none(&[], &[])]
    fn a_marker_follows_every_end_inside_the_window(
        #[case] times: &[i64],
        #[case] expected: &[&str],
    ) {
        let (shown, marks) = render(times, &WINDOW);
        assert_eq!(shown, expected);
        assert_eq!(marks, expected.iter().filter(|s| s.starts_with("stale")).count());
    }

    /// A window that is not a whole number of steps ends on its last grid point, not on `end`.
    #[test]
    fn the_last_grid_point_is_where_series_are_still_shown() {
        let window = Window {
            start_ms: 1_000,
            end_ms: 10_500,
            step_ms: 1_000,
        };
        assert_eq!(window.last_point(), 10_000);
        assert_eq!(render(&[9_000, 10_000], &window).1, 0);
        let odd = Window::new(10.5, std::time::Duration::from_secs(9), std::time::Duration::from_secs(2));
        assert_eq!((odd.start_ms, odd.end_ms, odd.step_ms), (1_500, 10_500, 2_000));
        assert_eq!(odd.last_point(), 9_500);
    }
}

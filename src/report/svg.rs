//! Inline SVG line plots of one asserted query over the whole run: one line per series, phase
//! boundaries, the judged window and the expectation's thresholds. No scripts, no assets.

use std::fmt::Write as _;

use super::failure::format_value;
use super::junit::esc;
use super::record::{PhaseRecord, Plot, Verdict};

const W: f64 = 760.0;
const H: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 34.0;
const MAX_LINES: usize = 8;
const PALETTE: [&str; MAX_LINES] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
];

/// The SVG of `plot`, with `verdict`'s window and thresholds and the run's phases.
pub fn plot_svg(plot: &Plot, verdict: &Verdict, phases: &[PhaseRecord]) -> String {
    let thresholds = thresholds(&verdict.expectation);
    let frame = Frame::new(plot, &thresholds);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"##,
        esc(&verdict.name)
    );
    let _ = write!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="#fafafa" stroke="#ccc"/>"##,
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    frame.judged_window(&mut out, verdict);
    frame.axes(&mut out);
    frame.phase_lines(&mut out, phases);
    frame.threshold_lines(&mut out, &thresholds);
    frame.series_lines(&mut out, plot);
    out.push_str("</svg>");
    out
}

/// The plot's time range (`t0..t1`) and value range (`lo..hi`), and the mapping of both onto
/// the drawing area.
struct Frame {
    t0: f64,
    t1: f64,
    lo: f64,
    hi: f64,
}

impl Frame {
    /// The ranges that fit the plotted series (at most `MAX_LINES`) and the thresholds.
    fn new(plot: &Plot, thresholds: &[f64]) -> Self {
        let (t0, t1) = (
            plot.window.start,
            plot.window.end.max(plot.window.start + 1e-3),
        );
        let values: Vec<f64> = plot
            .series
            .iter()
            .take(MAX_LINES)
            .flat_map(|s| s.samples.iter().map(|p| p.v))
            .chain(thresholds.iter().copied())
            .filter(|v| v.is_finite())
            .collect();
        let (lo, hi) = value_range(&values);
        Self { t0, t1, lo, hi }
    }

    fn x(&self, t: f64) -> f64 {
        LEFT + (t - self.t0) / (self.t1 - self.t0) * (W - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        TOP + (self.hi - v) / (self.hi - self.lo) * (H - TOP - BOTTOM)
    }

    /// The judged window, shaded.
    fn judged_window(&self, out: &mut String, verdict: &Verdict) {
        let (wx0, wx1) = (
            self.x(verdict.window.start.max(self.t0)),
            self.x(verdict.window.end.min(self.t1)),
        );
        let _ = write!(
            out,
            r##"<rect class="window" x="{wx0:.1}" y="{TOP}" width="{:.1}" height="{}" fill="#e8f0fe"/>"##,
            (wx1 - wx0).max(0.0),
            H - TOP - BOTTOM
        );
    }

    /// Five horizontal grid lines with their values, six time labels.
    fn axes(&self, out: &mut String) {
        let (lo, hi, t0, t1) = (self.lo, self.hi, self.t0, self.t1);
        for i in 0..=4 {
            let v = lo + (hi - lo) * f64::from(i) / 4.0;
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e0e0e0"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#444">{}</text>"##,
                W - RIGHT,
                LEFT - 6.0,
                self.y(v) + 4.0,
                esc(&format_value(round3(v))),
                y = self.y(v)
            );
        }
        for i in 0..=5 {
            let t = t0 + (t1 - t0) * f64::from(i) / 5.0;
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#444">{}s</text>"##,
                self.x(t),
                H - BOTTOM + 16.0,
                format_value(round3(t - t0))
            );
        }
    }

    /// A dashed line at each phase boundary inside the plot, the phase's name at its start.
    fn phase_lines(&self, out: &mut String, phases: &[PhaseRecord]) {
        for p in phases {
            for (t, label) in [(p.window.start, Some(&p.name)), (p.window.end, None)] {
                if t < self.t0 - 1e-6 || t > self.t1 + 1e-6 {
                    continue;
                }
                let _ = write!(
                    out,
                    r##"<line class="phase" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{}" stroke="#888" stroke-dasharray="4 3"/>"##,
                    H - BOTTOM,
                    x = self.x(t)
                );
                if let Some(name) = label {
                    let _ = write!(
                        out,
                        r##"<text x="{:.1}" y="{}" font-size="11" fill="#555">{}</text>"##,
                        self.x(t) + 3.0,
                        TOP - 6.0,
                        esc(name)
                    );
                }
            }
        }
    }

    /// A red dashed line with its value for each threshold.
    fn threshold_lines(&self, out: &mut String, thresholds: &[f64]) {
        for v in thresholds {
            let _ = write!(
                out,
                r##"<line class="threshold" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6 3"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#d62728">{}</text>"##,
                W - RIGHT,
                W - RIGHT - 4.0,
                self.y(*v) - 4.0,
                esc(&format_value(*v)),
                y = self.y(*v)
            );
        }
    }

    /// One polyline per run of finite samples of each series (a lone sample also gets a dot).
    fn series_lines(&self, out: &mut String, plot: &Plot) {
        for (i, s) in plot.series.iter().take(MAX_LINES).enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            for run in s
                .samples
                .split(|p| !p.v.is_finite())
                .filter(|r| !r.is_empty())
            {
                let points: Vec<String> = run
                    .iter()
                    .map(|p| format!("{:.1},{:.1}", self.x(p.t), self.y(p.v)))
                    .collect();
                let _ = write!(
                    out,
                    r##"<polyline class="series" fill="none" stroke="{color}" stroke-width="2" points="{}"/>"##,
                    points.join(" ")
                );
                if run.len() == 1 {
                    let _ = write!(
                        out,
                        r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"##,
                        self.x(run[0].t),
                        self.y(run[0].v)
                    );
                }
            }
        }
    }
}

/// The value axis' range: zero-based when the values stay well above zero, widened when flat,
/// padded by 8 % (not below a zero floor).
fn value_range(values: &[f64]) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if lo > 0.0 && lo < hi * 0.5 {
        lo = 0.0;
    }
    if (hi - lo).abs() < 1e-12 {
        let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
        (lo, hi) = (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.08;
    (lo - if lo == 0.0 { 0.0 } else { pad }, hi + pad)
}

/// The legend entries (colour, series labels) of a plot, in line order.
pub fn legend(plot: &Plot) -> Vec<(&'static str, String)> {
    plot.series
        .iter()
        .take(MAX_LINES)
        .enumerate()
        .map(|(i, s)| (PALETTE[i % PALETTE.len()], s.label_string()))
        .collect()
}

fn round3(v: f64) -> f64 {
    crate::spec::round_significant(v, 3)
}

/// The horizontal lines an expectation draws: its bounds, or the band around a baseline value.
pub fn thresholds(expectation: &str) -> Vec<f64> {
    use crate::spec::{Expectation, Tolerance, parse_expectation, parse_tolerance};
    if let Some(rest) = expectation.strip_prefix("within ")
        && let Some((tolerance, tail)) = rest.split_once(" of baseline ")
        && let Some(base) = tail
            .split_whitespace()
            .next()
            .and_then(|b| b.parse::<f64>().ok())
    {
        return match parse_tolerance(tolerance) {
            Ok(Tolerance::Relative(r)) => vec![base * (1.0 - r), base * (1.0 + r)],
            Ok(Tolerance::Absolute(d)) => vec![base - d, base + d],
            _ => vec![base],
        };
    }
    match parse_expectation(expectation) {
        Ok(Expectation::Compare(_, v)) => vec![v],
        Ok(Expectation::Between(a, b)) => vec![a, b],
        _ => Vec::new(),
    }
}

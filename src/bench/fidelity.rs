//! Verdict fidelity (`cargo bench --bench fidelity`): how often each way of gating gets an
//! unchanged service (A/A) and a 20 % CPU regression (A/B) right on this machine, with the demo
//! API's CPU-bound endpoint and the release `perfgate run` as a user would call it. Designs:
//! (1) one window `within 10% of baseline` against a saved baseline, (2) repeated windows
//! (`repeat:`) `at most 10% above baseline` against a saved baseline distribution, (3) the
//! interleaved base/candidate comparison `candidate at most 10% above base (95%)`, each trial
//! within the same wall-time budget. Also the minimum detectable effect per time budget, from the A/A
//! comparisons. Writes docs/fidelity.md.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::doc::{line, publish, today};
use crate::report::read_record;
use crate::spec::{Side, Versus};
use crate::verdict::calibrate;

/// Trials per design and case (`PERFGATE_FIDELITY_TRIALS` lowers it for a quick look).
const TRIALS: usize = 20;
/// The CPU regression seeded in the A/B case.
const REGRESSION: f64 = 1.2;
/// Pairs of the interleaved comparison: sized so a comparison stays within 2 minutes.
const PAIRS: u32 = 8;

const STACK: &str = "stack:
  backend: process
  services:
    prometheus: { kind: prometheus, scrape_interval: 1s }
    api: { kind: demo-api, seed: 11, cpu_factor: FACTOR }
";
const LOAD: &str = "load:
  - phase: warmup
    http: { target: api, rate: 50/s, duration: 2s, mix: [{ get: /api/work }] }
  - phase: steady
    http: { target: api, rate: 100/s, duration: STEADY, mix: [{ get: /api/work }] }
";
const P50: &str = "histogram_quantile(0.5, sum by (le) (rate(perfgate_http_latency_seconds_bucket{phase=\"steady\"}[$phase])))";

/// The single-window spec, gated on a saved baseline.
fn window_spec(factor: f64) -> String {
    format!(
        "version: 1\nname: window\n{}{}assert:\n  - name: p50\n    during: steady\n    query: {P50}\n    expect: within 10% of baseline\n",
        STACK.replace("FACTOR", &factor.to_string()),
        LOAD.replace("STEADY", "10s")
    )
}

/// Runs of the repeated design: sized so a trial stays within 2 minutes.
const RUNS: u32 = 6;

/// The repeated spec, gated on a saved baseline distribution (its own file, its own baseline).
fn repeated_spec(factor: f64) -> String {
    format!(
        "version: 1\nname: repeated\nrepeat: {RUNS}\n{}{}assert:\n  - name: p50\n    during: steady\n    client: p50\n    expect: at most 10% above baseline\n",
        STACK.replace("FACTOR", &factor.to_string()),
        LOAD.replace("STEADY", "4s")
    )
}

/// The interleaved comparison of base 1.0 against `factor`.
fn comparison_spec(factor: f64) -> String {
    format!(
        "version: 1\nname: interleaved\n{}compare:\n  service: api\n  candidate: {{ cpu_factor: {factor} }}\n  repeat: {PAIRS}\n  seed: SEED\n{}assert:\n  - name: p50\n    during: steady\n    client: p50\n    expect: candidate at most 10% above base (95%)\n",
        STACK.replace("FACTOR", "1.0"),
        LOAD.replace("STEADY", "4s")
    )
}

/// What one trial came to, by the exit code of `perfgate run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Call {
    Pass,
    Fail,
    Inconclusive,
    Broken,
}

fn call(code: Option<i32>) -> Call {
    match code {
        Some(0) => Call::Pass,
        Some(1) => Call::Fail,
        Some(7) => Call::Inconclusive,
        _ => Call::Broken,
    }
}

/// Runs `spec_text` from a file in `dir`; the call and the wall time it took.
fn run(perfgate: &Path, dir: &Path, spec_text: &str, args: &[&str]) -> anyhow::Result<(Call, f64)> {
    let spec = dir.join("spec.yaml");
    std::fs::write(&spec, spec_text)?;
    let started = Instant::now();
    let status = Command::new(perfgate)
        .current_dir(dir)
        .args(["run", "--quiet"])
        .args(args)
        .arg(&spec)
        .env("PERFGATE_OUT", dir.join("out"))
        .env_remove("PERFGATE_BASELINE")
        .env_remove("PERFGATE_BASELINES")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    Ok((call(status.code()), started.elapsed().as_secs_f64()))
}

/// Tally of calls and the longest trial, per design and case.
#[derive(Default)]
struct Tally {
    calls: BTreeMap<Call, usize>,
    longest: f64,
}

impl Tally {
    fn add(&mut self, (call, seconds): (Call, f64)) {
        *self.calls.entry(call).or_default() += 1;
        self.longest = self.longest.max(seconds);
    }

    fn count(&self, call: Call) -> usize {
        self.calls.get(&call).copied().unwrap_or(0)
    }
}

/// The A/A ratios of every interleaved A/A trial's report, pooled, and the seconds per pair.
fn aa_ratios(dir: &Path) -> (Vec<f64>, f64) {
    let mut ratios = Vec::new();
    let mut phase_seconds = Vec::new();
    let reports = walk_reports(&dir.join("out/interleaved"));
    for record in reports.iter().filter_map(|p| read_record(p).ok()) {
        if let Some([base, candidate]) = record.verdict("p50").map(|v| v.series.as_slice()) {
            ratios.extend(
                base.samples
                    .iter()
                    .zip(&candidate.samples)
                    .map(|(b, c)| c.v / b.v),
            );
        }
        phase_seconds.push(
            record
                .phases
                .iter()
                .map(|p| p.window.seconds())
                .sum::<f64>(),
        );
    }
    let per_pair =
        phase_seconds.iter().sum::<f64>() / (phase_seconds.len().max(1) as f64 * f64::from(PAIRS));
    (ratios, per_pair)
}

fn walk_reports(root: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("report.json"))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

pub fn main(perfgate: &Path, doc: &Path) -> anyhow::Result<()> {
    let trials = std::env::var("PERFGATE_FIDELITY_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(TRIALS);
    let work = tempfile::tempdir()?;
    let dirs = ["w", "r", "aa", "ab"].map(|d| work.path().join(d));
    for d in &dirs {
        std::fs::create_dir_all(d)?;
    }
    let [window_dir, repeated_dir, aa_dir, ab_dir] = &dirs;
    for (dir, spec) in [
        (window_dir, window_spec(1.0)),
        (repeated_dir, repeated_spec(1.0)),
    ] {
        let saved = run(perfgate, dir, &spec, &["--save-baseline", "main"])?;
        anyhow::ensure!(saved.0 != Call::Broken, "saving a baseline broke");
    }
    let mut tallies: BTreeMap<(&str, &str), Tally> = BTreeMap::new();
    let against_main = ["--baseline", "main"];
    for trial in 0..trials {
        // A/A and A/B alternate, so both see the same machine over the benchmark.
        for (case, factor) in [("A/A", 1.0), ("A/B", REGRESSION)] {
            let one = run(perfgate, window_dir, &window_spec(factor), &against_main)?;
            let repeated = run(
                perfgate,
                repeated_dir,
                &repeated_spec(factor),
                &against_main,
            )?;
            let dir = if factor == 1.0 { aa_dir } else { ab_dir };
            let spec = comparison_spec(factor).replace("SEED", &trial.to_string());
            let interleaved = run(perfgate, dir, &spec, &[])?;
            for (design, call) in [
                ("1. single window vs baseline", one),
                ("2. repeated windows vs baseline distribution", repeated),
                ("3. interleaved comparison", interleaved),
            ] {
                tallies.entry((design, case)).or_default().add(call);
            }
            eprintln!(
                "trial {trial} {case}: window {:?}, repeated {:?}, interleaved {:?}",
                one.0, repeated.0, interleaved.0
            );
        }
    }
    let (ratios, pair_seconds) = aa_ratios(aa_dir);
    publish(
        doc,
        "fidelity",
        "cargo bench --bench fidelity",
        &render(&tallies, trials, &ratios, pair_seconds),
    )?;
    Ok(())
}

fn render(
    tallies: &BTreeMap<(&str, &str), Tally>,
    trials: usize,
    ratios: &[f64],
    pair_seconds: f64,
) -> String {
    let mut out = String::new();
    line(
        &mut out,
        format!(
            "Measured {} on this machine (2 shared cores), release build, {trials} trials per design and case; A/B = {}% more CPU per request (`cpu_factor: {REGRESSION}`), load 2 s warm-up at 50/s then a steady phase at 100/s on `GET /api/work`, gate on the client-side p50 (design 1: PromQL over the client histogram, as today; designs 2 and 3: the engine's exact p50, `client: p50`).",
            today(),
            ((REGRESSION - 1.0) * 100.0).round()
        ),
    );
    line(&mut out, "");
    line(
        &mut out,
        "| design | case | PASS | FAIL | INCONCLUSIVE | broken | longest trial |",
    );
    line(&mut out, "|---|---|---|---|---|---|---|");
    for ((design, case), t) in tallies {
        line(
            &mut out,
            format!(
                "| {design} | {case} | {} | {} | {} | {} | {:.0} s |",
                t.count(Call::Pass),
                t.count(Call::Fail),
                t.count(Call::Inconclusive),
                t.count(Call::Broken),
                t.longest
            ),
        );
    }
    line(&mut out, "");
    line(
        &mut out,
        "In A/A a FAIL is a false failure; in A/B a FAIL is a detection and a PASS a miss.",
    );
    line(&mut out, "");
    let claim = Versus {
        side: Side::Above,
        tolerance: 0.10,
        confidence: 0.95,
    };
    line(
        &mut out,
        format!(
            "Minimum detectable effect of the interleaved comparison (95 %, power 80 %), from {} pooled A/A pair ratios, {pair_seconds:.1} s per pair:",
            ratios.len()
        ),
    );
    line(&mut out, "");
    line(&mut out, "| time budget | pairs | detectable shift |");
    line(&mut out, "|---|---|---|");
    for budget in [30, 60, 120] {
        let budget = Duration::from_secs(budget);
        match calibrate(
            claim,
            ratios,
            PAIRS,
            Duration::from_secs_f64(pair_seconds),
            budget,
        ) {
            Ok(c) => line(
                &mut out,
                format!(
                    "| {} s | {} | {:.1} % |",
                    budget.as_secs(),
                    c.pairs_in_budget,
                    c.detectable_in_budget * 100.0
                ),
            ),
            Err(e) => line(&mut out, format!("| {} s | – | {e} |", budget.as_secs())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_specs_are_valid() {
        let path = Path::new("spec.yaml");
        let window = crate::spec::parse(&window_spec(REGRESSION), path).expect("window spec");
        assert_eq!(window.assertions.len(), 1);
        let compare = comparison_spec(REGRESSION).replace("SEED", "3");
        let compare = crate::spec::parse(&compare, path).expect("comparison spec");
        let repeated = crate::spec::parse(&repeated_spec(1.0), path).expect("repeated spec");
        assert_eq!(repeated.repeat, RUNS);
        let comparison = compare.comparison.expect("compare:");
        assert_eq!((comparison.repeat, comparison.seed), (PAIRS, 3));
        assert!(compare.stack.services.contains_key("api-candidate"));
    }
}

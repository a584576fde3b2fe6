//! Quickstart end-to-end benchmark: runs `perfgate run specs/quickstart.yaml` several times as
//! a user would (release binary), on the process backend and, when a Docker daemon answers, on
//! the docker backend in the same run (interleaved), and reports wall time, stack bring-up, the
//! wait for Prometheus's first scrape, and peak memory, side by side.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::doc::{today, write_section};
use super::procfs::{self, median};
use crate::report::read_record;

const RUNS: usize = 3;
const BACKENDS: [&str; 2] = ["process", "docker"];

struct Sample {
    wall: f64,
    bring_up_ms: u64,
    first_scrape_ms: u64,
    load_s: f64,
    /// Peak resident set (`VmHWM`) of perfgate itself, and of its largest child process (under
    /// the process backend, a service), in KiB.
    perfgate_peak_kib: u64,
    child_peak_kib: u64,
}

/// How often a run's processes are looked at for their peak resident set.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

fn run_once(perfgate: &Path, root: &Path, out: &Path, backend: &str) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let mut child = Command::new(perfgate)
        .current_dir(root)
        .args(["run", "--quiet", "specs/quickstart.yaml"])
        .env("PERFGATE_OUT", out)
        .env("PERFGATE_BACKEND", backend)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    // `VmHWM` only grows, so its last reading before a process exits is its peak (give or take
    // one sampling interval).
    let peak = |pid| procfs::status_kib(Some(pid), "VmHWM").unwrap_or(0);
    let (mut perfgate_peak_kib, mut child_peak_kib) = (0, 0);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        perfgate_peak_kib = perfgate_peak_kib.max(peak(child.id()));
        for pid in procfs::children(child.id()) {
            child_peak_kib = child_peak_kib.max(peak(pid));
        }
        std::thread::sleep(SAMPLE_EVERY);
    };
    let wall = started.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "quickstart on {backend} failed: {status}");
    let report = std::fs::read_dir(out.join("quickstart"))?
        .filter_map(Result::ok)
        .map(|e| e.path().join("report.json"))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow::anyhow!("the {backend} run wrote no report"))?;
    let record = read_record(&report)?;
    println!(
        "{backend}: {wall:.2}s wall, bring-up {} ms, first scrape {} ms",
        record.bring_up_ms, record.first_scrape_ms
    );
    Ok(Sample {
        wall,
        bring_up_ms: record.bring_up_ms,
        first_scrape_ms: record.first_scrape_ms,
        load_s: record.phases.iter().map(|p| p.window.seconds()).sum(),
        perfgate_peak_kib,
        child_peak_kib,
    })
}

/// One row of the table: label, unit, the figure of a sample, target.
type Figure = (&'static str, &'static str, fn(&Sample) -> f64, &'static str);

const FIGURES: [Figure; 6] = [
    (
        "wall time, command start to exit",
        "s",
        |s| s.wall,
        "< 15 s",
    ),
    (
        "stack bring-up (services started and ready)",
        "s",
        |s| s.bring_up_ms as f64 / 1000.0,
        "< 3 s",
    ),
    (
        "then until Prometheus has scraped every target",
        "s",
        |s| s.first_scrape_ms as f64 / 1000.0,
        "",
    ),
    (
        "load phases (2 s + 6 s scheduled, plus in-flight drain)",
        "s",
        |s| s.load_s,
        "",
    ),
    (
        "peak RSS of perfgate itself",
        "MiB",
        |s| s.perfgate_peak_kib as f64 / 1024.0,
        "",
    ),
    (
        "peak RSS of its largest child (process: a service; docker: a `docker logs` follower)",
        "MiB",
        |s| s.child_peak_kib as f64 / 1024.0,
        "",
    ),
];

/// `perfgate`: the binary to run; `root`: the repository (cwd of the runs); `doc`: where the
/// section goes.
pub fn main(perfgate: &Path, root: &Path, doc: &Path) -> anyhow::Result<()> {
    let out = tempfile::tempdir()?;
    let docker = crate::stack::images::daemon_available().is_ok();
    let backends: Vec<&str> = BACKENDS
        .into_iter()
        .filter(|b| *b == "process" || docker)
        .collect();
    if docker {
        // Image building is a one-off per binary, not bring-up.
        let built = Command::new(perfgate).args(["images", "build"]).status()?;
        anyhow::ensure!(built.success(), "perfgate images build failed: {built}");
    }
    let mut samples: Vec<Vec<Sample>> = backends.iter().map(|_| Vec::new()).collect();
    for i in 0..RUNS {
        for (b, backend) in backends.iter().enumerate() {
            let dir = out.path().join(format!("{backend}-{i}"));
            samples[b].push(run_once(perfgate, root, &dir, backend)?);
        }
    }
    let body = render(&backends, &samples, docker);
    println!("{body}");
    write_section(doc, "quickstart", "cargo bench --bench quickstart", &body)?;
    Ok(())
}

/// The section: the setup, one column of medians per backend, and what the figures mean.
fn render(backends: &[&str], samples: &[Vec<Sample>], docker: bool) -> String {
    let header = format!(
        "| figure | {} | target |\n|---|{}---:|\n",
        backends.join(" | "),
        "---:|".repeat(backends.len())
    );
    let table: String = FIGURES
        .iter()
        .map(|(label, unit, f, target)| row(samples, label, unit, f, target))
        .collect();
    format!(
        "## Quickstart end to end\n\n\
         Measured {date} on {cores} cores, release build, `perfgate run specs/quickstart.yaml`, \
         median of {RUNS} runs per backend, backends interleaved in one run (Prometheus 2.53.3 \
         from perfgate's cache; under docker, images built by perfgate from the same binaries \
         before the first run; peak RSS is `VmHWM` read every 100 ms).\n\n{header}{table}\n\
         Most of the wait for the first scrape is Prometheus's own: its service discovery hands \
         targets to the scrapers on a fixed 5 s tick after start-up (not configurable in 2.x), \
         and perfgate waits for every target's `up == 1` before the first phase so that every \
         counter has a baseline sample. The docker backend's bring-up adds creating the run's \
         network and pod and one container per service.{skipped}",
        date = today(),
        cores = std::thread::available_parallelism().map_or(0, |n| n.get()),
        skipped = if docker {
            ""
        } else {
            "\n\nNo Docker daemon answered: the docker column is missing."
        },
    )
}

/// One figure's row: its median per backend.
fn row(
    samples: &[Vec<Sample>],
    label: &str,
    unit: &str,
    f: &dyn Fn(&Sample) -> f64,
    target: &str,
) -> String {
    let cells: Vec<String> = samples
        .iter()
        .map(|s| {
            let values: Vec<f64> = s.iter().map(f).collect();
            median(&values).map_or("–".into(), |v| format!("{v:.2} {unit}"))
        })
        .collect();
    format!("| {label} | {} | {target} |\n", cells.join(" | "))
}

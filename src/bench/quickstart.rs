//! Quickstart end-to-end benchmark: runs `perfgate run specs/quickstart.yaml` several times as
//! a user would (release binary), on the process backend and, when a Docker daemon answers, on
//! the docker backend in the same run (interleaved), and reports wall time, stack bring-up, the
//! wait for Prometheus's first scrape, and peak memory, side by side.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use nix::sys::resource::{UsageWho, getrusage};

use super::doc::{today, write_section};
use super::procfs::median;
use crate::report::read_record;

const RUNS: usize = 3;
const BACKENDS: [&str; 2] = ["process", "docker"];

struct Sample {
    wall: f64,
    bring_up_ms: u64,
    first_scrape_ms: u64,
    load_s: f64,
}

fn run_once(perfgate: &Path, root: &Path, out: &Path, backend: &str) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let status = Command::new(perfgate)
        .current_dir(root)
        .args(["run", "--quiet", "specs/quickstart.yaml"])
        .env("PERFGATE_OUT", out)
        .env("PERFGATE_BACKEND", backend)
        .stdout(std::process::Stdio::null())
        .status()?;
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
    })
}

/// `perfgate`: the binary to run; `root`: the repository (cwd of the runs); `doc`: where the
/// section goes.
pub fn main(perfgate: &Path, root: &Path, doc: &Path) -> anyhow::Result<()> {
    let out = tempfile::tempdir()?;
    let docker = crate::docker::daemon_available().is_ok();
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
    // ru_maxrss of waited-for children is the largest single process among them and their
    // waited-for descendants: perfgate itself or one of its services (Prometheus, usually).
    let peak_kib = getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss();
    let row = |label: &str, unit: &str, f: &dyn Fn(&Sample) -> f64, target: &str| {
        let cells: Vec<String> = samples
            .iter()
            .map(|s| {
                let values: Vec<f64> = s.iter().map(f).collect();
                median(&values).map_or("–".into(), |v| format!("{v:.2} {unit}"))
            })
            .collect();
        format!("| {label} | {} | {target} |\n", cells.join(" | "))
    };
    let header = format!(
        "| figure | {} | target |\n|---|{}---:|\n",
        backends.join(" | "),
        "---:|".repeat(backends.len())
    );
    let table = [
        row(
            "wall time, command start to exit",
            "s",
            &|s| s.wall,
            "< 15 s",
        ),
        row(
            "stack bring-up (services started and ready)",
            "s",
            &|s| s.bring_up_ms as f64 / 1000.0,
            "< 3 s",
        ),
        row(
            "then until Prometheus has scraped every target",
            "s",
            &|s| s.first_scrape_ms as f64 / 1000.0,
            "",
        ),
        row(
            "load phases (2 s + 6 s scheduled, plus in-flight drain)",
            "s",
            &|s| s.load_s,
            "",
        ),
    ]
    .concat();
    let body = format!(
        "## Quickstart end to end\n\n\
         Measured {date} on {cores} cores, release build, `perfgate run specs/quickstart.yaml`, \
         median of {RUNS} runs per backend, backends interleaved in one run (Prometheus 2.53.3 \
         from perfgate's cache; under docker, images built by perfgate from the same binaries \
         before the first run).\n\n{header}{table}\n\
         Largest peak RSS of one process on this machine (perfgate or a process-backend service): \
         {rss:.1} MiB.\n\n\
         Most of the wait for the first scrape is Prometheus's own: its service discovery hands \
         targets to the scrapers on a fixed 5 s tick after start-up (not configurable in 2.x), \
         and perfgate waits for every target's `up == 1` before the first phase so that every \
         counter has a baseline sample. The docker backend's bring-up adds creating the run's \
         network and pod and one container per service.{skipped}",
        date = today(),
        cores = std::thread::available_parallelism().map_or(0, |n| n.get()),
        rss = peak_kib as f64 / 1024.0,
        skipped = if docker {
            ""
        } else {
            "\n\nNo Docker daemon answered: the docker column is missing."
        },
    );
    println!("{body}");
    write_section(doc, "quickstart", "cargo bench --bench quickstart", &body)?;
    Ok(())
}

//! Quickstart end-to-end benchmark: runs `perfgate run specs/quickstart.yaml` several times as
//! a user would (release binary, process backend) and reports wall time, stack bring-up, the
//! wait for Prometheus's first scrape, and peak memory.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use nix::sys::resource::{UsageWho, getrusage};

use super::doc::{today, write_section};
use crate::report::read_record;

const RUNS: usize = 3;

struct Sample {
    wall: f64,
    bring_up_ms: u64,
    first_scrape_ms: u64,
    load_s: f64,
}

/// `perfgate`: the binary to run; `root`: the repository (cwd of the runs); `doc`: where the
/// section goes.
pub fn main(perfgate: &Path, root: &Path, doc: &Path) -> anyhow::Result<()> {
    let out = tempfile::tempdir()?;
    let mut samples = Vec::new();
    for i in 0..RUNS {
        let started = Instant::now();
        let status = Command::new(perfgate)
            .current_dir(root)
            .args(["run", "--quiet", "specs/quickstart.yaml"])
            .env("PERFGATE_OUT", out.path().join(i.to_string()))
            .stdout(std::process::Stdio::null())
            .status()?;
        let wall = started.elapsed().as_secs_f64();
        anyhow::ensure!(status.success(), "quickstart run {i} failed: {status}");
        let report = std::fs::read_dir(out.path().join(i.to_string()).join("quickstart"))?
            .filter_map(Result::ok)
            .map(|e| e.path().join("report.json"))
            .find(|p| p.is_file())
            .ok_or_else(|| anyhow::anyhow!("run {i} wrote no report"))?;
        let record = read_record(&report)?;
        samples.push(Sample {
            wall,
            bring_up_ms: record.bring_up_ms,
            first_scrape_ms: record.first_scrape_ms,
            load_s: record.phases.iter().map(|p| p.window.seconds()).sum(),
        });
        println!(
            "run {i}: {wall:.2}s wall, bring-up {} ms, first scrape {} ms",
            record.bring_up_ms, record.first_scrape_ms
        );
    }
    // ru_maxrss of waited-for children is the largest single process among them and their
    // waited-for descendants: perfgate itself or one of its services (Prometheus, usually).
    let peak_kib = getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss();
    let median = |f: &dyn Fn(&Sample) -> f64| {
        let mut v: Vec<f64> = samples.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let body = format!(
        "## Quickstart end to end\n\n\
         Measured {date} on {cores} cores, release build, `perfgate run specs/quickstart.yaml`, \
         median of {RUNS} runs (Prometheus 2.53.3 from perfgate's cache, demo API as a child process).\n\n\
         | figure | median | target |\n|---|---:|---:|\n\
         | wall time, command start to exit | {wall:.2} s | < 15 s |\n\
         | stack bring-up (both services started and ready) | {bring:.0} ms | < 3 s |\n\
         | then until Prometheus has scraped every target | {scrape:.0} ms | |\n\
         | load phases (2 s + 6 s scheduled, plus in-flight drain) | {load:.2} s | |\n\
         | largest peak RSS of one process (perfgate or a service) | {rss:.1} MiB | |\n\n\
         Most of the wait for the first scrape is Prometheus's own: its service discovery hands \
         targets to the scrapers on a fixed 5 s tick after start-up (not configurable in 2.x), \
         and perfgate waits for every target's `up == 1` before the first phase so that every \
         counter has a baseline sample.",
        date = today(),
        cores = std::thread::available_parallelism().map_or(0, |n| n.get()),
        wall = median(&|s| s.wall),
        bring = median(&|s| s.bring_up_ms as f64),
        scrape = median(&|s| s.first_scrape_ms as f64),
        load = median(&|s| s.load_s),
        rss = peak_kib as f64 / 1024.0,
    );
    println!("{body}");
    write_section(doc, "quickstart", "cargo bench --bench quickstart", &body)?;
    Ok(())
}

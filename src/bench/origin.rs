//! The HLS origin benchmark (`cargo bench --bench origin`): CPU of the FFmpeg encoder (testsrc2
//! plus a sine tone, x264 veryfast/zerolatency, 2 s segments) at 360p and 720p, and of the
//! origin's own server process while idle, each over a measured window after a warm-up.
//! Updates the "origin" section of docs/performance.md.
//!
//! This is a binary edge (the `origin` bench's `main`), hence anyhow.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::doc::{today, write_section};
use super::procfs::{children_named, cpu_time, load_average, machine, rss_kib};
use crate::stack::{self, StackOptions};

/// Overrides the measured window (seconds, default 10).
pub const SECONDS_ENV: &str = "PERFGATE_BENCH_SECS";
/// Time for the encoder to settle after its first segment (x264 lookahead, initial burst).
const WARM_UP: Duration = Duration::from_secs(3);
const SEGMENT_SECS: u64 = 2;

struct Case {
    label: &'static str,
    resolution: &'static str,
    fps: u32,
}

const CASES: [Case; 2] = [
    Case {
        label: "360p",
        resolution: "640x360",
        fps: 25,
    },
    Case {
        label: "720p",
        resolution: "1280x720",
        fps: 25,
    },
];

struct Row {
    label: &'static str,
    resolution: &'static str,
    fps: u32,
    encoder_cpu: f64,
    server_cpu: f64,
    encoder_rss_mib: f64,
    segments: u64,
    wall: f64,
}

/// Entry point of `benches/origin.rs`: `perfgate` hosts the built-in origin; `doc` is the page.
pub fn main(perfgate: &Path, doc: &Path) -> anyhow::Result<()> {
    // `cargo test --all-targets` runs harness-less benches without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("origin: skipped (run it with `cargo bench --bench origin`)");
        return Ok(());
    }
    let secs: u64 = match std::env::var(SECONDS_ENV) {
        Ok(s) => s
            .parse()
            .with_context(|| format!("{SECONDS_ENV}={s} is not a whole number of seconds"))?,
        Err(_) => 10,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let load_before = load_average();
    let mut rows = Vec::new();
    for case in &CASES {
        let row = runtime.block_on(measure(perfgate, case, Duration::from_secs(secs)))?;
        println!(
            "origin {}: encoder {:.1} % of a core, server {:.2} %, {} segments in {:.1} s",
            row.label, row.encoder_cpu, row.server_cpu, row.segments, row.wall
        );
        rows.push(row);
    }
    let body = render(secs, (load_before, load_average()), &rows);
    write_section(doc, "origin", "cargo bench --bench origin", &body)?;
    println!("updated {}", doc.display());
    Ok(())
}

async fn measure(perfgate: &Path, case: &Case, window: Duration) -> anyhow::Result<Row> {
    let source = format!(
        "stack:\n  services:\n    origin: {{ kind: ffmpeg-origin, resolution: {}, fps: {}, segment: {SEGMENT_SECS}s, window: 6 }}\n",
        case.resolution, case.fps
    );
    let spec = crate::spec::parse(&source, Path::new("bench-origin.yaml"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let run_dir = tempfile::tempdir()?;
    let stack = stack::start(
        &spec,
        &StackOptions {
            run_dir: run_dir.path().to_owned(),
            extra_targets: Vec::new(),
            host_executable: Some(perfgate.to_owned()),
        },
    )
    .await?;
    let server = stack.services()[0].child.pid();
    let addr = stack.http_endpoint("origin").context("the origin's port")?;
    let encoder = *children_named(server, "ffmpeg")
        .first()
        .context("no ffmpeg under the origin")?;
    tokio::time::sleep(WARM_UP).await;
    let cpu = |pid| cpu_time(pid).context("no CPU time in /proc");
    let (enc0, srv0, seg0, t0) = (
        cpu(encoder)?,
        cpu(server)?,
        produced(addr).await?,
        Instant::now(),
    );
    tokio::time::sleep(window).await;
    let (enc1, srv1, seg1, wall) = (
        cpu(encoder)?,
        cpu(server)?,
        produced(addr).await?,
        t0.elapsed(),
    );
    let rss = rss_kib(encoder).unwrap_or(0) as f64 / 1024.0;
    stack.shutdown().await?;
    let share = |d: Duration| 100.0 * d.as_secs_f64() / wall.as_secs_f64();
    Ok(Row {
        label: case.label,
        resolution: case.resolution,
        fps: case.fps,
        encoder_cpu: share(enc1 - enc0),
        server_cpu: share(srv1 - srv0),
        encoder_rss_mib: rss,
        segments: seg1 - seg0,
        wall: wall.as_secs_f64(),
    })
}

/// `perfgate_origin_segments_produced_total` from the origin's `/metrics`.
async fn produced(addr: std::net::SocketAddr) -> anyhow::Result<u64> {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("perfgate_origin_segments_produced_total ")?
                .trim()
                .parse()
                .ok()
        })
        .context("no segments_produced in /metrics")
}

fn render(secs: u64, load: (Option<f64>, Option<f64>), rows: &[Row]) -> String {
    let show = |l: Option<f64>| l.map_or("?".into(), |l| format!("{l:.2}"));
    let mut out = format!(
        "## HLS origin encode\n\n\
         Measured {date} on {machine}, release build: one `ffmpeg-origin` per row (FFmpeg 9.0.2 \
         static build from perfgate's cache; lavfi `testsrc2` plus a sine tone, paced with `-re`; \
         libx264 `veryfast`/`zerolatency` at constant quality, AAC 64 kb/s; {SEGMENT_SECS} s \
         segments, window 6), CPU time from `/proc/PID/schedstat` over {secs} s after a \
         {warm} s warm-up. No client requests: the server figure is the origin's idle cost \
         (playlist watcher, scrapes). 1-minute load average before / after: {before} / {after} \
         (the machine may be shared with other builds).\n\n\
         | picture | encoder CPU (% of one core) | origin server CPU | encoder RSS | segments in the window (real time: {expected}) |\n\
         |---|---:|---:|---:|---:|\n",
        date = today(),
        machine = machine(),
        warm = WARM_UP.as_secs(),
        before = show(load.0),
        after = show(load.1),
        expected = secs / SEGMENT_SECS,
    );
    for r in rows {
        out.push_str(&format!(
            "| {} ({} @ {} fps) | {:.1} % | {:.2} % | {:.0} MiB | {} in {:.1} s |\n",
            r.label,
            r.resolution,
            r.fps,
            r.encoder_cpu,
            r.server_cpu,
            r.encoder_rss_mib,
            r.segments,
            r.wall
        ));
    }
    out
}

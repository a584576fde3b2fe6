//! The HLS origin benchmark (`cargo bench --bench origin`): CPU of the FFmpeg encoder (testsrc2
//! plus a sine tone, x264 veryfast/zerolatency, 2 s segments) at 360p and 720p, and of the
//! origin's own server process while idle, each over a measured window after a warm-up; then the
//! server's CPU and latency while perfgate's HTTP engine asks the 360p origin for the playlist
//! and the newest segment at a fixed rate (each swarm client asks about one of each per segment).
//! Updates the "origin" section of docs/performance.md.
//!
//! This is a binary edge (the `origin` bench's `main`), hence anyhow.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::doc::{today, write_section};
use super::procfs::{children_named, cpu_time, load_average, machine, rss_kib};
use crate::load::EngineMetrics;
use crate::load::http::{self, HttpConfig, HttpPhaseOutcome};
use crate::origin::Playlist;
use crate::spec::{HttpPhase, Method, Rate, WeightedRequest};
use crate::stack::{self, RunningStack, StackOptions};

/// Overrides the measured window (seconds, default 10).
pub const SECONDS_ENV: &str = "PERFGATE_BENCH_SECS";
/// Time for the encoder to settle after its first segment (x264 lookahead, initial burst).
const WARM_UP: Duration = Duration::from_secs(3);
const SEGMENT_SECS: u64 = 2;
/// Requests per second of the serving measurement: half playlist, half segment, as 500 swarm
/// clients would ask on 2 s segments (each reloads the playlist and fetches one segment per
/// segment length).
const SERVE_RATE: f64 = 500.0;

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

/// The origin serving the HTTP engine's load.
struct Serving {
    outcome: HttpPhaseOutcome,
    server_cpu: f64,
    megabytes_per_second: f64,
}

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
    let window = Duration::from_secs(secs);
    let mut rows = Vec::new();
    let mut serving = None;
    for case in &CASES {
        let (row, served) = runtime.block_on(async {
            let run_dir = tempfile::tempdir()?;
            let stack = start(perfgate, case, run_dir.path()).await?;
            let row = measure(&stack, case, window).await?;
            let served = if serving.is_none() {
                Some(serve(&stack, window).await?)
            } else {
                None
            };
            stack.shutdown().await?;
            anyhow::Ok((row, served))
        })?;
        println!(
            "origin {}: encoder {:.1} % of a core, server {:.2} %, {} segments in {:.1} s",
            row.label, row.encoder_cpu, row.server_cpu, row.segments, row.wall
        );
        rows.push(row);
        serving = serving.or(served);
    }
    let serving = serving.context("no serving measurement")?;
    println!(
        "origin serving {SERVE_RATE}/s: {:.1}/s achieved, p99 {:.2} ms, server {:.1} % of a core",
        serving.outcome.achieved_rate,
        serving.outcome.latency.p99 * 1e3,
        serving.server_cpu
    );
    let body = render(secs, (load_before, load_average()), &rows, &serving);
    write_section(doc, "origin", "cargo bench --bench origin", &body)?;
    println!("updated {}", doc.display());
    Ok(())
}

async fn start(perfgate: &Path, case: &Case, run_dir: &Path) -> anyhow::Result<RunningStack> {
    let source = format!(
        "stack:\n  services:\n    origin: {{ kind: ffmpeg-origin, resolution: {}, fps: {}, segment: {SEGMENT_SECS}s, window: 6 }}\n",
        case.resolution, case.fps
    );
    let spec = crate::spec::parse(&source, Path::new("bench-origin.yaml"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let options = StackOptions {
        run_dir: run_dir.to_owned(),
        host_executable: Some(perfgate.to_owned()),
        ..StackOptions::default()
    };
    Ok(stack::start(&spec, &options).await?)
}

fn cpu(pid: u32) -> anyhow::Result<Duration> {
    cpu_time(pid).context("no CPU time in /proc")
}

fn share(cpu: Duration, wall: Duration) -> f64 {
    100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
}

async fn measure(stack: &RunningStack, case: &Case, window: Duration) -> anyhow::Result<Row> {
    let server = stack.services()[0].pid();
    let addr = stack.http_endpoint("origin").context("the origin's port")?;
    let encoder = *children_named(server, "ffmpeg")
        .first()
        .context("no ffmpeg under the origin")?;
    tokio::time::sleep(WARM_UP).await;
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
    Ok(Row {
        label: case.label,
        resolution: case.resolution,
        fps: case.fps,
        encoder_cpu: share(enc1 - enc0, wall),
        server_cpu: share(srv1 - srv0, wall),
        encoder_rss_mib: rss_kib(encoder).unwrap_or(0) as f64 / 1024.0,
        segments: seg1 - seg0,
        wall: wall.as_secs_f64(),
    })
}

/// `SERVE_RATE` requests per second for `window`: the playlist and the newest segment at the
/// start (it stays on disk for the whole window: 6 segments of 2 s).
async fn serve(stack: &RunningStack, window: Duration) -> anyhow::Result<Serving> {
    let server = stack.services()[0].pid();
    let addr = stack.http_endpoint("origin").context("the origin's port")?;
    let text = reqwest::get(format!("http://{addr}/live.m3u8"))
        .await?
        .text()
        .await?;
    let newest = Playlist::parse(&text)
        .segments
        .pop()
        .context("no segment listed")?;
    let segment_bytes = reqwest::get(format!("http://{addr}/{newest}"))
        .await?
        .bytes()
        .await?
        .len();
    let get = |path: String| WeightedRequest {
        weight: 1,
        method: Method::Get,
        path,
        json: None,
        headers: Default::default(),
    };
    let phase = HttpPhase {
        target: "origin".into(),
        rate: Rate(SERVE_RATE),
        ramp: None,
        duration: window,
        max_in_flight: 1024,
        timeout: Duration::from_secs(5),
        mix: vec![get("/live.m3u8".into()), get(format!("/{newest}"))],
        auth: None,
    };
    let metrics = Arc::new(EngineMetrics::new());
    let (cpu0, t0) = (cpu(server)?, Instant::now());
    let outcome = tokio::spawn(async move {
        http::run(
            "serve",
            HttpConfig::from_phase(&phase, addr)?,
            &metrics,
            None,
        )
        .await
    })
    .await??;
    let (cpu1, wall) = (cpu(server)?, t0.elapsed());
    anyhow::ensure!(
        outcome.errors.total() == 0 && outcome.ok == outcome.completed,
        "the origin failed requests: {outcome:#?}"
    );
    Ok(Serving {
        megabytes_per_second: outcome.achieved_rate / 2.0 * segment_bytes as f64 / 1e6,
        server_cpu: share(cpu1 - cpu0, wall),
        outcome,
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

fn render(secs: u64, load: (Option<f64>, Option<f64>), rows: &[Row], serving: &Serving) -> String {
    let show = |l: Option<f64>| l.map_or("?".into(), |l| format!("{l:.2}"));
    let mut out = format!(
        "## HLS origin encode\n\n\
         Measured {date} on {machine}, release build: one `ffmpeg-origin` per row (FFmpeg 9.0.2 \
         static build from perfgate's cache; lavfi `testsrc2` plus a sine tone, paced with `-re`; \
         libx264 `veryfast`/`zerolatency` at constant quality, AAC 64 kb/s; {SEGMENT_SECS} s \
         segments, window 6), CPU time from `/proc/PID/stat` (all threads) over {secs} s after a \
         {warm} s warm-up. Without requests the server figure is the origin's idle cost \
         (its playlist watcher). 1-minute load average before / after: {before} / {after} \
         (the machine may be shared with other builds; the encoder and the server figures are CPU \
         time, which contention changes less than wall time).\n\n\
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
    let o = &serving.outcome;
    out.push_str(&format!(
        "\nServing, 360p origin: perfgate's HTTP engine (same machine, {SERVE_RATE:.0} requests/s \
         for {secs} s, open model, keep-alive) asks for `/live.m3u8` and the newest segment \
         half and half, as 500 swarm clients on 2 s segments would.\n\n\
         | achieved | p50 | p99 | max | origin server CPU (% of one core) | segment bytes served |\n\
         |---:|---:|---:|---:|---:|---:|\n\
         | {:.0}/s | {:.2} ms | {:.2} ms | {:.1} ms | {:.1} % | {:.1} MB/s |\n",
        o.achieved_rate,
        o.latency.p50 * 1e3,
        o.latency.p99 * 1e3,
        o.latency.max * 1e3,
        serving.server_cpu,
        serving.megabytes_per_second,
    ));
    out
}

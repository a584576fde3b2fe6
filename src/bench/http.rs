//! The HTTP engine benchmark: max throughput against the demo API's `/health` (perfgate on 1
//! and 2 tokio workers, and oha as a reference), achieved vs requested rate at fixed rates, and
//! the engine's peak RSS. The bench binary re-executes itself as the target server.
//!
//! This is a binary edge (the `http_engine` bench's `main`), hence anyhow.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;

use super::doc::{line, publish, today};
use super::host::{benching, seconds};
use super::procfs::median;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::demo_api::{self, DemoApiConfig};
use crate::load::EngineMetrics;
use crate::load::http::{self, HttpConfig, HttpPhaseOutcome};
use crate::spec::{HttpPhase, Method, Rate, WeightedRequest};

/// Set in the environment of the re-executed bench binary: it then serves the demo API.
pub const SERVER_ENV: &str = "PERFGATE_BENCH_SERVER";
/// Overrides the length of every measurement (seconds, default 5).
pub use super::host::SECONDS_ENV;
/// Overrides the number of interleaved max-throughput rounds (default 3).
pub const ROUNDS_ENV: &str = "PERFGATE_BENCH_ROUNDS";
const CONNECTIONS: usize = 50;
const FIXED_RATES: [f64; 3] = [1_000.0, 5_000.0, 20_000.0];

/// Entry point of `benches/http_engine.rs`. `doc` is the performance page to update.
pub fn main(doc: &Path) -> anyhow::Result<()> {
    if std::env::var_os(SERVER_ENV).is_some() {
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        return demo_api::run(DemoApiConfig {
            listen,
            seed: 1,
            latency_factor: 1.0,
            error_factor: 0.0,
            cpu_factor: 1.0,
            otlp: None,
        });
    }
    if !benching("http_engine") {
        return Ok(());
    }
    let secs = seconds(5.0)?;
    let server = Server::spawn()?;
    let target = server.addr;
    eprintln!(
        "http_engine: demo API (pid {}) on {target}; {secs} s per measurement",
        server.child.id()
    );

    // Warm the server (and the page cache) so the first measurement is not the odd one out.
    measure(target, 2, Rate(f64::INFINITY), 1.0, CONNECTIONS)?;
    let load_before = super::procfs::load_average();
    let (max, oha, oha_skipped) = max_throughput(target, secs, rounds()?)?;
    let fixed = fixed_rates(target, secs)?;
    let hwm = super::procfs::own_peak_rss_kib();
    drop(server);

    let load = (load_before, super::procfs::load_average());
    let skipped = oha_skipped.as_deref();
    let section = render(secs, load, &max, &oha, skipped, &fixed, hwm);
    publish(
        doc,
        "http-engine",
        "cargo bench --bench http_engine",
        &section,
    )
    .with_context(|| format!("updating {}", doc.display()))?;
    Ok(())
}

/// Interleaved max-throughput rounds (`PERFGATE_BENCH_ROUNDS`, default 3).
fn rounds() -> anyhow::Result<usize> {
    Ok(match std::env::var(ROUNDS_ENV) {
        Ok(s) => s
            .parse()
            .with_context(|| format!("{ROUNDS_ENV}={s} is not a count"))?,
        Err(_) => 3,
    })
}

/// Closed-loop throughput of perfgate on 1 and 2 workers and of oha, over `rounds` rounds;
/// why oha was skipped, if it was.
fn max_throughput(
    target: SocketAddr,
    secs: f64,
    rounds: usize,
) -> anyhow::Result<([Throughput; 2], Throughput, Option<String>)> {
    // The machine is shared: interleave the clients over several rounds and report medians, so
    // a burst of someone else's work cannot favour one client.
    let mut max = [
        Throughput::new("perfgate, 1 tokio worker"),
        Throughput::new("perfgate, 2 tokio workers"),
    ];
    let mut oha = Throughput::new(&format!("oha `-c {CONNECTIONS} -z {secs}s`"));
    let mut oha_skipped = None;
    for round in 1..=rounds.max(1) {
        for (threads, row) in [1, 2].into_iter().zip(max.iter_mut()) {
            let o = measure(target, threads, Rate(f64::INFINITY), secs, CONNECTIONS)?;
            eprintln!(
                "http_engine: round {round}: {}: {:.0} req/s",
                row.label, o.achieved_rate
            );
            row.push(o.achieved_rate, o.latency.p50, o.latency.p99);
        }
        if oha_skipped.is_none() {
            match run_oha(target, secs) {
                Ok((rps, p50, p99)) => {
                    eprintln!("http_engine: round {round}: oha: {rps:.0} req/s");
                    oha.push(rps, p50, p99);
                }
                Err(why) => {
                    eprintln!(
                        "\n!!! http_engine: oha comparison SKIPPED: {why:#}\n!!! install it with `cargo install oha --locked`\n"
                    );
                    oha_skipped = Some(format!("{why:#}"));
                }
            }
        }
    }
    Ok((max, oha, oha_skipped))
}

/// The open-model rows, one per `FIXED_RATES` entry.
fn fixed_rates(target: SocketAddr, secs: f64) -> anyhow::Result<Vec<HttpPhaseOutcome>> {
    let mut fixed = Vec::new();
    for rate in FIXED_RATES {
        let outcome = measure(target, 2, Rate(rate), secs, 1024)?;
        eprintln!(
            "http_engine: {rate:.0}/s requested, {:.1}/s achieved, {} dropped",
            outcome.achieved_rate, outcome.dropped
        );
        fixed.push(outcome);
    }
    Ok(fixed)
}

/// Closed-loop results of one client over the rounds.
struct Throughput {
    label: String,
    rates: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
}

impl Throughput {
    fn new(label: &str) -> Self {
        Self {
            label: label.to_owned(),
            rates: Vec::new(),
            p50: Vec::new(),
            p99: Vec::new(),
        }
    }

    fn push(&mut self, rate: f64, p50: f64, p99: f64) {
        self.rates.push(rate);
        self.p50.push(p50);
        self.p99.push(p99);
    }
}

/// One phase of GET /health on a fresh runtime with `threads` workers; the whole phase runs on
/// those workers (spawned, not driven by `block_on`'s thread).
fn measure(
    target: SocketAddr,
    threads: usize,
    rate: Rate,
    secs: f64,
    max_in_flight: usize,
) -> anyhow::Result<HttpPhaseOutcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let phase = HttpPhase {
        target: "api".into(),
        rate,
        ramp: None,
        duration: Duration::from_secs_f64(secs),
        max_in_flight,
        timeout: Duration::from_secs(2),
        mix: vec![WeightedRequest {
            weight: 1,
            method: Method::Get,
            path: "/health".into(),
            json: None,
            headers: Default::default(),
        }],
        auth: None,
    };
    let metrics = Arc::new(EngineMetrics::new());
    let task = runtime.spawn(async move {
        http::run(
            "bench",
            HttpConfig::from_phase(&phase, target)?,
            &metrics,
            None,
        )
        .await
    });
    let outcome = runtime.block_on(task)??;
    if outcome.errors.total() > 0 {
        bail!("the benchmark phase saw errors: {outcome:#?}");
    }
    Ok(outcome)
}

/// oha against the same target, same connection count: requests/s, p50 and p99 in seconds.
fn run_oha(target: SocketAddr, secs: f64) -> anyhow::Result<(f64, f64, f64)> {
    let mut candidates = vec![std::path::PathBuf::from("oha")];
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo").into_os_string()))
    {
        candidates.push(Path::new(&home).join("bin").join("oha"));
    }
    let url = format!("http://{target}/health");
    let duration = format!("{}ms", (secs * 1000.0).round() as u64);
    for oha in candidates {
        let output = Command::new(&oha)
            .args(["-z", &duration, "-c", &CONNECTIONS.to_string(), "--no-tui"])
            .args(["--output-format", "json", &url])
            .stdin(Stdio::null())
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("running {}", oha.display())),
        };
        if !output.status.success() {
            bail!(
                "{} failed: {}",
                oha.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let json: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("oha's JSON output")?;
        let field = |pointer: &str| {
            json.pointer(pointer)
                .and_then(serde_json::Value::as_f64)
                .with_context(|| format!("oha's JSON has no {pointer}"))
        };
        return Ok((
            field("/summary/requestsPerSec")?,
            field("/latencyPercentiles/p50")?,
            field("/latencyPercentiles/p99")?,
        ));
    }
    bail!("oha not found on PATH or in ~/.cargo/bin")
}

/// The demo API as a child process; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn spawn() -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .env(SERVER_ENV, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .context("re-executing the bench binary as the demo API")?;
        let stdout = child.stdout.take().context("child stdout")?;
        // Owned by a `Server` from here on, so every early return below kills it.
        let mut server = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| anyhow::anyhow!("the demo API did not report its address within 10 s"))?;
        server.addr = line
            .trim()
            .strip_prefix("demo-api listening on http://")
            .and_then(|a| a.parse().ok())
            .with_context(|| format!("unexpected readiness line {line:?}"))?;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn render(
    secs: f64,
    load: (Option<f64>, Option<f64>),
    max: &[Throughput],
    oha: &Throughput,
    oha_skipped: Option<&str>,
    fixed: &[HttpPhaseOutcome],
    hwm_kib: Option<u64>,
) -> String {
    let mut out = String::new();
    intro(&mut out, secs, load);
    max_table(&mut out, max, oha, oha_skipped);
    fixed_table(&mut out, fixed);
    closing(&mut out, hwm_kib);
    out
}

/// The section's title, what was measured where, and the load average around it.
fn intro(out: &mut String, secs: f64, load: (Option<f64>, Option<f64>)) {
    let machine = super::procfs::machine();
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    line(out, "## HTTP engine");
    line(out, "");
    line(
        out,
        format!(
            "Measured {} on {machine}, release build, {secs} s per row. Target: the demo \
             API's `GET /health` as a separate process on loopback. The server, the engine and oha \
             **share the same {nproc} cores**, so these are figures for the whole loop on this \
             machine, not of the engine alone.",
            today()
        ),
    );
    let show = |l: Option<f64>| l.map_or("?".into(), |l| format!("{l:.2}"));
    line(out, "");
    line(
        out,
        format!(
            "1-minute load average before / after the measurements: {} / {} (the machine may be \
             shared with other work; rerun on a quiet machine for comparable figures).",
            show(load.0),
            show(load.1)
        ),
    );
    line(out, "");
}

/// Closed-loop throughput per client: medians over the rounds, their range, latency, vs oha.
fn max_table(out: &mut String, max: &[Throughput], oha: &Throughput, oha_skipped: Option<&str>) {
    line(
        out,
        format!("### Max throughput ({CONNECTIONS} connections, closed loop)"),
    );
    line(out, "");
    line(
        out,
        format!(
            "Median of {} interleaved rounds; the range is min–max over the rounds.",
            max.first().map_or(0, |m| m.rates.len())
        ),
    );
    line(out, "");
    line(
        out,
        "| client | req/s (median) | range | p50 ms | p99 ms | vs oha |",
    );
    line(out, "|---|---:|---:|---:|---:|---:|");
    let oha_median = median(&oha.rates);
    for row in max.iter().chain(std::iter::once(oha)) {
        let Some(rps) = median(&row.rates) else {
            continue;
        };
        let ratio = oha_median.map_or("n/a".into(), |r| format!("{:.2}", rps / r));
        let lo = row.rates.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = row.rates.iter().copied().fold(0.0, f64::max);
        let ms = |v: Option<f64>| v.map_or("?".into(), |v| format!("{:.2}", v * 1e3));
        line(
            out,
            format!(
                "| {} | {rps:.0} | {lo:.0}–{hi:.0} | {} | {} | {ratio} |",
                row.label,
                ms(median(&row.p50)),
                ms(median(&row.p99)),
            ),
        );
    }
    if let Some(why) = oha_skipped {
        line(
            out,
            format!("| oha | skipped: {why} (`cargo install oha --locked`) | | | | |"),
        );
    }
    line(out, "");
}

/// Open-model rows: achieved vs requested rate, drops, send lag and latency per fixed rate.
fn fixed_table(out: &mut String, fixed: &[HttpPhaseOutcome]) {
    line(
        out,
        "### Achieved vs requested rate (open model, 2 tokio workers, max_in_flight 1024)",
    );
    line(out, "");
    line(
        out,
        "| requested/s | achieved/s | achieved/requested | dropped | send lag p99 / max ms | p50 ms | p99 ms | max ms |",
    );
    line(out, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    for o in fixed {
        let requested = o.requested_rate.unwrap_or(f64::NAN);
        let lag = o.dispatch_lag.clone().unwrap_or_default();
        line(
            out,
            format!(
                "| {requested:.0} | {:.1} | {:.4} | {} | {:.2} / {:.2} | {:.2} | {:.2} | {:.2} |",
                o.achieved_rate,
                o.achieved_rate / requested,
                o.dropped,
                lag.p99 * 1e3,
                lag.max * 1e3,
                o.latency.p50 * 1e3,
                o.latency.p99 * 1e3,
                o.latency.max * 1e3
            ),
        );
    }
    line(out, "");
}

/// The engine's peak RSS, how latency is measured and how to reproduce.
fn closing(out: &mut String, hwm_kib: Option<u64>) {
    line(
        out,
        format!(
            "Peak RSS of the bench process (engine, all runs above; VmHWM): {}.",
            hwm_kib.map_or("unknown".into(), |k| format!(
                "{:.1} MiB",
                k as f64 / 1024.0
            ))
        ),
    );
    line(out, "");
    line(
        out,
        "Latency is measured to the last byte of the response from each request's scheduled \
          time, or from its send when the dispatcher sent it up to one 1 ms timer tick early \
          (closed loop: from its send), so a late dispatcher can only make figures worse. Every scheduled arrival is sent (or \
          dropped) even when the dispatcher falls behind, so achieved/requested alone cannot \
          show lateness: the send-lag column does. \
          Reproduce with `cargo bench --bench http_engine` \
          (`PERFGATE_BENCH_SECS` sets the row length, `PERFGATE_BENCH_ROUNDS` the number of \
          max-throughput rounds).",
    );
}

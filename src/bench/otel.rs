//! The OpenTelemetry pipeline benchmark (`cargo bench --bench otel_pipeline`): one stack, three
//! demo APIs under the quickstart load at the same time, their metrics reaching Prometheus
//! through rotel and perfgate's adapter (scraped), through rotel and the adapter (remote write),
//! and straight from `/metrics`. Freshness is timed with marker requests (a path the load never
//! uses, counted by the API as `endpoint="other"`): from each marker's response until the first
//! poll of Prometheus that counts it. CPU and RSS of every process are read from `/proc` over
//! the same load window.
//!
//! This is a binary edge (the `otel_pipeline` bench's `main`), hence anyhow.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

use super::doc::{line, publish, today};
use super::procfs::{cpu_seconds, load_average, median, status_kib};
use crate::load::EngineMetrics;
use crate::load::freshness::poll_until_at_least;
use crate::load::http::{self, HttpConfig, HttpPhaseOutcome};
use crate::prom::PromClient;
use crate::spec::{self, HttpPhase, PhaseKind};
use crate::stack::{self, StackOptions};

const SPEC: &str = "fixtures/specs/bench/otel_pipeline.yaml";
/// Overrides the load's length (seconds; default: the spec's).
pub const SECONDS_ENV: &str = "PERFGATE_BENCH_SECS";
/// A path the load never requests: the demo API counts it as `endpoint="other"`.
const MARKER_PATH: &str = "/bench/freshness-marker";
/// Longest wait for one marker before it counts as lost.
const MARKER_TIMEOUT: Duration = Duration::from_secs(15);
/// No marker starts this close to the end of the load: each is timed under load.
const MARKER_MARGIN: Duration = Duration::from_secs(2);
const TARGETS_UP: Duration = Duration::from_secs(60);
const RSS_EVERY: Duration = Duration::from_millis(250);

/// One way metrics travel from an API to Prometheus.
struct Pipeline {
    label: &'static str,
    api: &'static str,
    /// The services between the API and Prometheus.
    between: &'static [&'static str],
}

const PIPELINES: [Pipeline; 3] = [
    Pipeline {
        label: "OTLP → rotel → adapter, scraped",
        api: "api_scrape",
        between: &["collector", "collector-to-prometheus"],
    },
    Pipeline {
        label: "OTLP → rotel → adapter, remote write",
        api: "api_rw",
        between: &["collector_rw", "collector_rw-to-prometheus"],
    },
    Pipeline {
        label: "`/metrics` scraped directly",
        api: "api_direct",
        between: &[],
    },
];

/// What one pipeline measured.
struct Measured {
    /// Seconds per marker; `None`: not counted within [`MARKER_TIMEOUT`].
    lags: Vec<Option<f64>>,
    load: HttpPhaseOutcome,
}

/// CPU and memory of one service over the load window.
struct Usage {
    cpu_percent: Option<f64>,
    rss_peak_kib: u64,
}

/// Entry point of `benches/otel_pipeline.rs`: `perfgate` hosts the built-in services, `root` is
/// the repository, `doc` the performance page to update.
pub fn main(perfgate: &Path, root: &Path, doc: &Path) -> anyhow::Result<()> {
    // `cargo test --all-targets` runs harness-less benches without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("otel_pipeline: skipped (run it with `cargo bench --bench otel_pipeline`)");
        return Ok(());
    }
    crate::reaper::install_signal_handler();
    let spec = spec::load(&root.join(SPEC)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(PhaseKind::Http(mut http)) = spec.phases.first().map(|p| p.kind.clone()) else {
        bail!("{SPEC} must start with an http phase (the load every API gets)");
    };
    if let Ok(s) = std::env::var(SECONDS_ENV) {
        let secs: f64 = s
            .parse()
            .with_context(|| format!("{SECONDS_ENV}={s} is not a number"))?;
        http.duration = Duration::from_secs_f64(secs);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let section = runtime.block_on(measure(&spec, &http, perfgate))?;
    publish(
        doc,
        "otel-pipeline",
        "cargo bench --bench otel_pipeline",
        &section,
    )
    .with_context(|| format!("updating {}", doc.display()))?;
    Ok(())
}

async fn measure(spec: &spec::Spec, http: &HttpPhase, perfgate: &Path) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let options = StackOptions {
        run_dir: dir.path().join("stack"),
        host_executable: Some(perfgate.to_owned()),
        ..StackOptions::default()
    };
    let stack = stack::start(spec, &options).await?;
    let prom = PromClient::new(
        stack
            .prometheus()
            .context("the bench spec has no prometheus")?,
    );
    let targets = stack.scrape_targets() as f64;
    let up = poll_until_at_least(
        &prom,
        "count(up == 1)",
        targets,
        Instant::now() + TARGETS_UP,
    );
    if up.await.at.is_none() {
        bail!("prometheus did not see all {targets} targets up within {TARGETS_UP:?}");
    }
    let pids: BTreeMap<String, u32> = stack
        .services()
        .iter()
        .map(|s| (s.name.clone(), s.pid()))
        .collect();
    let load_before = load_average();
    let cpu_before: BTreeMap<&str, f64> = pids
        .iter()
        .filter_map(|(n, &pid)| Some((n.as_str(), cpu_seconds(pid)?)))
        .collect();
    let started = Instant::now();
    let until = started + http.duration;
    let metrics = Arc::new(EngineMetrics::new());
    let mut tasks = Vec::new();
    for (i, p) in PIPELINES.iter().enumerate() {
        let target = stack
            .http_endpoint(p.api)
            .with_context(|| format!("{} is not in {SPEC}", p.api))?;
        let (phase, metrics) = (http.clone(), Arc::clone(&metrics));
        let load = tokio::spawn(async move {
            let config = HttpConfig::from_phase(&phase, target)?;
            http::run(&format!("bench-{i}"), config, &metrics, None).await
        });
        let markers = tokio::spawn(time_markers(prom.clone(), target, p.api, until, i as u64));
        tasks.push((load, markers));
    }
    let rss = tokio::spawn(peak_rss(pids.clone(), until));
    let mut measured = Vec::new();
    for (load, markers) in tasks {
        let load = load.await??;
        measured.push(Measured {
            lags: markers.await??,
            load,
        });
    }
    let wall = started.elapsed().as_secs_f64();
    let rss = rss.await?;
    let usage: BTreeMap<String, Usage> = pids
        .iter()
        .map(|(name, &pid)| {
            let cpu = cpu_before
                .get(name.as_str())
                .zip(cpu_seconds(pid))
                .map(|(before, after)| (after - before) / wall * 100.0);
            let rss_peak_kib = rss.get(name).copied().unwrap_or(0);
            let usage = Usage {
                cpu_percent: cpu,
                rss_peak_kib,
            };
            (name.clone(), usage)
        })
        .collect();
    let load = (load_before, load_average());
    stack.shutdown().await?;
    Ok(render(http, wall, load, &measured, &usage))
}

/// Sends a marker at a random point of every second or so until `until`, and times each one
/// until Prometheus counts it.
async fn time_markers(
    prom: PromClient,
    target: SocketAddr,
    job: &'static str,
    until: Instant,
    seed: u64,
) -> anyhow::Result<Vec<Option<f64>>> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let query = format!("sum(http_requests_total{{job=\"{job}\", endpoint=\"other\"}})");
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut lags = Vec::new();
    let mut sent = 0u64;
    // Random offsets: export, batch and scrape cycles are not in step with the markers.
    while Instant::now() + MARKER_MARGIN < until {
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1000))).await;
        client
            .get(format!("http://{target}{MARKER_PATH}"))
            .send()
            .await?;
        let answered = Instant::now();
        sent += 1;
        let reached =
            poll_until_at_least(&prom, &query, sent as f64, answered + MARKER_TIMEOUT).await;
        lags.push(
            reached
                .at
                .map(|at| at.saturating_duration_since(answered).as_secs_f64()),
        );
    }
    Ok(lags)
}

/// The largest `VmRSS` of each process, sampled until `until`.
async fn peak_rss(pids: BTreeMap<String, u32>, until: Instant) -> BTreeMap<String, u64> {
    let mut peak = BTreeMap::new();
    while Instant::now() < until {
        for (name, &pid) in &pids {
            let rss = status_kib(Some(pid), "VmRSS").unwrap_or(0);
            let max = peak.entry(name.clone()).or_insert(0);
            *max = rss.max(*max);
        }
        tokio::time::sleep(RSS_EVERY).await;
    }
    peak
}

fn render(
    http: &HttpPhase,
    wall: f64,
    load: (Option<f64>, Option<f64>),
    measured: &[Measured],
    usage: &BTreeMap<String, Usage>,
) -> String {
    let mut out = String::new();
    intro(&mut out, http, wall, load);
    freshness_table(&mut out, measured);
    usage_table(&mut out, usage);
    closing(&mut out, wall);
    out
}

/// The section's title, the setup, and the load average around the run.
fn intro(out: &mut String, http: &HttpPhase, wall: f64, load: (Option<f64>, Option<f64>)) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    line(out, "## OpenTelemetry pipeline");
    line(out, "");
    line(
        out,
        format!(
            "Measured {} on {cores} cores, release build, one stack (`{SPEC}`): Prometheus \
             (scrape interval 1 s) and three demo APIs, each under the quickstart load ({:.0} req/s: \
             70 % `GET /health`, 20 % `GET /api/users`, 10 % `POST /api/orders`) for {wall:.0} s, \
             **at the same time** on the same cores. The two OTLP APIs export every 1 s; rotel \
             (`rotel-agent` from PyPI) batches for up to 200 ms. Every process shares the {cores} \
             cores with the others and with the load engine.",
            today(),
            http.rate.per_second(),
        ),
    );
    line(out, "");
    let show = |l: Option<f64>| l.map_or("?".into(), |l| format!("{l:.2}"));
    line(
        out,
        format!(
            "1-minute load average before / after: {} / {}.",
            show(load.0),
            show(load.1)
        ),
    );
    line(out, "");
}

/// Per pipeline: how long markers took to be counted, how many never were, the load achieved.
fn freshness_table(out: &mut String, measured: &[Measured]) {
    line(out, "### Freshness (request → queryable)");
    line(out, "");
    line(
        out,
        "| pipeline | markers | median | p90 | max | not counted within 15 s | load achieved |",
    );
    line(out, "|---|---:|---:|---:|---:|---:|---:|");
    for (p, m) in PIPELINES.iter().zip(measured) {
        let lags: Vec<f64> = m.lags.iter().flatten().copied().collect();
        let mut sorted = lags.clone();
        sorted.sort_by(f64::total_cmp);
        let p90 = sorted
            .get((sorted.len() * 9 / 10).min(sorted.len().saturating_sub(1)))
            .copied();
        let secs = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2} s"));
        line(
            out,
            format!(
                "| {} | {} | {} | {} | {} | {} | {:.1} req/s |",
                p.label,
                m.lags.len(),
                secs(median(&lags)),
                secs(p90),
                secs(sorted.last().copied()),
                m.lags.len() - lags.len(),
                m.load.achieved_rate,
            ),
        );
    }
    line(out, "");
}

/// CPU and peak RSS of every process of every pipeline, and of Prometheus.
fn usage_table(out: &mut String, usage: &BTreeMap<String, Usage>) {
    line(out, "### CPU and memory over the same window");
    line(out, "");
    line(
        out,
        "| pipeline | process | CPU (% of one core) | peak RSS |",
    );
    line(out, "|---|---|---:|---:|");
    let row = |pipeline: &str, name: &str, what: &str| {
        let u = usage.get(name);
        let cpu = u
            .and_then(|u| u.cpu_percent)
            .map_or("?".into(), |c| format!("{c:.2} %"));
        let rss = u.map_or("?".into(), |u| {
            format!("{:.1} MiB", u.rss_peak_kib as f64 / 1024.0)
        });
        format!("| {pipeline} | {what} (`{name}`) | {cpu} | {rss} |")
    };
    for p in &PIPELINES {
        line(out, row(p.label, p.api, "demo API"));
        for name in p.between {
            let what = if name.ends_with("-to-prometheus") {
                "perfgate OTLP adapter"
            } else {
                "rotel collector"
            };
            line(out, row(p.label, name, what));
        }
    }
    line(out, row("all three", "prometheus", "Prometheus"));
    line(out, "");
}

/// How freshness, CPU and RSS are measured, and how to reproduce.
fn closing(out: &mut String, wall: f64) {
    line(
        out,
        format!(
            "Freshness is timed with marker requests (`GET {MARKER_PATH}`, a path the load never \
             uses, counted by the API as `endpoint=\"other\"`), one at a random moment of every \
             second or so: from the marker's response until the first poll of Prometheus (every \
             {} ms) whose `sum(http_requests_total{{job=…, endpoint=\"other\"}})` counts it. Through \
             a collector the figure is the export interval's wait, the collector's batch, the \
             adapter and (scraped) the scrape interval's wait; straight from `/metrics` it is the \
             scrape interval's wait alone. CPU is user + system time over the load window from \
             `/proc/PID/stat` (in 10 ms ticks: {:.2} % of a core is one tick); RSS the largest `VmRSS` sampled every {} ms. The machine is shared: compare the rows of one \
             run (they ran side by side) rather than runs (medians moved by up to 0.3 s between \
             runs). Reproduce with `cargo bench --bench otel_pipeline` (`{SECONDS_ENV}` sets the load's length).",
            crate::load::freshness::POLL.as_millis(),
            1.0 / wall,
            RSS_EVERY.as_millis(),
        ),
    );
}

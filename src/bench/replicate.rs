//! The replication benchmark (`cargo bench --bench replicate`): encode + compress on one core
//! at 1 and 20 samples per series (the engine's own path: templates, batcher, snappy; and the
//! prost-struct path it replaced, for reference); then end to end from a real Prometheus
//! (seeded with a known history) into an in-process null receiver and into a second real
//! Prometheus, with the peak RSS of each run, 10 k to 1 M series written. Both Prometheus
//! services come from a spec through `stack::start`, provisioned like any other run's.
//!
//! This is a binary edge (the bench's `main`), hence anyhow.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;

use super::doc::{today, write_section};
use super::host::{benching, own_cpu, reset_vm_hwm, seconds, thread_cpu};
use super::procfs::{cpu_time as process_cpu, load_average, own_peak_rss_kib as vm_hwm_kib};
use crate::load::replicate::batcher::Batcher;
use crate::load::replicate::template::{EncodedSpace, SeriesTemplate};
use crate::load::replicate::{
    LabelSpace, ReplicateConfig, ReplicateMetrics, ReplicateOutcome, copy_labels,
};
use crate::prom::remote_write::{
    BatchEncoder, EncodedBatch, Label, RemoteWriter, RetryPolicy, Sample, SendOutcome, TimeSeries,
    WriteRequest, sort_labels,
};
use crate::stack::{self, StackOptions};

/// Samples per request, as the spec's default `batch`.
const BATCH: usize = 2000;
/// Source series seeded into the source Prometheus: 10 metrics × 50 series.
const METRICS: usize = 10;
const SERIES_PER_METRIC: usize = 50;
/// Source series of the encode measurements (each with distinct labels and values).
const ENCODE_SOURCES: usize = 5000;
/// History of every seeded series: 21 samples 15 s apart (5 minutes).
const HISTORY: usize = 21;
const STEP_MS: i64 = 15_000;

const SPEC: &str = "
version: 1
name: replicate-bench
stack:
  services:
    source: { kind: prometheus, scrape_interval: 5s }
    target: { kind: prometheus, scrape_interval: 5s, gates: true }
";

/// Entry point of `benches/replicate.rs`. `doc` is the performance page to update.
pub fn main(doc: &Path) -> anyhow::Result<()> {
    if !benching("replicate") {
        return Ok(());
    }
    let secs = seconds(3.0)?;
    let load_before = load_average();
    // End to end first, while the heap is small: its peak RSS figures start from there.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let runs = runtime.block_on(end_to_end())?;
    let mut encode = Vec::new();
    let cases = [
        (20, true, EncodePath::Engine),
        (20, true, EncodePath::ProstStructs),
        (1, true, EncodePath::Engine),
        (1, true, EncodePath::ProstStructs),
        (20, false, EncodePath::Engine),
        (20, false, EncodePath::ProstStructs),
        (1, false, EncodePath::Engine),
        (1, false, EncodePath::ProstStructs),
    ];
    for (per_series, copies, path) in cases {
        let row = encode_rate(path, per_series, copies, secs)?;
        eprintln!(
            "replicate: encode {} at {per_series}/series, {} copies: {:.2} M samples/s per core",
            path.label(),
            row.copies,
            row.per_cpu_second / 1e6
        );
        encode.push(row);
    }
    let section = render(&encode, &runs, (load_before, load_average()));
    println!("{section}");
    write_section(doc, "replicate", "cargo bench --bench replicate", &section)?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum EncodePath {
    /// Pre-encoded templates written into requests by the batcher, then snappy.
    Engine,
    /// `copy_labels` → `TimeSeries` structs → prost → snappy (the engine before templates).
    ProstStructs,
}

impl EncodePath {
    fn label(self) -> &'static str {
        match self {
            EncodePath::Engine => "engine (pre-encoded templates)",
            EncodePath::ProstStructs => "prost structs (reference)",
        }
    }
}

struct EncodeRow {
    path: EncodePath,
    per_series: usize,
    copies: u64,
    per_cpu_second: f64,
    proto_per_sample: f64,
    snappy_per_sample: f64,
}

/// Source series `i` of metric `metric`: six labels as a scraped histogram bucket has them.
fn source_labels(metric: usize, i: usize) -> Vec<Label> {
    let mut labels = vec![
        Label::new(
            "__name__",
            format!("bench_request_duration_seconds_{metric}"),
        ),
        Label::new("job", "api"),
        Label::new("instance", format!("10.0.{}.{}:8080", i / 200, i % 200)),
        Label::new("method", if i.is_multiple_of(3) { "POST" } else { "GET" }),
        Label::new("route", format!("/api/v1/resource{}/{{id}}", i % 7)),
        Label::new("le", ["0.005", "0.01", "0.05", "0.25", "1", "+Inf"][i % 6]),
    ];
    sort_labels(&mut labels);
    labels
}

fn history(i: usize, samples: usize, end_ms: i64) -> Vec<Sample> {
    (0..samples)
        .map(|k| Sample {
            value: (i * 1000 + k) as f64 * 1.37,
            timestamp: end_ms - (samples - 1 - k) as i64 * STEP_MS,
        })
        .collect()
}

/// Samples per second of this thread's CPU time through one encode path: every one of
/// `ENCODE_SOURCES` series copied over `cluster` × 10 and `replica` × 2 (`copies`), or over one
/// value of each (every series written once), 8 labels per copy, requests of 2000 samples.
fn encode_rate(
    path: EncodePath,
    per_series: usize,
    copies: bool,
    secs: f64,
) -> anyhow::Result<EncodeRow> {
    let space = copy_space(copies)?;
    let encoded = EncodedSpace::new(&space);
    let sources = encode_sources(per_series);
    let mut encoder = BatchEncoder::new();
    let mut batcher = Batcher::new(1, BATCH);
    let mut request = WriteRequest::default();
    let mut template = SeriesTemplate::default();
    let (mut samples, mut proto, mut snappy) = (0u64, 0u64, 0u64);
    let mut count = |b: EncodedBatch| {
        samples += b.samples as u64;
        proto += b.uncompressed_len as u64;
        snappy += b.body.len() as u64;
    };
    let (started, cpu) = (Instant::now(), thread_cpu());
    while started.elapsed().as_secs_f64() < secs {
        for (labels, history) in &sources {
            match path {
                EncodePath::Engine => {
                    template.set(&encoded, labels, history, 0);
                    let mut odometer = encoded.odometer();
                    for _ in 0..space.copies() {
                        batcher.copy(&template, &encoded, odometer.digits());
                        odometer.advance();
                        while let Some((_, job)) = batcher.pop_ready() {
                            count(encoder.compress(
                                &job.proto,
                                job.series,
                                job.samples as usize,
                            )?);
                        }
                    }
                }
                EncodePath::ProstStructs => {
                    for combination in space.combinations() {
                        request.timeseries.push(TimeSeries {
                            labels: copy_labels(labels, &combination),
                            samples: history.clone(),
                        });
                        if request.timeseries.len() * per_series >= BATCH {
                            count(encoder.encode(&request)?);
                            request.timeseries.clear();
                        }
                    }
                }
            }
        }
    }
    let cpu = (thread_cpu() - cpu).as_secs_f64().max(1e-3);
    Ok(EncodeRow {
        path,
        per_series,
        copies: space.copies(),
        per_cpu_second: samples as f64 / cpu,
        proto_per_sample: proto as f64 / samples.max(1) as f64,
        snappy_per_sample: snappy as f64 / samples.max(1) as f64,
    })
}

/// `cluster` × 10 and `replica` × 2 when `copies`, else one value of each.
fn copy_space(copies: bool) -> anyhow::Result<LabelSpace> {
    let (clusters, replicas) = if copies { (10, 2) } else { (1, 1) };
    LabelSpace::new(vec![
        ("cluster".into(), LabelSpace::counted(clusters)),
        (
            "replica".into(),
            ["a", "b"][..replicas]
                .iter()
                .map(|v| (*v).to_owned())
                .collect(),
        ),
    ])
    .map_err(anyhow::Error::msg)
}

/// `ENCODE_SOURCES` series over `METRICS` metrics, `per_series` samples each.
fn encode_sources(per_series: usize) -> Vec<(Vec<Label>, Vec<Sample>)> {
    (0..ENCODE_SOURCES)
        .map(|i| {
            (
                source_labels(i % METRICS, i),
                history(i, per_series, 1_795_000_000_000),
            )
        })
        .collect()
}

/// One end-to-end replication.
struct Run {
    receiver: &'static str,
    outcome: ReplicateOutcome,
    /// Peak RSS of the bench process during the run, KiB (`None`: not measurable here).
    peak_kib: Option<u64>,
    /// CPU time of the bench process (engine; null receiver included) and of the receiving
    /// Prometheus during the run.
    own_cpu: Duration,
    receiver_cpu: Option<Duration>,
}

/// Source and target Prometheus up, the source seeded, then the runs.
async fn end_to_end() -> anyhow::Result<Vec<Run>> {
    let spec = crate::spec::parse(SPEC, Path::new("replicate-bench.yaml"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = tempfile::Builder::new()
        .prefix("perfgate-replicate-bench-")
        .tempdir()?;
    let options = StackOptions {
        run_dir: dir.path().to_path_buf(),
        ..StackOptions::default()
    };
    let stack = stack::start(&spec, &options).await?;
    let runs = runs(&stack).await;
    stack.shutdown().await?;
    runs
}

async fn runs(stack: &stack::RunningStack) -> anyhow::Result<Vec<Run>> {
    let address = |name: &str| {
        stack
            .http_endpoint(name)
            .map(|a| format!("http://{a}"))
            .with_context(|| format!("no `{name}` service"))
    };
    let (source, target) = (address("source")?, address("target")?);
    let target_pid = stack
        .services()
        .iter()
        .find(|s| s.name == "target")
        .map(|s| s.pid());
    seed(&source).await?;
    let (null, null_requests) = null_receiver().await?;
    let target = format!("{target}/api/v1/write");
    let plan: [(&'static str, &str, u32); 4] = [
        ("null", null.as_str(), 20),
        ("null", null.as_str(), 2000),
        ("prometheus", target.as_str(), 20),
        ("prometheus", target.as_str(), 200),
    ];
    let mut runs = Vec::new();
    for (i, (receiver, url, copies)) in plan.into_iter().enumerate() {
        let config = run_config(&source, url, i, copies)?;
        let hwm = reset_vm_hwm();
        let (cpu, receiver_cpu) = (own_cpu(), target_pid.and_then(process_cpu));
        let outcome =
            crate::load::replicate::run("bench", &config, &ReplicateMetrics::new(), None).await?;
        let run = Run {
            receiver,
            peak_kib: vm_hwm_kib().filter(|_| hwm),
            own_cpu: own_cpu() - cpu,
            receiver_cpu: match (receiver, receiver_cpu, target_pid.and_then(process_cpu)) {
                ("prometheus", Some(before), Some(after)) => Some(after - before),
                _ => None,
            },
            outcome,
        };
        eprintln!(
            "replicate: {receiver}: {} series, {} samples in {:.2}s ({:.0}/s), dropped {}",
            run.outcome.series_written,
            run.outcome.samples_written,
            run.outcome.wall_duration,
            run.outcome.achieved_rate,
            run.outcome.samples_dropped
        );
        if run.outcome.samples_dropped > 0 || run.outcome.timed_out {
            bail!(
                "run {i} into {receiver} dropped samples: {:?}",
                run.outcome.messages
            );
        }
        runs.push(run);
    }
    let requests: u64 = runs
        .iter()
        .filter(|r| r.receiver == "null")
        .map(|r| r.outcome.requests)
        .sum();
    let received = null_requests.load(Ordering::Relaxed);
    if received != requests {
        bail!("the null receiver got {received} requests, the engine sent {requests}");
    }
    Ok(runs)
}

/// Run `i`: the seeded history from `source` into `target`, `copies` copies of each series.
fn run_config(
    source: &str,
    target: &str,
    i: usize,
    copies: u32,
) -> anyhow::Result<ReplicateConfig> {
    Ok(ReplicateConfig {
        source: source.to_owned(),
        target: target.to_owned(),
        headers: vec![],
        matchers: vec![r#"{__name__=~"bench_.+"}"#.into()],
        exclude: vec![],
        lookback: Duration::from_millis(STEP_MS as u64 * (HISTORY as u64 - 1)),
        step: Duration::from_millis(STEP_MS as u64),
        // A fresh `run` value per run: every run writes new series.
        labels: LabelSpace::new(vec![
            ("run".into(), vec![i.to_string()]),
            ("copy".into(), LabelSpace::counted(copies)),
        ])
        .map_err(anyhow::Error::msg)?,
        rate: None,
        batch: BATCH,
        concurrency: 2,
        time_shift: true,
        dry_run: false,
        timeout: Duration::from_secs(600),
        retry: RetryPolicy::default(),
    })
}

/// Writes the source history: `METRICS` × `SERIES_PER_METRIC` series of `HISTORY` samples,
/// the newest a second ago.
async fn seed(source: &str) -> anyhow::Result<()> {
    let writer = RemoteWriter::new(
        &format!("{source}/api/v1/write"),
        &[],
        RetryPolicy::default(),
    )?;
    let end = (crate::clock::unix_now() * 1000.0) as i64 - 1000;
    let mut encoder = BatchEncoder::new();
    for metric in 0..METRICS {
        let request = WriteRequest {
            timeseries: (0..SERIES_PER_METRIC)
                .map(|i| TimeSeries {
                    labels: source_labels(metric, metric * SERIES_PER_METRIC + i),
                    samples: history(i, HISTORY, end),
                })
                .collect(),
            metadata: vec![],
        };
        match writer.send(&encoder.encode(&request)?).await {
            SendOutcome::Accepted { .. } => {}
            other => bail!("seeding the source failed: {other:?}"),
        }
    }
    Ok(())
}

/// A loopback remote-write receiver that reads every body, discards it and answers 204.
async fn null_receiver() -> anyhow::Result<(String, Arc<AtomicU64>)> {
    let requests = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&requests);
    let app = Router::new().route(
        "/api/v1/write",
        post(move |body: Bytes| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                drop(body);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}/api/v1/write"), requests))
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn render(encode: &[EncodeRow], runs: &[Run], load: (Option<f64>, Option<f64>)) -> String {
    let mut out = encode_section(encode, load);
    end_to_end_section(&mut out, runs);
    out
}

/// The section's title and the encode + compress table.
fn encode_section(encode: &[EncodeRow], load: (Option<f64>, Option<f64>)) -> String {
    let fmt_load = |l: Option<f64>| l.map_or_else(|| "?".into(), |v| format!("{v:.2}"));
    let mut out = format!(
        "## Replication\n\n\
         Measured {date} on {cores} cores, release build. 1-minute load average before / after: \
         {before} / {after} (the cores are shared with other work; CPU-time figures are less \
         affected than wall-clock ones).\n\n\
         ### Encode + compress (one core)\n\n\
         {sources} source series with distinct labels and values, each copied 20 times \
         (`cluster` × 10, `replica` × 2) or once (one value of each); 8 labels per copy, \
         requests of {BATCH} samples, on one thread; samples per second of that thread's CPU \
         time. The engine writes each copy's protobuf from pre-encoded parts (the source's \
         labels and samples once per series, each replication label value once per run) and \
         compresses each request once with snappy; the reference rows build the same requests \
         as prost structs, as the engine did before. The copies of one series carry the same \
         samples and nearly the same labels, so snappy turns most of a copy into \
         back-references: that is both the small size and much of the speed of the 20-copy \
         rows; the 1-copy rows are the worst case, every series different.\n\n\
         | samples per series | copies per series | path | samples/s per core | protobuf B/sample | snappy B/sample |\n\
         |---:|---:|---|---:|---:|---:|\n",
        date = today(),
        cores = std::thread::available_parallelism().map_or(0, |n| n.get()),
        before = fmt_load(load.0),
        after = fmt_load(load.1),
        sources = ENCODE_SOURCES,
    );
    for r in encode {
        let rate = format!("{:.2} M", r.per_cpu_second / 1e6);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {:.1} |\n",
            r.per_series,
            r.copies,
            r.path.label(),
            if r.path == EncodePath::Engine {
                format!("**{rate}**")
            } else {
                rate
            },
            r.proto_per_sample,
            r.snappy_per_sample
        ));
    }
    out
}

/// The end-to-end table (null receiver and Prometheus) and what bounds it.
fn end_to_end_section(out: &mut String, runs: &[Run]) {
    out.push_str(&format!(
        "\nTarget: ≥ 2 M samples/s per core.\n\n\
         ### End to end\n\n\
         Source: a real Prometheus 2.53 (perfgate's `stack::start`), seeded with {metrics} metrics × \
         {per} series × {HISTORY} samples 15 s apart, read back with `query_range` (lookback \
         5m, step 15s) and copied over `copy` × N; `batch: {BATCH}`, `concurrency: 2`, \
         `time_shift: true`, no rate limit, 2 tokio workers. The null receiver is an \
         in-process handler that reads each body and answers 204; the Prometheus receiver is a \
         second Prometheus of the same stack. Peak RSS is the bench process' `VmHWM`, reset \
         before each run (null receiver included). CPU is user + system time during the run.\n\n\
         | receiver | series written | samples | wall | samples/s | dropped | peak RSS | perfgate CPU | receiver CPU |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        metrics = METRICS,
        per = SERIES_PER_METRIC,
    ));
    for r in runs {
        let o = &r.outcome;
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} s | {:.2} M | {} | {} | {:.2} s | {} |\n",
            r.receiver,
            o.series_written,
            o.samples_written,
            o.wall_duration,
            o.achieved_rate / 1e6,
            o.samples_dropped,
            mib(r.peak_kib),
            r.own_cpu.as_secs_f64(),
            r.receiver_cpu.map_or_else(
                || "(in process)".into(),
                |c| format!("{:.2} s", c.as_secs_f64())
            ),
        ));
    }
    out.push_str(
        "\nMemory holds one metric's history, the next one queued, and about three requests \
         per sender, so the peak RSS does not grow with the number of series written. Into \
         Prometheus, compare perfgate's CPU with the receiver's: the end-to-end rate is the \
         receiver's. 1 M series are not written into Prometheus here: its head would need \
         gigabytes, and the 100 k row already shows the receiver as the limit. Reproduce with `cargo bench --bench replicate` (`PERFGATE_BENCH_SECS` \
         sets the length of each encode measurement).",
    );
}

//! Replication benchmarks (docs/performance.md): encode+compress throughput on one core, then
//! end to end into a null receiver and into a real Prometheus, with peak RSS.
//!
//! `cargo run --release --example replicate_bench -- encode [SAMPLES_PER_SERIES]`
//! `cargo run --release --example replicate_bench -- null http://127.0.0.1:9090 COPIES`
//! `cargo run --release --example replicate_bench -- prom http://127.0.0.1:9090 COPIES`

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use perfgate::load::replicate::{LabelSpace, ReplicateConfig, ReplicateMetrics, replicate};
use perfgate::prom::remote_write::{
    BatchEncoder, Label, RetryPolicy, Sample, TimeSeries, WriteRequest, sort_labels,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("encode") => encode(args.get(1).map_or(Ok(20), |s| s.parse())?),
        Some(mode @ ("null" | "prom")) => {
            let from = args.get(1).ok_or("source url")?.clone();
            let copies: u32 = args.get(2).map_or(Ok(10), |s| s.parse())?;
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?
                .block_on(end_to_end(mode == "null", from, copies))
        }
        _ => Err("usage: replicate_bench encode | null URL COPIES | prom URL COPIES".into()),
    }
}

/// Batches of 2000 samples: series of `per_series` samples, 8 realistic labels each.
fn encode(per_series: u32) -> Result<(), Box<dyn std::error::Error>> {
    let per_series = per_series.clamp(1, 2000);
    let request = WriteRequest {
        timeseries: (0..2000 / per_series)
            .map(|i| {
                let mut labels = vec![
                    Label::new("__name__", "http_server_request_duration_seconds_bucket"),
                    Label::new("job", "api"),
                    Label::new("instance", format!("10.0.0.{i}:8080")),
                    Label::new("method", "GET"),
                    Label::new("route", "/api/v1/users/{id}"),
                    Label::new("le", "0.25"),
                    Label::new("cluster", (i % 3).to_string()),
                    Label::new("replica", if i % 2 == 0 { "a" } else { "b" }),
                ];
                sort_labels(&mut labels);
                TimeSeries {
                    labels,
                    samples: (0..per_series)
                        .map(|k| Sample {
                            value: f64::from(i * 1000 + k) * 1.37,
                            timestamp: 1_795_000_000_000 + i64::from(k) * 15_000,
                        })
                        .collect(),
                }
            })
            .collect(),
        metadata: vec![],
    };
    let mut encoder = BatchEncoder::new();
    let (mut samples, mut raw, mut compressed) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let batch = encoder.encode(&request)?;
        samples += batch.samples as u64;
        raw += batch.uncompressed_len as u64;
        compressed += batch.body.len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "encode+compress, {per_series} samples/series: {:.2} M samples/s on one core; {:.1} B/sample protobuf, {:.1} B/sample snappy",
        samples as f64 / secs / 1e6,
        raw as f64 / samples as f64,
        compressed as f64 / samples as f64
    );
    Ok(())
}

async fn end_to_end(
    null: bool,
    from: String,
    copies: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let target = if null {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new().route(
            "/api/v1/write",
            post(|_body: Bytes| async { StatusCode::NO_CONTENT }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/api/v1/write")
    } else {
        format!("{from}/api/v1/write")
    };
    let run = std::process::id().to_string();
    let config = ReplicateConfig {
        source: from,
        target,
        headers: vec![],
        matchers: vec![r#"{__name__=~"prometheus_.+", bench=""}"#.into()],
        exclude: vec![],
        lookback: Duration::from_secs(300),
        step: Duration::from_secs(15),
        labels: LabelSpace::new(vec![
            ("bench".into(), vec![run]),
            ("copy".into(), LabelSpace::counted(copies)),
        ])?,
        rate: None,
        batch: 2000,
        concurrency: 2,
        time_shift: true,
        dry_run: false,
        timeout: Duration::from_secs(600),
        retry: RetryPolicy::default(),
    };
    let outcome = replicate("bench", &config, &ReplicateMetrics::new(), None).await?;
    println!(
        "{}: {} series, {} samples in {:.2}s = {:.0} samples/s; dropped {}; peak RSS {} ",
        if null { "null receiver" } else { "prometheus" },
        outcome.series_written,
        outcome.samples_written,
        outcome.wall_duration,
        outcome.achieved_rate,
        outcome.samples_dropped,
        peak_rss()
    );
    Ok(())
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

//! Remote write and replication against real Prometheus (provisioned by perfgate if missing):
//! known series written through `RemoteWriter` come back exactly (labels, timestamps, values;
//! no loss, no duplicates); an older sample is refused and never retried; the engine's copies
//! of real series are all queryable; copies from one Prometheus into a second one of the same
//! stack read back exactly; metric metadata travels with the copies; `perfgate replicate` into
//! a closed port gives up at `--give-up-after`, saying why.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;

use perfgate::load::replicate::{LabelSpace, ReplicateConfig, ReplicateMetrics, ReplicateOutcome};
use perfgate::prom::remote_write::{
    BatchEncoder, DropReason, Label, MetricMetadata, MetricType, RemoteWriter, RetryPolicy, Sample,
    SendOutcome, TimeSeries, WriteRequest, decode_body, sort_labels,
};
use perfgate::prom::{PromClient, Series};

use crate::support::stacks::{base_url, wait_series, with_stack};

const SPEC: &str = "
version: 1
name: replicate-roundtrip
stack:
  services:
    prometheus: { kind: prometheus, scrape_interval: 1s }
";

/// Label pairs (sorted) → (timestamp ms, value) points.
type Points = BTreeMap<Vec<(String, String)>, Vec<(i64, f64)>>;

fn now_ms() -> i64 {
    (perfgate::clock::unix_now() * 1000.0) as i64
}

/// Known series: 3 label sets × 40 samples, 1.5 s apart, ending a second ago.
fn known_series(end_ms: i64) -> Vec<TimeSeries> {
    ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, shard)| {
            let mut labels = vec![
                Label::new("shard", *shard),
                Label::new("__name__", "perfgate_roundtrip"),
                Label::new("env", "test"),
            ];
            sort_labels(&mut labels);
            let samples = (0..40)
                .map(|k| Sample {
                    value: (i as f64) * 1000.0 + f64::from(k) * 0.25 - 3.0,
                    timestamp: end_ms - 1000 - (39 - i64::from(k)) * 1500,
                })
                .collect();
            TimeSeries { labels, samples }
        })
        .collect()
}

/// Writes `known_series(end)` in two requests (the series split across them, so batching is
/// part of the round trip); returns what was written.
async fn write_known_series(writer: &RemoteWriter, end: i64) -> Result<Vec<TimeSeries>, String> {
    let written = known_series(end);
    let mut encoder = BatchEncoder::new();
    for part in [&written[..2], &written[2..]] {
        let request = WriteRequest {
            timeseries: part.to_vec(),
            metadata: vec![],
        };
        let outcome = writer
            .send(&encoder.encode(&request).map_err(|e| e.to_string())?)
            .await;
        assert!(
            matches!(outcome, SendOutcome::Accepted { .. }),
            "{outcome:?}"
        );
    }
    Ok(written)
}

/// Every series of a range-vector `query` at unix time `at`, with its raw samples.
async fn raw_points(client: &PromClient, query: &str, at: f64) -> Result<Points, String> {
    let value = client
        .query(query, Some(at))
        .await
        .map_err(|e| e.to_string())?;
    Ok(to_points(&value.series))
}

fn to_points(series: &[Series]) -> Points {
    series
        .iter()
        .map(|s| {
            let labels = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let samples = s
                .samples
                .iter()
                .map(|p| ((p.t * 1000.0).round() as i64, p.v))
                .collect();
            (labels, samples)
        })
        .collect()
}

/// The engine's configuration in these tests: small batches over two senders, keeping
/// timestamps, no rate limit; tests change what they exercise.
fn engine_config(
    source: &str,
    target: &str,
    matchers: &[&str],
    labels: LabelSpace,
) -> ReplicateConfig {
    ReplicateConfig {
        source: source.to_owned(),
        target: target.to_owned(),
        headers: vec![],
        matchers: matchers.iter().map(|m| (*m).to_owned()).collect(),
        exclude: vec![],
        lookback: Duration::from_secs(60),
        step: Duration::from_secs(5),
        labels,
        rate: None,
        batch: 7,
        concurrency: 2,
        time_shift: false,
        dry_run: false,
        timeout: Duration::from_secs(30),
        retry: RetryPolicy::default(),
    }
}

/// Replicates the three known series with `config`: every copy of every series written,
/// nothing dropped.
async fn copy_known_series(config: &ReplicateConfig) -> Result<ReplicateOutcome, String> {
    let outcome = perfgate::load::replicate::run("copy", config, &ReplicateMetrics::new(), None)
        .await
        .map_err(|e| e.to_string())?;
    let copies = config.labels.copies();
    assert_eq!(outcome.source_series, 3, "{outcome:?}");
    assert_eq!(outcome.series_written, 3 * copies, "{outcome:?}");
    assert_eq!(outcome.samples_dropped, 0, "{outcome:?}");
    assert_eq!(outcome.samples_written, outcome.source_samples * copies);
    Ok(outcome)
}

#[test]
fn round_trip_through_real_prometheus() {
    with_stack(SPEC, async |stack| {
        let addr = stack.prometheus().expect("prometheus");
        exercise(&format!("http://{addr}")).await
    });
}

async fn exercise(base: &str) -> Result<(), String> {
    let client = PromClient::from_url(base);
    let writer = RemoteWriter::new(&format!("{base}/api/v1/write"), &[], RetryPolicy::default())
        .map_err(|e| e.to_string())?;
    let end = now_ms();
    let written = write_known_series(&writer, end).await?;

    // Raw samples over a range covering all of them, at a time after the newest.
    let at = end as f64 / 1000.0 + 1.0;
    let read = raw_points(&client, "perfgate_roundtrip[5m]", at).await?;
    let expected: Points = written
        .iter()
        .map(|ts| {
            let mut labels: Vec<(String, String)> = ts
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect();
            labels.sort();
            let samples = ts.samples.iter().map(|s| (s.timestamp, s.value)).collect();
            (labels, samples)
        })
        .collect();
    assert_eq!(
        read, expected,
        "what Prometheus returns is exactly what was written"
    );

    // An older sample for an existing series: refused with 400, never retried.
    let mut stale = written[0].clone();
    stale.samples = vec![Sample {
        value: 1.0,
        timestamp: end - 120_000,
    }];
    let request = WriteRequest {
        timeseries: vec![stale],
        metadata: vec![],
    };
    let outcome = writer
        .send(
            &BatchEncoder::new()
                .encode(&request)
                .map_err(|e| e.to_string())?,
        )
        .await;
    match outcome {
        SendOutcome::Dropped {
            reason: DropReason::Rejected,
            status: Some(400),
            attempts: 1,
            answered: 1,
            message,
        } => assert!(message.contains("out of order"), "{message}"),
        other => panic!("expected a rejection, got {other:?}"),
    }

    // The engine copies the three series twice over `copy`; every copy is queryable.
    let config = ReplicateConfig {
        lookback: Duration::from_secs(60),
        step: Duration::from_secs(5),
        time_shift: true,
        ..engine_config(
            base,
            &format!("{base}/api/v1/write"),
            &["perfgate_roundtrip"],
            LabelSpace::new(vec![("copy".into(), vec!["x".into(), "y".into()])])?,
        )
    };
    let outcome = copy_known_series(&config).await?;
    let copies = client
        .query("count(perfgate_roundtrip{copy=~\"x|y\"})", None)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(copies.series[0].samples[0].v, 6.0);
    let points = client
        .query("count_over_time(perfgate_roundtrip{copy=\"x\"}[10m])", None)
        .await
        .map_err(|e| e.to_string())?;
    let total: f64 = points.series.iter().map(|s| s.samples[0].v).sum();
    assert_eq!(
        total as u64, outcome.source_samples,
        "no copy lost or doubled"
    );
    Ok(())
}

const TWO_PROMETHEUS: &str = "
version: 1
name: replicate-two
stack:
  services:
    source: { kind: prometheus, scrape_interval: 1s }
    target: { kind: prometheus, scrape_interval: 1s, gates: true }
";

/// Two Prometheus services in one stack: known series written into `source` are replicated
/// into `target` (the gating one); every copy reads back from `target` exactly as `source`
/// answers the same range query, and `source` holds no copy.
#[test]
fn replicates_from_one_prometheus_into_another() {
    with_stack(TWO_PROMETHEUS, async |stack| {
        let (source_url, target_url) = (base_url(stack, "source"), base_url(stack, "target"));
        assert_eq!(
            stack.prometheus().map(|a| format!("http://{a}")),
            Some(target_url.clone()),
            "`gates: true` makes `target` the Prometheus assertions query"
        );
        let (source, target) = (
            PromClient::from_url(&source_url),
            PromClient::from_url(&target_url),
        );
        let writer = RemoteWriter::new(
            &format!("{source_url}/api/v1/write"),
            &[],
            RetryPolicy::default(),
        )
        .map_err(|e| e.to_string())?;
        write_known_series(&writer, now_ms()).await?;

        let step = Duration::from_secs(2);
        let config = ReplicateConfig {
            lookback: Duration::from_secs(90),
            step,
            ..engine_config(
                &source_url,
                &format!("{target_url}/api/v1/write"),
                &["perfgate_roundtrip"],
                LabelSpace::new(vec![(
                    "copy".into(),
                    vec!["x".into(), "y".into(), "z".into()],
                )])?,
            )
        };
        let outcome = copy_known_series(&config).await?;

        let at = now_ms() as f64 / 1000.0 + 1.0;
        let copies = raw_points(&target, "perfgate_roundtrip[10m]", at).await?;
        assert_eq!(copies.len(), 9, "only the copies are in the target");
        let total: usize = copies.values().map(Vec::len).sum();
        assert_eq!(
            total as u64, outcome.samples_written,
            "no loss, no duplicates"
        );
        let originals = raw_points(&source, "perfgate_roundtrip[10m]", at).await?;
        assert_eq!(originals.len(), 3, "no copy went to the source");

        // Each copy is what the source answers for the same range query (timestamps kept).
        for (labels, samples) in &copies {
            let (first, last) = (samples[0].0, samples[samples.len() - 1].0);
            let original: Vec<(String, String)> = labels
                .iter()
                .filter(|(k, _)| k != "copy")
                .cloned()
                .collect();
            let selector = original
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(",");
            let range = source
                .query_range(
                    &format!("{{{selector}}}"),
                    first as f64 / 1000.0,
                    last as f64 / 1000.0,
                    step,
                )
                .await
                .map_err(|e| e.to_string())?;
            let expected = to_points(&range.series);
            assert_eq!(expected.get(&original), Some(samples), "{labels:?}");
        }
        Ok(())
    });
}

/// Metric metadata read from a real Prometheus travels with the copies (once per family), and
/// what Prometheus 2.53 does with remote-written metadata: it accepts the request and keeps
/// none of it (its `/api/v1/metadata` lists what it scraped only).
#[test]
fn metadata_travels_with_the_copies() {
    with_stack(TWO_PROMETHEUS, async |stack| {
        let (source_url, target_url) = (base_url(stack, "source"), base_url(stack, "target"));
        let source = PromClient::from_url(&source_url);
        // Metadata exists once `source` has scraped itself.
        wait_series(&source, "prometheus_tsdb_head_series{job=\"source\"}", 1).await?;
        let scraped = source
            .metadata(Some("prometheus_tsdb_head_series"))
            .await
            .map_err(|e| e.to_string())?;
        let help = scraped["prometheus_tsdb_head_series"].help.clone();

        let (receiver, seen) = recording_receiver().await;
        let config = ReplicateConfig {
            lookback: Duration::from_secs(30),
            step: Duration::from_secs(1),
            batch: 3,
            time_shift: true,
            ..engine_config(
                &source_url,
                &receiver,
                &[
                    "prometheus_tsdb_head_series{job=\"source\"}",
                    "prometheus_http_requests_total{job=\"source\"}",
                ],
                LabelSpace::new(vec![("copy".into(), LabelSpace::counted(4))])?,
            )
        };
        let outcome =
            perfgate::load::replicate::run("meta", &config, &ReplicateMetrics::new(), None)
                .await
                .map_err(|e| e.to_string())?;
        assert_eq!(outcome.metadata_written, 2, "{outcome:?}");
        let mut metadata = seen.lock().expect("lock").clone();
        metadata.sort_by(|a, b| a.metric_family_name.cmp(&b.metric_family_name));
        let kinds: Vec<(&str, i32)> = metadata
            .iter()
            .map(|m| (m.metric_family_name.as_str(), m.r#type))
            .collect();
        assert_eq!(
            kinds,
            [
                ("prometheus_http_requests_total", MetricType::Counter as i32),
                ("prometheus_tsdb_head_series", MetricType::Gauge as i32),
            ]
        );
        assert_eq!(metadata[1].help, help);

        // The same metadata written into the target Prometheus: accepted, not kept.
        let writer = RemoteWriter::new(
            &format!("{target_url}/api/v1/write"),
            &[],
            RetryPolicy::default(),
        )
        .map_err(|e| e.to_string())?;
        let mut labels = vec![
            Label::new("__name__", "perfgate_described"),
            Label::new("job", "meta"),
        ];
        sort_labels(&mut labels);
        let request = WriteRequest {
            timeseries: vec![TimeSeries {
                labels,
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: now_ms(),
                }],
            }],
            metadata: vec![MetricMetadata {
                r#type: MetricType::Gauge as i32,
                metric_family_name: "perfgate_described".into(),
                help: "Written with metadata.".into(),
                unit: String::new(),
            }],
        };
        let sent = writer
            .send(
                &BatchEncoder::new()
                    .encode(&request)
                    .map_err(|e| e.to_string())?,
            )
            .await;
        assert!(matches!(sent, SendOutcome::Accepted { .. }), "{sent:?}");
        let target = PromClient::from_url(&target_url);
        wait_series(&target, "perfgate_described", 1).await?;
        let kept = target
            .metadata(Some("perfgate_described"))
            .await
            .map_err(|e| e.to_string())?;
        assert!(
            kept.is_empty(),
            "Prometheus now keeps remote-written metadata ({kept:?}): update docs/replicate.md"
        );
        Ok(())
    });
}

/// A loopback remote-write receiver that decodes every request and keeps its metadata.
async fn recording_receiver() -> (String, Arc<Mutex<Vec<MetricMetadata>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let app = Router::new().route(
        "/api/v1/write",
        post(move |body: Bytes| {
            let kept = Arc::clone(&kept);
            async move {
                match decode_body(&body) {
                    Ok(request) => {
                        kept.lock().expect("lock").extend(request.metadata);
                        StatusCode::NO_CONTENT
                    }
                    Err(_) => StatusCode::BAD_REQUEST,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/api/v1/write"), seen)
}

/// `perfgate replicate` into a closed loopback port, stderr not a terminal: it prints a plain
/// progress line, gives the receiver up once it has refused every connection for
/// `--give-up-after 1s` (not at the 60 s timeout), says why, exits 6 and reports no compressed
/// byte sent.
#[test]
fn the_cli_gives_up_a_receiver_refusing_connections() {
    with_stack(SPEC, async |stack| {
        let base = base_url(stack, "prometheus");
        wait_series(&PromClient::from_url(&base), "up", 1).await?;
        let closed = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let target = format!(
            "http://{}/api/v1/write",
            closed.local_addr().map_err(|e| e.to_string())?
        );
        drop(closed);
        let started = Instant::now();
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_perfgate"))
            .args([
                "replicate",
                "--from",
                &base,
                "--to",
                &target,
                "--match",
                "up",
            ])
            .args(["--lookback", "30s", "--step", "1s", "--label", "copy=3"])
            .args(["--give-up-after", "1s", "--timeout", "60s", "--json"])
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .map_err(|_| "perfgate replicate still running after 30 s".to_owned())?
            .map_err(|e| e.to_string())?;
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(6), "{stderr}");
        assert!(took < Duration::from_secs(10), "took {took:?}: {stderr}");
        assert!(stderr.contains("replicate 0."), "a progress line: {stderr}");
        let why = format!("the receiver at {target} refused every connection for 1.");
        assert!(stderr.contains(&why), "{stderr}");
        assert!(stderr.contains("(0.0 KiB compressed"), "{stderr}");
        let outcome: ReplicateOutcome =
            serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        assert_eq!(outcome.bytes_sent, 0, "{outcome:?}");
        assert!(!outcome.timed_out, "{outcome:?}");
        let down = outcome.dropped.get("receiver_down").copied().unwrap_or(0);
        assert!(down > 0 && down == outcome.samples_dropped, "{outcome:?}");
        Ok(())
    });
}

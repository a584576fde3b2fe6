//! The pipeline against a fake source (Prometheus' JSON API, canned) and a recording
//! remote-write receiver on loopback: every copy arrives exactly once, in order, whatever the
//! batch size and the number of senders; dry runs send nothing; rejections are counted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::json;

use super::*;
use crate::prom::remote_write::{MetricMetadata, MetricType, RetryPolicy, decode_body};

/// Three metrics with two series each, three points 15 s apart; with their metadata.
fn source_router() -> Router {
    async fn metadata() -> axum::Json<serde_json::Value> {
        axum::Json(json!({"status": "success", "data": {
            "cpu_seconds": [{"type": "counter", "help": "CPU time.", "unit": "seconds"}],
            "go_threads": [{"type": "gauge", "help": "Threads.", "unit": ""}],
            "up": [{"type": "gauge", "help": "Whether the target is up.", "unit": ""}],
        }}))
    }
    source_router_without_metadata().route("/api/v1/metadata", get(metadata))
}

/// The same source without the metadata API (answers 404).
fn source_router_without_metadata() -> Router {
    async fn names() -> axum::Json<serde_json::Value> {
        axum::Json(json!({"status": "success", "data": ["cpu_seconds", "go_threads", "up"]}))
    }
    async fn range(Query(q): Query<HashMap<String, String>>) -> axum::Json<serde_json::Value> {
        let query = q.get("query").cloned().unwrap_or_default();
        let name = ["cpu_seconds", "go_threads", "up"]
            .into_iter()
            .find(|n| query.contains(&format!("\"{n}\"")))
            .unwrap_or("none");
        let series: Vec<_> = ["a", "b"]
            .iter()
            .map(|job| {
                json!({"metric": {"__name__": name, "job": job},
                       "values": [[1000.0, "1"], [1015.0, "2"], [1030.0, "3.5"]]})
            })
            .collect();
        axum::Json(json!({"status": "success", "data": {"resultType": "matrix", "result": series}}))
    }
    Router::new()
        .route("/api/v1/label/__name__/values", get(names))
        .route("/api/v1/query_range", get(range))
}

/// Samples per rendered label set.
type SeriesLog = BTreeMap<String, Vec<(i64, f64)>>;

#[derive(Clone, Default)]
struct Received {
    /// Samples per label set, in arrival order.
    series: Arc<Mutex<SeriesLog>>,
    requests: Arc<Mutex<usize>>,
    status: Arc<Mutex<u16>>,
    metadata: Arc<Mutex<Vec<MetricMetadata>>>,
}

async fn write(State(r): State<Received>, body: Bytes) -> (StatusCode, &'static str) {
    let request = decode_body(&body).expect("valid remote-write body");
    *r.requests.lock().expect("lock") += 1;
    let status = *r.status.lock().expect("lock");
    if status != 204 {
        return (
            StatusCode::from_u16(status).expect("status"),
            "out of bounds",
        );
    }
    r.metadata.lock().expect("lock").extend(request.metadata);
    let mut series = r.series.lock().expect("lock");
    for ts in request.timeseries {
        assert_eq!(ts.labels[0].name, "__name__", "name first");
        let key = ts
            .labels
            .iter()
            .map(|l| format!("{}={}", l.name, l.value))
            .collect::<Vec<_>>()
            .join(",");
        series
            .entry(key)
            .or_default()
            .extend(ts.samples.iter().map(|s| (s.timestamp, s.value)));
    }
    (StatusCode::NO_CONTENT, "")
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

async fn setup(status: u16) -> (String, String, Received) {
    setup_with(source_router(), status).await
}

/// `source` served as the source; a recording receiver answering `status` as the target.
async fn setup_with(source: Router, status: u16) -> (String, String, Received) {
    let received = Received::default();
    *received.status.lock().expect("lock") = status;
    let source = serve(source).await;
    let target = serve(
        Router::new()
            .route("/api/v1/write", post(write))
            .with_state(received.clone()),
    )
    .await;
    (source, format!("{target}/api/v1/write"), received)
}

fn config(source: String, target: String) -> ReplicateConfig {
    ReplicateConfig {
        source,
        target,
        headers: vec![],
        matchers: vec![r#"{__name__=~".+"}"#.into()],
        exclude: vec![anchored("go_.*").expect("regex")],
        lookback: Duration::from_secs(300),
        step: Duration::from_secs(15),
        labels: LabelSpace::new(vec![
            ("cluster".into(), LabelSpace::counted(3)),
            ("replica".into(), vec!["a".into(), "b".into()]),
        ])
        .expect("labels"),
        rate: None,
        batch: 4,
        concurrency: 3,
        time_shift: false,
        dry_run: false,
        timeout: Duration::from_secs(30),
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
    }
}

#[tokio::test]
async fn every_copy_arrives_once_in_order() {
    let (source, target, received) = setup(204).await;
    let metrics = ReplicateMetrics::new();
    let outcome = run("copy", &config(source, target), &metrics, None)
        .await
        .expect("replication");
    // 2 metrics (go_threads excluded) × 2 series × 6 copies × 3 samples.
    assert_eq!(outcome.source_metrics, 2);
    assert_eq!(outcome.excluded_metrics, 1);
    assert_eq!(outcome.source_series, 4);
    assert_eq!(outcome.copies_per_series, 6);
    assert_eq!(outcome.series_written, 24);
    assert_eq!(outcome.samples_written, 72);
    assert_eq!(outcome.samples_dropped, 0);
    // Batches of 4 samples: 72 / 4 = 18 requests at least (partial batches at the end).
    assert!(outcome.requests >= 18, "{outcome:?}");
    let series = received.series.lock().expect("lock");
    assert_eq!(series.len(), 24);
    for (key, samples) in series.iter() {
        assert_eq!(
            samples,
            &[(1_000_000, 1.0), (1_015_000, 2.0), (1_030_000, 3.5)],
            "{key}"
        );
    }
    assert!(series.contains_key("__name__=up,cluster=2,job=b,replica=a"));
    assert!(!series.keys().any(|k| k.contains("go_threads")));
    // Metadata once per replicated metric, not per copy; none for the excluded one.
    let mut metadata = received.metadata.lock().expect("lock").clone();
    metadata.sort_by(|a, b| a.metric_family_name.cmp(&b.metric_family_name));
    assert_eq!(
        metadata,
        [
            MetricMetadata {
                r#type: MetricType::Counter as i32,
                metric_family_name: "cpu_seconds".into(),
                help: "CPU time.".into(),
                unit: "seconds".into(),
            },
            MetricMetadata {
                r#type: MetricType::Gauge as i32,
                metric_family_name: "up".into(),
                help: "Whether the target is up.".into(),
                unit: String::new(),
            },
        ]
    );
    assert_eq!(outcome.metadata_written, 2);
}

#[tokio::test]
async fn a_source_without_metadata_still_replicates() {
    let (source, target, received) = setup_with(source_router_without_metadata(), 204).await;
    let cfg = config(source, target);
    let outcome = run("bare", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect("replication");
    assert_eq!(outcome.series_written, 24);
    assert_eq!(outcome.metadata_written, 0);
    assert!(received.metadata.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn time_shift_moves_the_newest_sample_to_now() {
    let (source, target, received) = setup(204).await;
    let mut cfg = config(source, target);
    cfg.time_shift = true;
    cfg.labels = LabelSpace::default();
    let before = (crate::clock::unix_now() * 1000.0) as i64;
    run("shift", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect("replication");
    let after = (crate::clock::unix_now() * 1000.0) as i64;
    let series = received.series.lock().expect("lock");
    assert_eq!(series.len(), 4);
    for samples in series.values() {
        let newest = samples[2].0;
        assert!(
            newest >= before - 60_000 && newest <= after,
            "{newest} not near now"
        );
        assert_eq!(samples[1].0 - samples[0].0, 15_000, "spacing kept");
    }
}

#[tokio::test]
async fn a_dry_run_counts_everything_and_sends_nothing() {
    let (source, target, received) = setup(204).await;
    let mut cfg = config(source, target);
    cfg.dry_run = true;
    let outcome = run("dry", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect("replication");
    assert!(outcome.dry_run);
    assert_eq!(outcome.series_written, 24);
    assert_eq!(outcome.samples_written, 72);
    assert!(outcome.bytes_sent > 0);
    assert_eq!(*received.requests.lock().expect("lock"), 0);
}

#[tokio::test]
async fn rejected_batches_are_dropped_with_the_reason() {
    let (source, target, received) = setup(400).await;
    let metrics = ReplicateMetrics::new();
    let outcome = run("rejected", &config(source, target), &metrics, None)
        .await
        .expect("replication");
    assert_eq!(outcome.samples_written, 0);
    assert_eq!(outcome.samples_dropped, 72);
    assert_eq!(outcome.dropped.get("rejected"), Some(&72));
    assert_eq!(outcome.retries, 0, "4xx is never retried");
    assert_eq!(outcome.messages, ["HTTP 400: out of bounds"]);
    assert_eq!(
        *received.requests.lock().expect("lock") as u64,
        outcome.requests
    );
}

#[tokio::test]
async fn the_rate_limit_spreads_samples_over_time() {
    let (source, target, _) = setup(204).await;
    let mut cfg = config(source, target);
    cfg.rate = Some(200.0);
    let started = Instant::now();
    let outcome = run("slow", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect("replication");
    // 72 samples at 200/s: the last batch may start after (72 - 4) / 200 s, minus the burst.
    assert!(
        started.elapsed() >= Duration::from_millis(230),
        "{:?}",
        started.elapsed()
    );
    assert!(outcome.achieved_rate < 400.0, "{}", outcome.achieved_rate);
}

#[tokio::test]
async fn a_non_loopback_source_is_refused() {
    let cfg = config(
        "http://192.0.2.1:9090".into(),
        "http://127.0.0.1:1/api/v1/write".into(),
    );
    let err = run("x", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("only loopback"), "{err}");
}

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
use crate::prom::remote_write::{
    MetricMetadata, MetricType, RetryPolicy, decode_body, is_canonical, is_stale_nan,
};

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
    source_at(Times::Window)
}

/// Where the fake source's points are.
#[derive(Debug, Clone, Copy)]
enum Times {
    /// The last three points of the queried grid: series still shown at the window's end.
    Window,
    /// 1000 s, 1015 s, 1030 s after the epoch, whatever the query: series that ended long ago.
    Ancient,
}

/// Three metrics with two series each, three points 15 s apart, at `times`.
fn source_at(times: Times) -> Router {
    async fn names() -> axum::Json<serde_json::Value> {
        axum::Json(json!({"status": "success", "data": ["cpu_seconds", "go_threads", "up"]}))
    }
    let range = move |Query(q): Query<HashMap<String, String>>| async move {
        let query = q.get("query").cloned().unwrap_or_default();
        let name = ["cpu_seconds", "go_threads", "up"]
            .into_iter()
            .find(|n| query.contains(&format!("\"{n}\"")))
            .unwrap_or("none");
        let t = match times {
            Times::Window => grid_points(&q),
            Times::Ancient => vec![1030.0, 1015.0, 1000.0],
        };
        let series: Vec<_> = ["a", "b"]
            .iter()
            .map(|job| {
                json!({"metric": {"__name__": name, "job": job},
                       "values": [[t[2], "1"], [t[1], "2"], [t[0], "3.5"]]})
            })
            .collect();
        matrix(series)
    };
    Router::new()
        .route("/api/v1/label/__name__/values", get(names))
        .route("/api/v1/query_range", get(range))
}

/// The last grid points of a `query_range` (newest first, unix seconds), as Prometheus lays
/// them out: `start + k × step` up to `end`.
fn grid_points(q: &HashMap<String, String>) -> Vec<f64> {
    let ms = |key: &str| (q[key].parse::<f64>().expect("number") * 1000.0).round() as i64;
    let (start, end, step) = (ms("start"), ms("end"), ms("step"));
    let last = start + (end - start) / step * step;
    (0..4).map(|k| (last - k * step) as f64 / 1000.0).collect()
}

fn matrix(series: Vec<serde_json::Value>) -> axum::Json<serde_json::Value> {
    axum::Json(json!({"status": "success", "data": {"resultType": "matrix", "result": series}}))
}

/// One metric, `gone`: `job="a"` shown up to the window's end, `job="b"` shown at two points
/// and then no more (it ended one step before the last point); an empty-valued label on both.
fn ending_source() -> Router {
    async fn names() -> axum::Json<serde_json::Value> {
        axum::Json(json!({"status": "success", "data": ["gone"]}))
    }
    async fn range(Query(q): Query<HashMap<String, String>>) -> axum::Json<serde_json::Value> {
        let t = grid_points(&q);
        matrix(vec![
            json!({"metric": {"__name__": "gone", "job": "a", "empty": ""},
                   "values": [[t[2], "1"], [t[1], "2"], [t[0], "3"]]}),
            json!({"metric": {"__name__": "gone", "job": "b", "empty": ""},
                   "values": [[t[3], "NaN"], [t[2], "+Inf"]]}),
        ])
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
        assert!(is_canonical(&ts.labels), "sorted, no empty value: {:?}", ts.labels);
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
        let values: Vec<f64> = samples.iter().map(|s| s.1).collect();
        assert_eq!(values, [1.0, 2.0, 3.5], "{key}");
        let gaps: Vec<i64> = samples.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert_eq!(gaps, [15_000, 15_000], "{key}: the source's timestamps, kept");
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

/// Series that ended long before the window's end get a staleness marker one step after their
/// last point; the time shift moves the marker (the metric's newest sample) to now and every
/// sample with it.
#[tokio::test]
async fn time_shift_moves_the_newest_sample_to_now() {
    let (source, target, received) = setup_with(source_at(Times::Ancient), 204).await;
    let mut cfg = config(source, target);
    cfg.time_shift = true;
    cfg.labels = LabelSpace::default();
    let before = (crate::clock::unix_now() * 1000.0) as i64;
    let outcome = run("shift", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect("replication");
    let after = (crate::clock::unix_now() * 1000.0) as i64;
    assert_eq!((outcome.source_samples, outcome.stale_markers), (12, 4));
    assert_eq!(outcome.samples_written, 16, "markers are samples on the wire");
    let series = received.series.lock().expect("lock");
    assert_eq!(series.len(), 4);
    for samples in series.values() {
        let (marker, value) = samples[3];
        assert!(is_stale_nan(value), "{samples:?}");
        assert!(marker >= before && marker <= after, "{marker} not now");
        let gaps: Vec<i64> = samples.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert_eq!(gaps, [15_000; 3], "spacing kept");
    }
}

/// A series the source stops showing inside the window ends with a staleness marker, bit for
/// bit, one step after its last point; one still shown at the end gets none; NaN and +Inf
/// samples go out as they are, and an empty-valued source label is not sent.
#[tokio::test]
async fn a_series_that_ended_gets_a_staleness_marker() {
    let (source, target, received) = setup_with(ending_source(), 204).await;
    let cfg = config(source, target);
    let outcome = run("ended", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect("replication");
    assert_eq!((outcome.source_samples, outcome.stale_markers), (5, 1));
    assert_eq!(outcome.samples_written, 6 * 6);
    let series = received.series.lock().expect("lock");
    assert_eq!(series.len(), 12);
    for (key, samples) in series.iter() {
        assert!(!key.contains("empty"), "{key}");
        let bits: Vec<u64> = samples.iter().map(|s| s.1.to_bits()).collect();
        if key.contains("job=b") {
            assert_eq!(
                bits,
                [f64::NAN.to_bits(), f64::INFINITY.to_bits(), 0x7ff0_0000_0000_0002],
                "{key}"
            );
            assert_eq!(samples[2].0 - samples[1].0, 15_000, "{key}");
        } else {
            assert!(!samples.iter().any(|s| s.1.is_nan()), "{key}: {samples:?}");
        }
    }
}

/// A receiver that never answers: the run ends at its timeout (plus the short grace), and
/// every sample generated is counted as dropped at the deadline.
#[tokio::test]
async fn a_receiver_that_never_answers_is_cut_at_the_timeout() {
    let source = serve(source_router()).await;
    let target = serve(Router::new().route(
        "/api/v1/write",
        post(std::future::pending::<StatusCode>),
    ))
    .await;
    let mut cfg = config(source, format!("{target}/api/v1/write"));
    cfg.timeout = Duration::from_secs(1);
    cfg.retry = RetryPolicy::default();
    let started = Instant::now();
    let outcome = run("stuck", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect("replication");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1_700), "{took:?}");
    assert!(outcome.timed_out);
    assert_eq!(outcome.samples_written, 0);
    assert_eq!(outcome.dropped.get("deadline"), Some(&72), "{outcome:?}");
    assert_eq!(outcome.samples_dropped, 72);
}

/// A slow receiver: what it accepted before the timeout is written, the rest dropped at the
/// deadline; nothing is unaccounted for.
#[tokio::test]
async fn a_slow_receiver_writes_what_it_can_and_the_rest_is_dropped() {
    let source = serve(source_router()).await;
    let slow = || async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        StatusCode::NO_CONTENT
    };
    let target = serve(Router::new().route("/api/v1/write", post(slow))).await;
    let mut cfg = config(source, format!("{target}/api/v1/write"));
    cfg.timeout = Duration::from_secs(1);
    cfg.concurrency = 1;
    let started = Instant::now();
    let outcome = run("slow", &cfg, &ReplicateMetrics::new(), None)
        .await
        .expect("replication");
    assert!(started.elapsed() < Duration::from_millis(1_700));
    assert!(outcome.timed_out);
    assert!(outcome.samples_written > 0, "{outcome:?}");
    let dropped = outcome.dropped.get("deadline").copied().unwrap_or(0);
    assert!(dropped > 0, "{outcome:?}");
    assert_eq!(outcome.samples_written + dropped, 72, "{outcome:?}");
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

/// A receiver refusing every connection: the phase ends once it has refused for
/// `give_up_after`, long before its timeout, every sample counted as dropped under
/// `receiver_down` with the reason, and no byte counted as sent.
#[tokio::test]
async fn a_receiver_refusing_connections_is_given_up_and_the_phase_ends() {
    let source = serve(source_router()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = format!("http://{}/api/v1/write", closed.local_addr().expect("addr"));
    drop(closed);
    let mut cfg = config(source, target.clone());
    cfg.timeout = Duration::from_secs(30);
    cfg.retry.give_up_after = Duration::from_secs(1);
    let (tx, rx) = tokio::sync::watch::channel(ReplicateProgress::default());
    let started = Instant::now();
    let outcome = run("down", &cfg, &ReplicateMetrics::new(), Some(tx))
        .await
        .expect("replication");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2_500), "{took:?}");
    assert!(!outcome.timed_out, "{outcome:?}");
    assert_eq!(outcome.samples_written, 0);
    assert_eq!(outcome.bytes_sent, 0, "nothing reached a receiver");
    assert_eq!(outcome.dropped.get("receiver_down"), Some(&72), "{outcome:?}");
    assert_eq!(outcome.samples_dropped, 72, "{outcome:?}");
    let why = format!("the receiver at {target} refused every connection for 1.");
    assert!(outcome.messages[0].starts_with(&why), "{:?}", outcome.messages);
    let last = rx.borrow().clone();
    assert!(last.refusing_ms.is_some(), "{last:?}");
    assert!(progress_line(&last).contains("receiver refusing connections for"));
}

/// A replicate phase's `auth:` and headers from outside the spec reach every write, and the
/// config's `Debug` shows where they came from, never their values.
#[test]
fn credentials_of_a_replicate_phase_are_sent_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org"), "tenant-secret-9\n").unwrap();
    let source = "stack:\n  services:\n    prometheus: { kind: prometheus }\nload:\n  - phase: r\n    replicate: { from: prometheus, to: prometheus, labels: { replica: 2 }, auth: { bearer: { env: PATH } }, headers: { X-Scope-OrgID: { file: org } } }\n";
    let spec = crate::spec::parse(source, &dir.path().join("s.yaml")).expect("valid");
    let crate::spec::PhaseKind::Replicate(phase) = &spec.phases[0].kind else {
        panic!("{:?}", spec.phases[0]);
    };
    let config = ReplicateConfig::from_phase(phase, "http://127.0.0.1:1".into(), "http://127.0.0.1:2/w".into()).unwrap();
    let sent: Vec<(&str, &str)> = config.headers.iter().map(|(n, v)| (n.as_str(), v.expose())).collect();
    let path = std::env::var("PATH").unwrap();
    let bearer = format!("Bearer {path}");
    assert_eq!(sent, [("X-Scope-OrgID", "tenant-secret-9"), ("Authorization", bearer.as_str())]);
    let shown = format!("{config:?}{phase:?}");
    assert!(!shown.contains("tenant-secret-9") && !shown.contains(&path), "{shown}");
}

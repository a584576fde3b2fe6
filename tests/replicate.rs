//! Remote write and replication against a real Prometheus (provisioned by perfgate if missing):
//! known series written through `RemoteWriter` come back exactly (labels, timestamps, values;
//! no loss, no duplicates); an older sample is refused and never retried; and the engine's
//! copies of real series are all queryable.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use perfgate::load::replicate::{LabelSpace, ReplicateConfig, ReplicateMetrics, replicate};
use perfgate::prom::PromClient;
use perfgate::prom::remote_write::{
    BatchEncoder, DropReason, Label, RemoteWriter, RetryPolicy, Sample, SendOutcome, TimeSeries,
    WriteRequest, sort_labels,
};
use perfgate::spec;
use perfgate::stack::{self, StackOptions};

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
    (perfgate::run::unix_now() * 1000.0) as i64
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

#[test]
fn round_trip_through_real_prometheus() {
    let spec = spec::parse(SPEC, Path::new("replicate-roundtrip.yaml")).expect("spec");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        // A fresh folder each time: Prometheus would reload an earlier run's TSDB.
        let dir = tempfile::Builder::new()
            .prefix("replicate-roundtrip-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("run dir");
        let options = StackOptions {
            run_dir: dir.path().to_path_buf(),
            extra_targets: vec![],
            host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        };
        let stack = stack::start(&spec, &options).await.expect("stack up");
        let addr = stack.prometheus().expect("prometheus");
        let result = exercise(&format!("http://{addr}")).await;
        stack.shutdown().await.expect("teardown");
        result.unwrap_or_else(|e| panic!("{e}"));
    });
}

async fn exercise(base: &str) -> Result<(), String> {
    let client = PromClient::from_url(base);
    let writer = RemoteWriter::new(&format!("{base}/api/v1/write"), &[], RetryPolicy::default())
        .map_err(|e| e.to_string())?;
    let end = now_ms();
    let written = known_series(end);
    // Two requests (the series split across them), so batching is part of the round trip.
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

    // Raw samples over a range covering all of them, at a time after the newest.
    let at = end as f64 / 1000.0 + 1.0;
    let value = client
        .query("perfgate_roundtrip[5m]", Some(at))
        .await
        .map_err(|e| e.to_string())?;
    let read: Points = value
        .series
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
        .collect();
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
        .send(&encoder.encode(&request).map_err(|e| e.to_string())?)
        .await;
    match outcome {
        SendOutcome::Dropped {
            reason: DropReason::Rejected,
            status: Some(400),
            attempts: 1,
            message,
        } => assert!(message.contains("out of order"), "{message}"),
        other => panic!("expected a rejection, got {other:?}"),
    }

    // The engine copies the three series twice over `copy`; every copy is queryable.
    let config = ReplicateConfig {
        source: base.to_owned(),
        target: format!("{base}/api/v1/write"),
        headers: vec![],
        matchers: vec!["perfgate_roundtrip".into()],
        exclude: vec![],
        lookback: Duration::from_secs(60),
        step: Duration::from_secs(5),
        labels: LabelSpace::new(vec![("copy".into(), vec!["x".into(), "y".into()])])
            .map_err(|e| e.clone())?,
        rate: None,
        batch: 7,
        concurrency: 2,
        time_shift: true,
        dry_run: false,
        timeout: Duration::from_secs(30),
        retry: RetryPolicy::default(),
    };
    let outcome = replicate("roundtrip", &config, &ReplicateMetrics::new(), None)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(outcome.source_series, 3, "{outcome:?}");
    assert_eq!(outcome.series_written, 6, "{outcome:?}");
    assert_eq!(outcome.samples_dropped, 0, "{outcome:?}");
    assert_eq!(outcome.samples_written, outcome.source_samples * 2);
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

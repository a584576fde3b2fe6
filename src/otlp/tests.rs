//! Golden translation tables (one insta snapshot per case) and the adapter's HTTP surface on a
//! loopback port: gzip, content types, traces/logs discarded, `/metrics` exposition.

use std::fmt::Write as _;
use std::io::Write as _;

use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;
use rstest::rstest;

use super::*;

const T: u64 = 1_700_000_000_123_000_000;
const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;
const DELTA: i32 = AggregationTemporality::Delta as i32;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn int_kv(k: &str, v: i64) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(v)),
        }),
        ..Default::default()
    }
}

fn point(attrs: Vec<KeyValue>, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: T,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(data),
        ..Default::default()
    }
}

fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn api_resource() -> Vec<KeyValue> {
    vec![
        kv("service.name", "api"),
        kv("service.instance.id", "127.0.0.1:8080"),
    ]
}

fn sum(monotonic: bool, temporality: i32, points: Vec<NumberDataPoint>) -> Data {
    Data::Sum(Sum {
        data_points: points,
        aggregation_temporality: temporality,
        is_monotonic: monotonic,
    })
}

/// The translation as text: one line per sample, then the rejections.
fn golden(t: &Translation) -> String {
    let mut out = String::new();
    for s in &t.series {
        let labels: Vec<String> = s
            .labels
            .iter()
            .filter(|(k, _)| k != "__name__")
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        for (at, v) in &s.samples {
            let _ = writeln!(out, "{}{{{}}} {v} @{at}", s.name(), labels.join(", "));
        }
    }
    let _ = writeln!(out, "-- points: {}, samples: {}", t.points, t.samples);
    if let Some(m) = t.rejection_message() {
        let _ = writeln!(out, "-- rejected {}: {m}", t.rejected_points());
    }
    out
}

#[rstest]
#[case::counter_gets_total("counter_gets_total", request(api_resource(), vec![metric(
    "http_requests", "{request}",
    sum(true, CUMULATIVE, vec![
        point(vec![kv("method", "GET"), kv("endpoint", "/health"), kv("status", "200")], 42.0),
        point(vec![kv("method", "POST"), kv("endpoint", "/api/orders"), kv("status", "201")], 7.0),
    ]))]))]
#[case::up_down_counter_is_a_gauge("up_down_counter_is_a_gauge", request(api_resource(), vec![metric(
    "http_requests_in_flight", "{request}", sum(false, CUMULATIVE, vec![point(vec![], 3.0)]))]))]
#[case::gauge_with_unit_one_gets_ratio("gauge_with_unit_one_gets_ratio", request(api_resource(), vec![metric(
    "cache.hit", "1", Data::Gauge(Gauge { data_points: vec![point(vec![], 0.75)] }))]))]
#[case::histogram_buckets_are_cumulative("histogram_buckets_are_cumulative", request(api_resource(), vec![metric(
    "http_request_duration", "s", Data::Histogram(Histogram {
        aggregation_temporality: CUMULATIVE,
        data_points: vec![HistogramDataPoint {
            attributes: vec![kv("endpoint", "/api/users")],
            time_unix_nano: T,
            count: 10,
            sum: Some(1.25),
            bucket_counts: vec![2, 3, 0, 5],
            explicit_bounds: vec![0.005, 0.1, 1.0],
            ..Default::default()
        }],
    }))]))]
#[case::summary_quantiles("summary_quantiles", request(api_resource(), vec![metric(
    "rpc.latency", "ms", Data::Summary(Summary { data_points: vec![SummaryDataPoint {
        time_unix_nano: T, count: 4, sum: 10.0,
        quantile_values: vec![ValueAtQuantile { quantile: 0.5, value: 2.0 }, ValueAtQuantile { quantile: 0.99, value: 4.5 }],
        ..Default::default()
    }] }))]))]
#[case::namespace_job_and_target_info("namespace_job_and_target_info", request(
    vec![kv("service.name", "checkout"), kv("service.namespace", "shop"), kv("service.instance.id", "pod-1"),
         kv("deployment.environment", "ci"), int_kv("host.cpus", 2)],
    vec![metric("orders", "{order}", sum(true, CUMULATIVE, vec![point(vec![kv("status", "created")], 5.0)]))]))]
#[case::colliding_label_names_join_values("colliding_label_names_join_values", request(api_resource(), vec![metric(
    "x", "", Data::Gauge(Gauge { data_points: vec![point(vec![kv("a.b", "1"), kv("a_b", "2"), kv("0x", "z")], 1.0)] }))]))]
#[case::delta_and_exponential_are_rejected("delta_and_exponential_are_rejected", request(api_resource(), vec![
    metric("orders", "", sum(true, DELTA, vec![point(vec![], 1.0), point(vec![], 2.0)])),
    metric("lat", "s", Data::ExponentialHistogram(ExponentialHistogram { data_points: vec![Default::default()], aggregation_temporality: CUMULATIVE })),
    metric("kept", "", sum(true, CUMULATIVE, vec![point(vec![], 1.0)])),
]))]
#[case::no_recorded_value_is_stale("no_recorded_value_is_stale", request(api_resource(), vec![metric(
    "gone", "", Data::Gauge(Gauge { data_points: vec![NumberDataPoint { flags: 1, ..point(vec![], 5.0) }] }))]))]
fn translation_golden(#[case] name: &str, #[case] request: ExportMetricsServiceRequest) {
    let t = translate(&request);
    insta::assert_snapshot!(format!("translate_{name}"), golden(&t));
}

#[test]
fn several_points_of_one_series_become_one_series_with_several_samples() {
    let mut p2 = point(vec![], 2.0);
    p2.time_unix_nano = T + 1_000_000_000;
    let r = request(
        api_resource(),
        vec![metric(
            "c",
            "",
            sum(true, CUMULATIVE, vec![point(vec![], 1.0), p2]),
        )],
    );
    let t = translate(&r);
    assert_eq!(t.series.len(), 1);
    assert_eq!(
        t.series[0].samples,
        [(1_700_000_000_123, 1.0), (1_700_000_001_123, 2.0)]
    );
}

/// The adapter's `/metrics` text.
async fn exposition(client: &reqwest::Client, addr: std::net::SocketAddr) -> String {
    client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip in memory");
    e.finish().expect("gzip in memory")
}

#[tokio::test]
async fn adapter_accepts_gzip_protobuf_discards_traces_and_exposes_series() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, None, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = request(
        api_resource(),
        vec![
            metric(
                "http_requests",
                "",
                sum(
                    true,
                    CUMULATIVE,
                    vec![point(vec![kv("status", "200")], 3.0)],
                ),
            ),
            metric("orders", "", sum(true, DELTA, vec![point(vec![], 1.0)])),
        ],
    )
    .encode_to_vec();
    let answer = client
        .post(format!("http://{addr}/v1/metrics"))
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "gzip")
        .body(gzip(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let decoded = ExportMetricsServiceResponse::decode(answer.bytes().await.unwrap()).unwrap();
    let partial = decoded
        .partial_success
        .expect("the delta point is reported");
    assert_eq!(partial.rejected_data_points, 1);
    assert!(
        partial.error_message.contains("delta temporality"),
        "{}",
        partial.error_message
    );

    let json = client
        .post(format!("http://{addr}/v1/metrics"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 415);
    assert!(json.text().await.unwrap().contains("http/protobuf"));

    let garbage = client
        .post(format!("http://{addr}/v1/metrics"))
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "gzip")
        .body("not gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);

    for signal in ["traces", "logs"] {
        let r = client
            .post(format!("http://{addr}/v1/{signal}"))
            .header("content-type", "application/x-protobuf")
            .body(Vec::new())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{signal}");
    }

    let text = exposition(&client, addr).await;
    assert!(
        text.contains(
            "http_requests_total{instance=\"127.0.0.1:8080\",job=\"api\",status=\"200\"} 3 1700000000123\n"
        ),
        "{text}"
    );
    assert!(!text.contains("orders_total{"), "{text}");
    assert!(
        text.contains("perfgate_otlp_points_rejected_total{reason=\"delta_temporality\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("perfgate_otlp_requests_total{signal=\"metrics\",code=\"415\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("perfgate_otlp_requests_total{signal=\"traces\",code=\"200\"} 1\n"),
        "{text}"
    );
    for line in [
        "perfgate_otlp_decode_errors_total 2",
        "perfgate_otlp_points_received_total 2",
        "perfgate_otlp_points_accepted_total 1",
        "perfgate_otlp_samples_written_total 1",
        "perfgate_otlp_write_failures_total 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// A request carrying one cumulative counter point of `value`.
fn counter_request(value: f64) -> Vec<u8> {
    request(
        api_resource(),
        vec![metric(
            "http_requests",
            "",
            sum(true, CUMULATIVE, vec![point(vec![], value)]),
        )],
    )
    .encode_to_vec()
}

#[tokio::test]
async fn a_refused_remote_write_answers_503_and_counts_the_failure() {
    use axum::http::StatusCode;
    let refusing = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(|| async { StatusCode::BAD_REQUEST }),
    );
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/write", receiver.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(receiver, refusing).await });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve(listener, Some(&url), async {
            let _ = stopped.await;
        })
        .await
    });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = client
        .post(format!("http://{addr}/v1/metrics"))
        .header("content-type", "application/x-protobuf")
        .body(counter_request(5.0))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 503, "the sender learns the data was lost");
    let text = exposition(&client, addr).await;
    for line in [
        "perfgate_otlp_points_received_total 1",
        "perfgate_otlp_write_failures_total 1",
        "perfgate_otlp_samples_write_failed_total 1",
        "perfgate_otlp_samples_written_total 0",
        "perfgate_otlp_requests_total{signal=\"metrics\",code=\"503\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

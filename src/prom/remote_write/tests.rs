//! Encoder golden bytes (checked by decoding with prost too), label order, and the retry policy
//! against a scripted loopback receiver.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use prost::Message;

use super::*;

fn request() -> WriteRequest {
    let mut labels = vec![
        Label::new("job", "api"),
        Label::new("__name__", "http_requests_total"),
        Label::new("code", "200"),
    ];
    sort_labels(&mut labels);
    WriteRequest {
        timeseries: vec![TimeSeries {
            labels,
            samples: vec![
                Sample {
                    value: 1.0,
                    timestamp: 1_700_000_000_000,
                },
                Sample {
                    value: 2.5,
                    timestamp: 1_700_000_015_000,
                },
            ],
        }],
        metadata: vec![],
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| {
            c.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Byte order, as the remote-write spec asks: `__name__` is not first when an upper-case name
/// sorts before it (Cortex- and Mimir-style receivers answer 400 otherwise).
#[test]
fn labels_sort_in_byte_order() {
    let mut labels = vec![
        Label::new("zone", "a"),
        Label::new("__name__", "m"),
        Label::new("Upper", "x"),
        Label::new("__meta", "y"),
    ];
    sort_labels(&mut labels);
    let names: Vec<&str> = labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Upper", "__meta", "__name__", "zone"]);
}

#[test]
fn canonical_labels_drop_empty_values_and_sort() {
    let mut labels = vec![
        Label::new("instance", "a"),
        Label::new("__name__", "probe_metric"),
        Label::new("aaa", "1"),
        Label::new("empty", ""),
        Label::new("Zone", "x"),
    ];
    assert!(!is_canonical(&labels));
    canonical_labels(&mut labels);
    let names: Vec<&str> = labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Zone", "__name__", "aaa", "instance"]);
    assert!(is_canonical(&labels));
    let twice = [Label::new("a", "1"), Label::new("a", "2")];
    assert!(!is_canonical(&twice), "a name twice is not a label set");
}

#[test]
fn the_stale_marker_is_one_nan_among_many() {
    assert!(stale_nan().is_nan());
    assert!(is_stale_nan(stale_nan()));
    assert!(!is_stale_nan(f64::NAN));
    assert_eq!(STALE_NAN_BITS, 0x7ff0_0000_0000_0002);
}

#[test]
fn golden_bytes_decode_back_to_the_request() {
    let request = request();
    let proto = request.encode_to_vec();
    insta::assert_snapshot!("write_request_protobuf", hex(&proto));
    let batch = BatchEncoder::new().encode(&request).expect("encode");
    insta::assert_snapshot!("write_request_snappy", hex(&batch.body));
    assert_eq!(batch.series, 1);
    assert_eq!(batch.samples, 2);
    assert_eq!(batch.uncompressed_len, proto.len());
    assert_eq!(decode_body(&batch.body).expect("decode"), request);
    // The same bytes through prost and snap directly, not through our helpers.
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&batch.body)
        .expect("snappy block");
    assert_eq!(
        WriteRequest::decode(raw.as_slice()).expect("prost"),
        request
    );
}

#[test]
fn the_encoder_reuses_its_buffer_without_leaking_old_bytes() {
    let mut encoder = BatchEncoder::new();
    let mut big = request();
    big.timeseries[0].samples = (0..1000)
        .map(|i| Sample {
            value: f64::from(i),
            timestamp: i64::from(i),
        })
        .collect();
    encoder.encode(&big).expect("big");
    let small = encoder.encode(&request()).expect("small");
    assert_eq!(decode_body(&small.body).expect("decode"), request());
}

#[test]
fn only_loopback_urls_are_accepted() {
    for ok in [
        "http://127.0.0.1:9090/api/v1/write",
        "http://127.0.0.2/w",
        "http://[::1]:1/w",
        "http://localhost:9/w",
    ] {
        assert!(check_loopback(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://10.0.0.1/w",
        "http://example.com/w",
        "ftp://127.0.0.1/w",
        "nonsense",
    ] {
        assert!(check_loopback(bad).is_err(), "{bad}");
    }
}

/// Status and optional `Retry-After` of one scripted answer.
type Answer = (u16, Option<&'static str>);

/// A receiver answering a script of (status, retry-after) and recording every body it got.
#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<Vec<Answer>>>,
    seen: Arc<Mutex<Vec<(Instant, Bytes, HeaderMap)>>>,
}

async fn answer(State(script): State<Script>, headers: HeaderMap, body: Bytes) -> Response {
    script
        .seen
        .lock()
        .expect("lock")
        .push((Instant::now(), body, headers));
    let next = {
        let mut answers = script.answers.lock().expect("lock");
        if answers.is_empty() {
            (204, None)
        } else {
            answers.remove(0)
        }
    };
    let status = StatusCode::from_u16(next.0).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match next.1 {
        Some(after) => (status, [("retry-after", after)], "slow down").into_response(),
        None if next.0 == 400 => (status, "out of order sample").into_response(),
        None => status.into_response(),
    }
}

async fn receiver(answers: Vec<Answer>) -> (String, Script) {
    let script = Script::default();
    *script.answers.lock().expect("lock") = answers;
    let app = Router::new()
        .route("/api/v1/write", post(answer))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/api/v1/write"), script)
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(2),
        budget: Duration::from_secs(10),
        timeout: Duration::from_secs(5),
        give_up_after: Duration::from_secs(1),
    }
}

fn batch() -> EncodedBatch {
    BatchEncoder::new().encode(&request()).expect("encode")
}

#[tokio::test]
async fn server_errors_and_throttling_are_retried_honouring_retry_after() {
    let (url, script) = receiver(vec![(500, None), (429, Some("1")), (503, None)]).await;
    let writer = RemoteWriter::new(
        &url,
        &[("X-Scope-OrgID".into(), "tenant-a".into())],
        fast_policy(),
    )
    .expect("writer");
    let outcome = writer.send(&batch()).await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            status: 204,
            attempts: 4,
            answered: 4,
        }
    );
    let seen = script.seen.lock().expect("lock");
    assert_eq!(seen.len(), 4);
    // The 429 said one second: the third attempt waited at least that long after the second.
    let waited = seen[2].0 - seen[1].0;
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}");
    // The 500 was retried after the short back-off, not after a second.
    assert!(seen[1].0 - seen[0].0 < Duration::from_millis(900));
    for (_, body, headers) in seen.iter() {
        assert_eq!(body, &batch().body, "every retry sends the same bytes");
        assert_eq!(headers["content-encoding"], "snappy");
        assert_eq!(headers["content-type"], "application/x-protobuf");
        assert_eq!(headers["x-prometheus-remote-write-version"], "0.1.0");
        assert_eq!(headers["x-scope-orgid"], "tenant-a");
    }
}

#[tokio::test]
async fn a_client_error_is_never_retried() {
    let (url, script) = receiver(vec![(400, None)]).await;
    let writer = RemoteWriter::new(&url, &[], fast_policy()).expect("writer");
    let outcome = writer.send(&batch()).await;
    assert_eq!(
        outcome,
        SendOutcome::Dropped {
            reason: DropReason::Rejected,
            status: Some(400),
            attempts: 1,
            answered: 1,
            message: "out of order sample".into(),
        }
    );
    assert_eq!(script.seen.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn retries_stop_after_max_attempts_and_say_why() {
    let (url, script) = receiver(vec![(503, None); 10]).await;
    let writer = RemoteWriter::new(&url, &[], fast_policy()).expect("writer");
    let outcome = writer.send(&batch()).await;
    assert!(
        matches!(
            outcome,
            SendOutcome::Dropped {
                reason: DropReason::ServerError,
                status: Some(503),
                attempts: 5,
                answered: 5,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(script.seen.lock().expect("lock").len(), 5);
    // A 5xx is an answer, never a refusal: the batch is bounded by its attempts, not given up
    // as `receiver_down`.
    assert_eq!(writer.refusing_for(), None);
}

/// A loopback URL nothing listens on.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}/api/v1/write")
}

/// A closed port is retried past `max_attempts` until it has refused every connection for
/// `give_up_after`, then given up with the reason; no attempt was answered (no byte reached a
/// receiver). The next batch, the receiver still refusing, is given up after one attempt.
#[tokio::test]
async fn a_receiver_refusing_connections_is_given_up_after_the_bound() {
    let url = closed_port();
    let policy = RetryPolicy {
        max_attempts: 2,
        ..fast_policy()
    };
    let writer = RemoteWriter::new(&url, &[], policy).expect("writer");
    let started = Instant::now();
    let outcome = writer.send(&batch()).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_millis(1_500),
        "{took:?}"
    );
    let SendOutcome::Dropped {
        reason,
        status,
        attempts,
        answered,
        message,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!((reason, status, answered), (DropReason::ReceiverDown, None, 0));
    assert!(attempts > 2, "retried past max_attempts: {attempts}");
    let prefix = format!("the receiver at {url} refused every connection for 1.");
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.contains("s; gave up (last error: Connection refused"), "{message}");
    assert!(writer.refusing_for().is_some());
    let again = writer.send(&batch()).await;
    assert!(
        matches!(
            again,
            SendOutcome::Dropped {
                reason: DropReason::ReceiverDown,
                attempts: 1,
                answered: 0,
                ..
            }
        ),
        "{again:?}"
    );
}

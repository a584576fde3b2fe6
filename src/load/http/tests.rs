//! Loopback tests of the HTTP engine against the in-process demo API and misbehaving servers.
//! Bounds are generous (CI shares cores) but every one of them can still fail.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use super::HttpError;
use super::engine::MixPicker;
use super::{HttpConfig, HttpPhaseOutcome, HttpProgress};
use crate::demo_api::{DemoApiConfig, serve};
use crate::load::EngineMetrics;
use crate::spec::{HttpPhase, Method, Rate, WeightedRequest};

fn get(weight: u32, path: &str) -> WeightedRequest {
    WeightedRequest {
        weight,
        method: Method::Get,
        path: path.into(),
        json: None,
        headers: BTreeMap::new(),
    }
}

fn phase(rate: f64, secs: f64, max_in_flight: usize, mix: Vec<WeightedRequest>) -> HttpPhase {
    HttpPhase {
        target: "api".into(),
        rate: Rate(rate),
        ramp: None,
        duration: Duration::from_secs_f64(secs),
        max_in_flight,
        timeout: Duration::from_secs(2),
        mix,
        auth: None,
    }
}

/// `phase` against `target`, as a run prepares and runs it.
async fn run(
    name: &str,
    phase: &HttpPhase,
    target: SocketAddr,
    metrics: &EngineMetrics,
    progress: Option<watch::Sender<HttpProgress>>,
) -> Result<HttpPhaseOutcome, HttpError> {
    super::run(
        name,
        HttpConfig::from_phase(phase, target)?,
        metrics,
        progress,
    )
    .await
}

/// The demo API in-process with no simulated latency or errors.
async fn demo_api() -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = DemoApiConfig {
        listen: addr,
        seed: 1,
        latency_factor: 0.0,
        error_factor: 0.0,
        cpu_factor: 1.0,
        otlp: None,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        serve(listener, &config, async move {
            let _ = stopped.await;
        })
        .await
    });
    (addr, stop)
}

/// A server that answers every request with 200 after `delay`.
async fn delayed_server(delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move {
            tokio::time::sleep(delay).await;
            "late"
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A server that accepts connections and never answers.
async fn black_hole() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        // Bounded: the test opens far fewer connections than this.
        while held.len() < 1000 {
            match listener.accept().await {
                Ok((socket, _)) => held.push(socket),
                Err(_) => break,
            }
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn achieved_count_matches_rate_times_duration() {
    let (addr, _stop) = demo_api().await;
    let metrics = EngineMetrics::new();
    let (progress_tx, progress_rx) = watch::channel(HttpProgress::default());
    let spec = phase(200.0, 2.0, 64, vec![get(1, "/health")]);
    let outcome = run("steady", &spec, addr, &metrics, Some(progress_tx))
        .await
        .expect("phase");
    // The schedule is exact: 200/s for 2 s is 400 arrivals, each either sent or dropped.
    assert_eq!(outcome.sent + outcome.dropped, 400, "{outcome:#?}");
    assert!(outcome.completed >= 396, "{outcome:#?}");
    assert_eq!(outcome.completed, outcome.ok);
    assert!((outcome.achieved_rate - 200.0).abs() <= 4.0, "{outcome:#?}");
    assert_eq!(outcome.requested_rate, Some(200.0));
    let lag = outcome
        .dispatch_lag
        .clone()
        .expect("open model reports its lag");
    assert!(lag.p50 < 0.1 && lag.max < 1.0, "{outcome:#?}");
    assert!(outcome.latency.p99 < 1.0 && outcome.latency.samples == outcome.completed);
    let last = progress_rx.borrow().clone();
    assert_eq!(
        (last.sent, last.completed, last.phase.as_str()),
        (outcome.sent, outcome.completed, "steady")
    );
    let text = metrics.encode().expect("encode");
    let series = format!(
        r#"perfgate_http_requests_total{{phase="steady",method="GET",endpoint="/health",status="200"}} {}"#,
        outcome.completed
    );
    assert!(text.contains(&series), "missing `{series}` in:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mix_weights_are_honoured_on_the_wire() {
    let (addr, _stop) = demo_api().await;
    let metrics = EngineMetrics::new();
    let mix = vec![get(7, "/health"), get(2, "/api/users"), get(1, "/nope")];
    let outcome = run("mix", &phase(500.0, 2.0, 256, mix), addr, &metrics, None)
        .await
        .expect("phase");
    let text = metrics.encode().expect("encode");
    let count = |endpoint: &str, status: &str| -> f64 {
        let prefix = format!(
            r#"perfgate_http_requests_total{{phase="mix",method="GET",endpoint="{endpoint}",status="{status}"}} "#
        );
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let observed = [
        count("/health", "200"),
        count("/api/users", "200"),
        count("/nope", "404"),
    ];
    let total: f64 = observed.iter().sum();
    assert_eq!(total as u64, outcome.completed, "{text}");
    let by_endpoint: Vec<(&str, f64)> = outcome
        .completed_by_endpoint
        .iter()
        .map(|(e, n)| (e.as_str(), *n as f64))
        .collect();
    assert_eq!(
        by_endpoint,
        [
            ("/api/users", observed[1]),
            ("/health", observed[0]),
            ("/nope", observed[2])
        ]
    );
    assert!(total >= 950.0, "{outcome:#?}");
    assert_eq!(outcome.errors.status_4xx as f64, observed[2]);
    let statuses: Vec<(u16, f64)> = outcome.statuses.iter().map(|(c, n)| (*c, *n as f64)).collect();
    assert_eq!(statuses, [(200, observed[0] + observed[1]), (404, observed[2])]);
    // Chi-square with 2 degrees of freedom; 13.8 is the 0.1 % critical value.
    let chi2: f64 = observed
        .iter()
        .zip([0.7, 0.2, 0.1])
        .map(|(o, p)| (o - p * total).powi(2) / (p * total))
        .sum();
    assert!(chi2 < 13.8, "chi² = {chi2} for {observed:?}");
}

#[test]
fn picker_follows_weights_and_its_seed() {
    let picker = MixPicker::new([5, 3, 2]).expect("weights");
    let draw = |seed| {
        let mut rng = SmallRng::seed_from_u64(seed);
        (0..100_000)
            .map(|_| picker.pick(&mut rng))
            .collect::<Vec<_>>()
    };
    let draws = draw(42);
    assert_eq!(draws, draw(42), "a seed must reproduce the sequence");
    let mut counts = [0f64; 3];
    for d in &draws {
        counts[*d] += 1.0;
    }
    let chi2: f64 = counts
        .iter()
        .zip([0.5, 0.3, 0.2])
        .map(|(o, p)| (o - p * 1e5).powi(2) / (p * 1e5))
        .sum();
    assert!(chi2 < 13.8, "chi² = {chi2} for {counts:?}");
    assert!(MixPicker::new([]).is_err());
    assert!(MixPicker::new([1, 0]).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrivals_beyond_max_in_flight_are_dropped_not_queued() {
    let addr = black_hole().await;
    let metrics = EngineMetrics::new();
    let mut spec = phase(100.0, 1.0, 5, vec![get(1, "/")]);
    spec.timeout = Duration::from_millis(400);
    let outcome = run("stall", &spec, addr, &metrics, None)
        .await
        .expect("phase");
    assert_eq!(outcome.sent + outcome.dropped, 100, "{outcome:#?}");
    // Five slots, each freed by a 400 ms timeout: at most 5 × ⌈1 s / 400 ms⌉ = 15 sends.
    assert!(outcome.sent >= 5 && outcome.sent <= 15, "{outcome:#?}");
    assert_eq!(outcome.errors.timeout, outcome.sent, "{outcome:#?}");
    assert_eq!(outcome.completed, 0);
    // Timeouts stay in the latency figures, at no less than the timeout.
    assert!(outcome.latency.p50 >= 0.4, "{outcome:#?}");
    // The phase is bounded: 1 s of arrivals plus at most timeout + grace of drain.
    assert!(outcome.wall_duration < 2.5, "{outcome:#?}");
    let text = metrics.encode().expect("encode");
    let dropped = format!(
        r#"perfgate_http_dropped_total{{phase="stall"}} {}"#,
        outcome.dropped
    );
    assert!(text.contains(&dropped), "missing `{dropped}` in:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_measured_from_the_schedule() {
    let stall = Duration::from_millis(300);
    let addr = delayed_server(stall).await;
    let metrics = EngineMetrics::new();
    let outcome = run(
        "slow",
        &phase(20.0, 1.0, 100, vec![get(1, "/")]),
        addr,
        &metrics,
        None,
    )
    .await
    .expect("phase");
    assert_eq!(outcome.completed, 20, "{outcome:#?}");
    let latency = &outcome.latency;
    assert!(latency.p50 >= 0.3 && latency.max < 1.5, "{outcome:#?}");
    // A 300 ms stall at 20/s needs ~6 requests in flight: nothing may have been dropped.
    assert_eq!(outcome.dropped, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_sends_back_to_back() {
    let (addr, _stop) = demo_api().await;
    let metrics = EngineMetrics::new();
    let mut spec = phase(f64::INFINITY, 1.0, 4, vec![get(1, "/health")]);
    // Shorter than the phase: the drain must not give up on workers that are still sending.
    spec.timeout = Duration::from_millis(300);
    let outcome = run("max", &spec, addr, &metrics, None)
        .await
        .expect("phase");
    assert_eq!(outcome.errors.total(), 0, "{outcome:#?}");
    assert!(outcome.wall_duration >= 1.0, "{outcome:#?}");
    assert_eq!(
        (outcome.requested_rate, outcome.dispatch_lag.clone()),
        (None, None)
    );
    assert_eq!(outcome.dropped, 0);
    assert!(outcome.completed >= 100, "{outcome:#?}");
    assert_eq!(outcome.completed, outcome.sent, "{outcome:#?}");
    let json = serde_json::to_value(&outcome).expect("serialise");
    assert_eq!(json["status_classes"]["2xx"], outcome.completed);
}

#[tokio::test]
async fn refuses_non_loopback_targets() {
    let metrics = EngineMetrics::new();
    let spec = phase(10.0, 1.0, 4, vec![get(1, "/")]);
    for target in ["10.0.0.1:80", "192.168.1.2:8080", "[2001:db8::1]:80"] {
        let target: SocketAddr = target.parse().expect("addr");
        let error = run("p", &spec, target, &metrics, None)
            .await
            .expect_err("refused");
        assert!(matches!(error, HttpError::NonLoopbackTarget(t) if t == target));
        assert!(
            error.to_string().contains("only loopback targets"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    // Bind then drop: the port is (very likely) closed for the phase's short life.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let metrics = EngineMetrics::new();
    let outcome = run(
        "down",
        &phase(50.0, 0.2, 8, vec![get(1, "/")]),
        addr,
        &metrics,
        None,
    )
    .await
    .expect("phase");
    assert_eq!(outcome.errors.connect, outcome.sent, "{outcome:#?}");
    assert_eq!(outcome.sent + outcome.dropped, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_closed_by_the_server_are_replaced() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    // `Connection: close` on every response: no connection can ever be reused.
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { ([(axum::http::header::CONNECTION, "close")], "bye") }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let metrics = EngineMetrics::new();
    for (name, rate) in [("open", 100.0), ("closed", f64::INFINITY)] {
        let spec = phase(rate, 0.5, 4, vec![get(1, "/")]);
        let outcome = run(name, &spec, addr, &metrics, None).await.expect("phase");
        assert_eq!(outcome.errors.total(), 0, "{outcome:#?}");
        assert!(outcome.completed >= 40, "{outcome:#?}");
    }
}

#[tokio::test]
async fn a_phase_lasts_its_duration_even_without_arrivals() {
    let (addr, _stop) = demo_api().await;
    let metrics = EngineMetrics::new();
    let outcome = run(
        "idle",
        &phase(0.0, 0.3, 4, vec![get(1, "/health")]),
        addr,
        &metrics,
        None,
    )
    .await
    .expect("phase");
    assert_eq!(
        (outcome.sent, outcome.completed, outcome.achieved_rate),
        (0, 0, 0.0)
    );
    assert!(outcome.wall_duration >= 0.3, "{outcome:#?}");
}

//! Loopback tests of the demo API's endpoints, status codes and metric families.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{DemoApiConfig, ITERATIONS_PER_UNIT, serve};

struct Running {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let joined = tokio::time::timeout(std::time::Duration::from_secs(10), self.task).await;
        assert!(
            matches!(joined, Ok(Ok(Ok(())))),
            "server did not stop cleanly: {joined:?}"
        );
    }
}

async fn start(latency_factor: f64, error_factor: f64) -> Running {
    start_with_cpu(latency_factor, error_factor, 1.0).await
}

async fn start_with_cpu(latency_factor: f64, error_factor: f64, cpu_factor: f64) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let config = DemoApiConfig {
        listen: addr,
        seed: 3,
        latency_factor,
        error_factor,
        cpu_factor,
        otlp: None,
    };
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve(listener, &config, async move {
            let _ = rx.await;
        })
        .await
    });
    Running {
        base: format!("http://{addr}"),
        stop: Some(tx),
        task,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test]
async fn endpoints_answer_with_documented_statuses() {
    let api = start(0.0, 0.0).await;
    let http = client();
    let get = |path: &str| http.get(format!("{}{path}", api.base)).send();
    assert_eq!(get("/health").await.expect("health").status(), 200);
    assert_eq!(get("/api/users").await.expect("users").status(), 200);
    assert_eq!(get("/api/slow").await.expect("slow").status(), 200);
    assert_eq!(get("/nope").await.expect("404").status(), 404);

    let post = |body: &'static str| {
        http.post(format!("{}/api/orders", api.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let created = post(r#"{"item":"book","qty":2}"#).await.expect("order");
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.expect("order json");
    assert_eq!(created["value"], 25.0);
    assert!(created["id"].as_u64().is_some(), "{created}");
    for invalid in [
        r#"{"item":"","qty":1}"#,
        r#"{"item":"book","qty":0}"#,
        "not json",
        "{}",
    ] {
        assert_eq!(
            post(invalid).await.expect("order").status(),
            400,
            "{invalid}"
        );
    }
    api.stop().await;
}

#[tokio::test]
async fn error_factor_injects_server_errors() {
    // A factor of 100 turns the 5 % and 10 % base rates into certainties.
    let api = start(0.0, 100.0).await;
    let http = client();
    let users = http
        .get(format!("{}/api/users", api.base))
        .send()
        .await
        .expect("users");
    assert_eq!(users.status(), 500);
    let order = http
        .post(format!("{}/api/orders", api.base))
        .body(r#"{"item":"pen","qty":1}"#)
        .send()
        .await
        .expect("order");
    assert_eq!(order.status(), 500);
    // Health never fails, whatever the factor.
    let health = http
        .get(format!("{}/health", api.base))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    api.stop().await;
}

#[tokio::test]
async fn metrics_expose_every_family() {
    let api = start(0.0, 0.0).await;
    let http = client();
    http.get(format!("{}/api/users", api.base))
        .send()
        .await
        .expect("users");
    http.post(format!("{}/api/orders", api.base))
        .body(r#"{"item":"laptop","qty":1}"#)
        .send()
        .await
        .expect("order");
    let response = http
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    for needle in [
        r#"http_requests_total{method="GET",endpoint="/api/users",status="200"} 1"#,
        r#"http_request_duration_seconds_bucket{le="10.0",method="POST",endpoint="/api/orders"} 1"#,
        "# TYPE http_requests_in_flight gauge",
        r#"orders_total{status="created"} 1"#,
        "orders_value_total 999.0",
        r#"cache_hits_total{result="hit"}"#,
        r#"cache_hits_total{result="miss"}"#,
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    api.stop().await;
}

/// The value of the unlabelled series `name` in a `/metrics` answer.
async fn metric(http: &reqwest::Client, api: &Running, name: &str) -> f64 {
    let text = http
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let prefix = format!("{name} ");
    let line = text.lines().find(|l| l.starts_with(&prefix));
    let value = line.and_then(|l| l[prefix.len()..].trim().parse().ok());
    value.unwrap_or_else(|| panic!("no `{name}` in:\n{text}"))
}

async fn work(http: &reqwest::Client, api: &Running, query: &str) -> (u16, serde_json::Value) {
    let response = http
        .get(format!("{}/api/work{query}", api.base))
        .send()
        .await
        .expect("work");
    let status = response.status().as_u16();
    (status, response.json().await.expect("work json"))
}

#[tokio::test]
async fn work_burns_the_documented_iterations_and_counts_them() {
    let api = start(0.0, 0.0).await;
    let http = client();
    assert_eq!(metric(&http, &api, "work_iterations_total").await, 0.0);
    let (status, body) = work(&http, &api, "?units=3").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["units"], 3);
    assert_eq!(body["iterations"], 3 * ITERATIONS_PER_UNIT);
    assert_eq!(body["checksum"].as_str().map(str::len), Some(16), "{body}");
    let (_, default) = work(&http, &api, "").await;
    assert_eq!(default["iterations"], ITERATIONS_PER_UNIT, "{default}");
    let counted = metric(&http, &api, "work_iterations_total").await;
    assert_eq!(counted, (4 * ITERATIONS_PER_UNIT) as f64);
    let count = r#"http_request_duration_seconds_count{method="GET",endpoint="/api/work"}"#;
    assert_eq!(metric(&http, &api, count).await, 2.0);
    api.stop().await;
}

#[tokio::test]
async fn bad_units_are_a_400_that_does_no_work() {
    let api = start(0.0, 0.0).await;
    let http = client();
    for query in ["?units=0", "?units=1001", "?units=two"] {
        let (status, body) = work(&http, &api, query).await;
        assert_eq!(status, 400, "{query}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("`units` must be an integer from 1 to 1000"),
            "{query}: {body}"
        );
    }
    assert_eq!(metric(&http, &api, "work_iterations_total").await, 0.0);
    let bad = r#"http_requests_total{method="GET",endpoint="/api/work",status="400"}"#;
    assert_eq!(metric(&http, &api, bad).await, 3.0);
    api.stop().await;
}

#[tokio::test]
async fn cpu_factor_multiplies_the_work() {
    let api = start_with_cpu(0.0, 0.0, 2.0).await;
    let http = client();
    let (status, body) = work(&http, &api, "?units=2").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["iterations"], 4 * ITERATIONS_PER_UNIT);
    let counted = metric(&http, &api, "work_iterations_total").await;
    assert_eq!(counted, (4 * ITERATIONS_PER_UNIT) as f64);
    api.stop().await;
}

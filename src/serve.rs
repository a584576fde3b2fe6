//! What perfgate's own HTTP servers share (the built-in services and the engines' `/metrics`):
//! a listen socket with a large backlog, running until SIGTERM or Ctrl-C with a bounded grace,
//! the `/metrics` answer and the latency histogram buckets. A ground-floor module: it imports nothing from the crate.

use std::net::SocketAddr;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Listen backlog of perfgate's own servers: load tests open many connections at once.
const LISTEN_BACKLOG: u32 = 4096;

/// Latency buckets, client side and in the built-ins: 100 µs (loopback floor) to 10 s.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Binds a server socket for a built-in service with a large listen backlog (must run inside a
/// tokio runtime).
pub(crate) fn bind_listener(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// A future that resolves when a built-in service should stop.
pub type StopSignal = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>;

/// Runs a built-in service's server until SIGTERM or Ctrl-C, then lets it stop gracefully for
/// at most `grace`. `serve` gets the stop signal to hand to its server.
pub async fn serve_until_signalled<F, Fut>(
    serve: F,
    grace: std::time::Duration,
) -> std::io::Result<()>
where
    F: FnOnce(StopSignal) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<()>>,
{
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = serve(Box::pin(async move {
        let _ = stop_rx.await;
    }));
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stopper = async move {
        tokio::select! {
            _ = sigterm.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let _ = stop_tx.send(());
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result,
        () = stopper => Ok(()),
    }
}

/// A `/metrics` answer: an encoded registry in the OpenMetrics text format, or a 500.
pub(crate) fn openmetrics_response(encoded: Result<String, std::fmt::Error>) -> Response {
    match encoded {
        Ok(text) => {
            let mut response = text.into_response();
            let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed").into_response(),
    }
}

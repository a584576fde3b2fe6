//! Readiness checks, polled every 100 ms under a deadline; never a fixed sleep.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::child::ChildProcess;
use super::error::{StackError, indent_tail};

const POLL: Duration = Duration::from_millis(100);
const TAIL: usize = 30;

/// What "ready" means for one service, with concrete addresses.
#[derive(Debug, Clone)]
pub enum Readiness {
    /// GET answers 2xx.
    Http { addr: SocketAddr, path: String },
    /// The port accepts connections.
    Tcp(SocketAddr),
    /// A line of output contains this text.
    Log(String),
    /// Ready as soon as it runs.
    Started,
}

impl std::fmt::Display for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Readiness::Http { addr, path } => write!(f, "GET http://{addr}{path} to answer 2xx"),
            Readiness::Tcp(addr) => write!(f, "{addr} to accept connections"),
            Readiness::Log(text) => write!(f, "a log line containing {text:?}"),
            Readiness::Started => write!(f, "the process to start"),
        }
    }
}

/// Polls `check` until it passes, the child exits, or `timeout` elapses.
pub async fn wait_ready(
    service: &str,
    child: &mut ChildProcess,
    check: &Readiness,
    timeout: Duration,
) -> Result<(), StackError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .no_proxy()
        .build()
        .map_err(|e| StackError::Spawn {
            service: service.into(),
            source: std::io::Error::other(e),
        })?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.exited() {
            return Err(StackError::Died {
                service: service.into(),
                status: status.to_string(),
                log: child.log_path().to_owned(),
                tail: indent_tail(&child.tail(TAIL)),
            });
        }
        if probe(&client, child, check).await {
            tracing::debug!(%service, elapsed = ?started.elapsed(), "ready");
            return Ok(());
        }
        if started.elapsed() >= timeout {
            return Err(StackError::NotReady {
                service: service.into(),
                waited: timeout,
                check: check.to_string(),
                log: child.log_path().to_owned(),
                tail: indent_tail(&child.tail(TAIL)),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn probe(client: &reqwest::Client, child: &ChildProcess, check: &Readiness) -> bool {
    match check {
        Readiness::Http { addr, path } => client
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success()),
        Readiness::Tcp(addr) => accepts_and_holds(*addr).await,
        Readiness::Log(text) => child.has_printed(text),
        Readiness::Started => true,
    }
}

/// A connection is accepted and not closed at once. A published Docker port accepts every
/// connection and closes it when nothing listens inside the container, so `connect` alone
/// would call a container ready before its server is.
async fn accepts_and_holds(addr: SocketAddr) -> bool {
    use tokio::io::AsyncReadExt;
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(50), stream.read(&mut byte)).await {
        Err(_) => true,      // still open: something is serving
        Ok(Ok(n)) => n > 0,  // it spoke first: serving
        Ok(Err(_)) => false, // reset
    }
}

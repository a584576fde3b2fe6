//! `RemoteWriter`: POSTs encoded batches to a remote-write endpoint with the 1.0 headers, and
//! the retry policy of the remote-write spec: 5xx and 429 are retried with exponential back-off
//! (a `Retry-After`, in seconds or as an HTTP-date, is honoured), any other 4xx is final. A
//! receiver that refuses connections (refused, reset, unreachable: no answer at all) is retried
//! until it has refused every connection for `give_up_after`, then given up. Every outcome says
//! how many attempts it took, how many the receiver answered and, for a dropped batch, why.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::encode::EncodedBatch;

/// How failed requests are retried. Every batch is bounded in attempts and in time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per batch, the first included (≥ 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled every retry up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; longer ones are cut to this.
    pub max_retry_after: Duration,
    /// Total time one batch may take, waits included; past it the batch is dropped.
    pub budget: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// How long the receiver may refuse every connection (refused, reset, unreachable), counted
    /// from the first refusal after its last answer, before batches are dropped as
    /// [`DropReason::ReceiverDown`]. Refused connections are retried until then, whatever
    /// `max_attempts` and `budget` say; any HTTP answer, a 5xx included, restarts the count.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            budget: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            give_up_after: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid remote-write url `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(
        "refusing to write to `{0}`: only loopback targets are allowed \
         (hint: use 127.0.0.1, ::1 or localhost)"
    )]
    NonLoopback(String),
    #[error("invalid header `{name}`: {reason}")]
    BadHeader { name: String, reason: String },
    #[error("cannot build the http client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Why a batch was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// A 4xx other than 429: the receiver refused the data (out of order, out of bounds, ...).
    Rejected,
    /// 5xx until attempts or time ran out.
    ServerError,
    /// 429 until attempts or time ran out.
    Throttled,
    /// No answer in time (a request timeout) until attempts or time ran out.
    Transport,
    /// The receiver refused every connection for `give_up_after`.
    ReceiverDown,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Rejected => "rejected",
            DropReason::ServerError => "server_error",
            DropReason::Throttled => "throttled",
            DropReason::Transport => "transport",
            DropReason::ReceiverDown => "receiver_down",
        }
    }
}

/// What happened to one batch. `answered` counts the attempts the receiver answered with an
/// HTTP status (the accepting one included): the request bodies that reached a receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Accepted {
        status: u16,
        attempts: u32,
        answered: u32,
    },
    Dropped {
        reason: DropReason,
        /// The last HTTP status, if any answer came.
        status: Option<u16>,
        attempts: u32,
        answered: u32,
        /// The receiver's last answer (first 300 characters) or the transport error.
        message: String,
    },
}

impl SendOutcome {
    pub fn attempts(&self) -> u32 {
        match self {
            SendOutcome::Accepted { attempts, .. } | SendOutcome::Dropped { attempts, .. } => {
                *attempts
            }
        }
    }

    /// Attempts the receiver answered (accepted or not).
    pub fn answered(&self) -> u32 {
        match self {
            SendOutcome::Accepted { answered, .. } | SendOutcome::Dropped { answered, .. } => {
                *answered
            }
        }
    }
}

/// Why one attempt failed.
struct Failure {
    reason: DropReason,
    status: Option<u16>,
    message: String,
    retry_after: Option<Duration>,
    /// No connection, or it broke before an answer (refused, reset, unreachable); a timeout
    /// is not one.
    refused: bool,
}

/// Since when the receiver has refused every connection; shared by a writer's clones.
#[derive(Debug, Default)]
struct Refusals(Mutex<Option<Instant>>);

impl Refusals {
    fn since(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn answered(&self) {
        *self.since() = None;
    }

    /// Records a refusal; how long the receiver has been refusing.
    fn refused(&self) -> Duration {
        self.since().get_or_insert_with(Instant::now).elapsed()
    }

    fn refusing_for(&self) -> Option<Duration> {
        self.since().map(|s| s.elapsed())
    }
}

/// A remote-write 1.0 client for one endpoint. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct RemoteWriter {
    url: String,
    http: reqwest::Client,
    policy: RetryPolicy,
    refusals: Arc<Refusals>,
}

impl RemoteWriter {
    /// A writer for `url` (`http://127.0.0.1:9090/api/v1/write`), sending `headers` (tenant ids,
    /// `Authorization`) with every request. Only loopback hosts are accepted.
    pub fn new(
        url: &str,
        headers: &[(String, String)],
        policy: RetryPolicy,
    ) -> Result<Self, WriteError> {
        check_loopback(url)?;
        let mut map = HeaderMap::new();
        map.insert(
            "content-type",
            HeaderValue::from_static("application/x-protobuf"),
        );
        map.insert("content-encoding", HeaderValue::from_static("snappy"));
        map.insert(
            "x-prometheus-remote-write-version",
            HeaderValue::from_static("0.1.0"),
        );
        map.insert(
            "user-agent",
            HeaderValue::from_static(concat!("perfgate/", env!("CARGO_PKG_VERSION"))),
        );
        for (name, value) in headers {
            let bad = |reason: String| WriteError::BadHeader {
                name: name.clone(),
                reason,
            };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(e.to_string()))?;
            let mut v = HeaderValue::from_str(value).map_err(|e| bad(e.to_string()))?;
            // Tenant ids, keys, tokens: never in a `Debug`.
            v.set_sensitive(true);
            map.insert(n, v);
        }
        let http = reqwest::Client::builder()
            .default_headers(map)
            .timeout(policy.timeout)
            .no_proxy()
            .build()
            .map_err(WriteError::Client)?;
        Ok(Self {
            url: url.to_owned(),
            http,
            policy: RetryPolicy {
                max_attempts: policy.max_attempts.max(1),
                ..policy
            },
            refusals: Arc::default(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// How long the receiver has refused every connection, if it refused the last one.
    pub fn refusing_for(&self) -> Option<Duration> {
        self.refusals.refusing_for()
    }

    /// Sends one batch, retrying as the policy says. Never fails: a batch that could not be
    /// delivered comes back as [`SendOutcome::Dropped`] with its reason.
    pub async fn send(&self, batch: &EncodedBatch) -> SendOutcome {
        let started = Instant::now();
        let mut backoff = self.policy.initial_backoff;
        let (mut attempts, mut answered) = (0, 0);
        loop {
            attempts += 1;
            let failure = match self.attempt(batch).await {
                Ok(status) => {
                    return SendOutcome::Accepted {
                        status,
                        attempts,
                        answered: answered + 1,
                    };
                }
                Err(failure) => failure,
            };
            answered += u32::from(failure.status.is_some());
            let Some(wait) = self.retry_wait(&failure, attempts, started, backoff) else {
                return self.dropped(failure, attempts, answered);
            };
            tracing::debug!(url = %self.url, status = ?failure.status, ?wait, attempts, "remote write retry");
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(self.policy.max_backoff);
        }
    }

    /// One POST: the accepting status, or why it failed.
    async fn attempt(&self, batch: &EncodedBatch) -> Result<u16, Failure> {
        let answer = self
            .http
            .post(&self.url)
            .body(batch.body.clone())
            .send()
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(e) => {
                let refused = !e.is_timeout() && (e.is_connect() || e.is_request());
                return Err(Failure {
                    reason: DropReason::Transport,
                    status: None,
                    message: error_chain(&e),
                    retry_after: None,
                    refused,
                });
            }
        };
        self.refusals.answered();
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(status);
        }
        let retry_after = retry_after(response.headers());
        let text = response.text().await.unwrap_or_default();
        let reason = match status {
            429 => DropReason::Throttled,
            500..=599 => DropReason::ServerError,
            _ => DropReason::Rejected,
        };
        Err(Failure {
            reason,
            status: Some(status),
            message: text.trim().chars().take(300).collect(),
            retry_after,
            refused: false,
        })
    }

    /// How long to wait before retrying after `failure`; `None` when the batch is dropped. A
    /// refused connection is retried until the receiver has refused for `give_up_after` (the
    /// last wait ends right then, for one more try); anything else within the attempts and
    /// the budget.
    fn retry_wait(
        &self,
        failure: &Failure,
        attempts: u32,
        started: Instant,
        backoff: Duration,
    ) -> Option<Duration> {
        if failure.refused {
            let refusing = self.refusals.refused();
            let left = self.policy.give_up_after.checked_sub(refusing)?;
            return (!left.is_zero()).then(|| backoff.min(left));
        }
        if failure.reason == DropReason::Rejected || attempts >= self.policy.max_attempts {
            return None;
        }
        let wait = match failure.retry_after {
            Some(after) => after.min(self.policy.max_retry_after).max(backoff),
            None => backoff,
        };
        (started.elapsed() + wait <= self.policy.budget).then_some(wait)
    }

    /// The outcome of a batch given up after `failure`.
    fn dropped(&self, failure: Failure, attempts: u32, answered: u32) -> SendOutcome {
        let (reason, message) = if failure.refused {
            let refusing = self.refusals.refusing_for().unwrap_or_default();
            let last = failure.message.rsplit(": ").next().unwrap_or_default();
            let message = format!(
                "the receiver at {} refused every connection for {:.1} s; gave up (last error: {last})",
                self.url,
                refusing.as_secs_f64()
            );
            (DropReason::ReceiverDown, message)
        } else {
            (failure.reason, failure.message)
        };
        SendOutcome::Dropped {
            reason,
            status: failure.status,
            attempts,
            answered,
            message,
        }
    }
}

/// `Retry-After` as delta-seconds or as an HTTP-date (RFC 9110); a date in the past means now.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Accepts `http://` URLs whose host is a loopback address or `localhost`.
pub(crate) fn check_loopback(url: &str) -> Result<(), WriteError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| WriteError::BadUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(WriteError::BadUrl {
            url: url.to_owned(),
            reason: format!("scheme `{}` (hint: use http://)", parsed.scheme()),
        });
    }
    let host = parsed.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if loopback {
        Ok(())
    } else {
        Err(WriteError::NonLoopback(url.to_owned()))
    }
}

#[cfg(test)]
mod retry_after_tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, value.parse().unwrap());
        h
    }

    #[test]
    fn reads_seconds_and_http_dates() {
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        let soon = std::time::SystemTime::now() + Duration::from_secs(30);
        let wait = retry_after(&headers(&httpdate::fmt_http_date(soon))).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon")), None);
    }
}

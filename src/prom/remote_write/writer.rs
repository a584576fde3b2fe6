//! `RemoteWriter`: POSTs encoded batches to a remote-write endpoint with the 1.0 headers, and
//! the retry policy of the remote-write spec: 5xx and 429 are retried with exponential back-off
//! (a `Retry-After`, in seconds or as an HTTP-date, is honoured), any other 4xx is final. Every outcome says how many
//! attempts it took and, for a dropped batch, why.

use std::net::IpAddr;
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
    /// No answer (connect error, timeout) until attempts or time ran out.
    Transport,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Rejected => "rejected",
            DropReason::ServerError => "server_error",
            DropReason::Throttled => "throttled",
            DropReason::Transport => "transport",
        }
    }
}

/// What happened to one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Accepted {
        status: u16,
        attempts: u32,
    },
    Dropped {
        reason: DropReason,
        /// The last HTTP status, if any answer came.
        status: Option<u16>,
        attempts: u32,
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
}

/// A remote-write 1.0 client for one endpoint. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct RemoteWriter {
    url: String,
    http: reqwest::Client,
    policy: RetryPolicy,
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
            v.set_sensitive(n == reqwest::header::AUTHORIZATION);
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
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one batch, retrying as the policy says. Never fails: a batch that could not be
    /// delivered comes back as [`SendOutcome::Dropped`] with its reason.
    pub async fn send(&self, batch: &EncodedBatch) -> SendOutcome {
        let started = Instant::now();
        let mut backoff = self.policy.initial_backoff;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let answer = self
                .http
                .post(&self.url)
                .body(batch.body.clone())
                .send()
                .await;
            let (reason, status, message, retry_after) = match answer {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if response.status().is_success() {
                        return SendOutcome::Accepted { status, attempts };
                    }
                    let retry_after = retry_after(response.headers());
                    let text = response.text().await.unwrap_or_default();
                    let message: String = text.trim().chars().take(300).collect();
                    let reason = match status {
                        429 => DropReason::Throttled,
                        500..=599 => DropReason::ServerError,
                        _ => DropReason::Rejected,
                    };
                    (reason, Some(status), message, retry_after)
                }
                Err(e) => (DropReason::Transport, None, error_chain(&e), None),
            };
            let dropped = SendOutcome::Dropped {
                reason,
                status,
                attempts,
                message,
            };
            if reason == DropReason::Rejected || attempts >= self.policy.max_attempts {
                return dropped;
            }
            let wait = match retry_after {
                Some(after) => after.min(self.policy.max_retry_after).max(backoff),
                None => backoff,
            };
            if started.elapsed() + wait > self.policy.budget {
                return dropped;
            }
            tracing::debug!(url = %self.url, ?status, ?wait, attempts, "remote write retry");
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(self.policy.max_backoff);
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

//! A small Prometheus HTTP API client (reqwest): the assertions, readiness waits and
//! `perfgate validate` all go through it.

use std::net::SocketAddr;
use std::time::Duration;

use super::response::{Envelope, Value};

#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("prometheus at {url} did not answer: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// Prometheus understood the request and refused it (bad PromQL, timeout, ...).
    #[error("prometheus rejected the query ({error_type}): {message}")]
    Rejected { error_type: String, message: String },
    #[error("prometheus answered HTTP {status} with an unreadable body: {body}")]
    BadResponse { status: u16, body: String },
}

#[derive(Debug, Clone)]
pub struct PromClient {
    base: String,
    http: reqwest::Client,
}

impl PromClient {
    pub fn new(addr: SocketAddr) -> Self {
        Self::from_url(&format!("http://{addr}"))
    }

    pub fn from_url(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .unwrap_or_default();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// An instant query at unix time `at` (seconds), or at Prometheus's "now" when `None`.
    pub async fn query(&self, expr: &str, at: Option<f64>) -> Result<Value, PromError> {
        let mut params = vec![("query", expr.to_owned())];
        if let Some(t) = at {
            params.push(("time", format!("{t:.3}")));
        }
        self.get("/api/v1/query", &params).await
    }

    /// A range query over [start, end] (unix seconds) at `step`.
    pub async fn query_range(
        &self,
        expr: &str,
        start: f64,
        end: f64,
        step: Duration,
    ) -> Result<Value, PromError> {
        let params = [
            ("query", expr.to_owned()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{:.3}", step.as_secs_f64())),
        ];
        self.get("/api/v1/query_range", &params).await
    }

    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Value, PromError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(&url)
            .query(params)
            .send()
            .await
            .map_err(|source| PromError::Unreachable {
                url: url.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|source| PromError::Unreachable { url, source })?;
        let envelope: Envelope =
            serde_json::from_str(&body).map_err(|_| PromError::BadResponse {
                status,
                body: body.chars().take(300).collect(),
            })?;
        if envelope.status != "success" {
            return Err(PromError::Rejected {
                error_type: envelope.error_type.unwrap_or_default(),
                message: envelope.error.unwrap_or_default(),
            });
        }
        let data = envelope.data.ok_or_else(|| PromError::BadResponse {
            status,
            body: "success without data".into(),
        })?;
        data.decode()
            .map_err(|body| PromError::BadResponse { status, body })
    }
}

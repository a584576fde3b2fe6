//! A small Prometheus HTTP API client (reqwest): the assertions, readiness waits and
//! `perfgate validate` all go through it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::response::{Data, Envelope, FamilyMetadata, Value};

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
    Rejected {
        /// HTTP status of the answer (400 bad data, 422 execution error, 503 timeout, ...).
        status: u16,
        /// Prometheus' `errorType`: `bad_data`, `execution`, `timeout`, `canceled`, ...
        error_type: String,
        message: String,
    },
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

    /// Values of label `name` (e.g. `__name__`: the metric names) over series matching any of
    /// `matchers` (all series when empty), within [start, end] when given.
    pub async fn label_values(
        &self,
        name: &str,
        matchers: &[String],
        range: Option<(f64, f64)>,
    ) -> Result<Vec<String>, PromError> {
        let path = format!("/api/v1/label/{name}/values");
        self.get_data(&path, &selector_params(matchers, range))
            .await
    }

    /// `/api/v1/metadata`: metric family → its TYPE, HELP and UNIT (one entry per family, or
    /// only `metric`'s when given).
    pub async fn metadata(
        &self,
        metric: Option<&str>,
    ) -> Result<BTreeMap<String, FamilyMetadata>, PromError> {
        let mut params = vec![("limit_per_metric", "1".to_owned())];
        if let Some(m) = metric {
            params.push(("metric", m.to_owned()));
        }
        let raw: BTreeMap<String, Vec<FamilyMetadata>> =
            self.get_data("/api/v1/metadata", &params).await?;
        Ok(raw
            .into_iter()
            .filter_map(|(name, entries)| Some((name, entries.into_iter().next()?)))
            .collect())
    }

    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Value, PromError> {
        let (status, data): (u16, Data) = self.get_raw(path, params).await?;
        data.decode()
            .map_err(|body| PromError::BadResponse { status, body })
    }

    async fn get_data<D: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<D, PromError> {
        self.get_raw(path, params).await.map(|(_, data)| data)
    }

    async fn get_raw<D: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, D), PromError> {
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
        let envelope: Envelope<D> =
            serde_json::from_str(&body).map_err(|_| PromError::BadResponse {
                status,
                body: body.chars().take(300).collect(),
            })?;
        if envelope.status != "success" {
            return Err(PromError::Rejected {
                status,
                error_type: envelope.error_type.unwrap_or_default(),
                message: envelope.error.unwrap_or_default(),
            });
        }
        let data = envelope.data.ok_or_else(|| PromError::BadResponse {
            status,
            body: "success without data".into(),
        })?;
        Ok((status, data))
    }
}

fn selector_params(matchers: &[String], range: Option<(f64, f64)>) -> Vec<(&'static str, String)> {
    let mut params: Vec<(&str, String)> = matchers.iter().map(|m| ("match[]", m.clone())).collect();
    if let Some((start, end)) = range {
        params.push(("start", format!("{start:.3}")));
        params.push(("end", format!("{end:.3}")));
    }
    params
}

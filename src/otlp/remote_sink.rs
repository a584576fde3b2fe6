//! The remote-write sink: translated series written to Prometheus (or any remote-write
//! receiver) through the shared `prom::remote_write` client, one request per OTLP export.
//! This is what `export: remote-write` will use once the spec and backend expose it. A
//! receiver refusing connections holds an export up for the writer's `give_up_after` at most
//! (the refusal count spans exports), after which each export fails at its first refusal,
//! until the receiver answers again.

use std::sync::Mutex;

use super::sink::{SeriesSink, SinkError, SinkFuture};
use super::translate::TranslatedSeries;
use crate::prom::remote_write::{
    BatchEncoder, DropReason, Label, RemoteWriter, Sample, SendOutcome, TimeSeries, WriteRequest,
    canonical_labels,
};

/// Writes every batch it is given as one remote-write request.
pub struct RemoteWriteSink {
    writer: RemoteWriter,
    encoder: Mutex<BatchEncoder>,
}

impl RemoteWriteSink {
    pub fn new(writer: RemoteWriter) -> Self {
        Self {
            writer,
            encoder: Mutex::new(BatchEncoder::new()),
        }
    }
}

/// The request for `series`: labels canonical (`canonical_labels`: an empty value dropped,
/// byte order), samples in time order.
pub fn write_request(series: &[TranslatedSeries]) -> WriteRequest {
    let timeseries = series
        .iter()
        .filter(|s| !s.samples.is_empty())
        .map(|s| {
            let mut labels: Vec<Label> = s.labels.iter().map(|(n, v)| Label::new(n, v)).collect();
            canonical_labels(&mut labels);
            let mut samples: Vec<Sample> = s
                .samples
                .iter()
                .map(|&(timestamp, value)| Sample { value, timestamp })
                .collect();
            samples.sort_by_key(|p| p.timestamp);
            TimeSeries { labels, samples }
        })
        .collect();
    WriteRequest {
        timeseries,
        metadata: Vec::new(),
    }
}

impl SeriesSink for RemoteWriteSink {
    fn write<'a>(&'a self, series: &'a [TranslatedSeries]) -> SinkFuture<'a> {
        Box::pin(async move {
            let failed = |message: String| SinkError::Write {
                series: series.len(),
                message,
            };
            let request = write_request(series);
            if request.timeseries.is_empty() {
                return Ok(());
            }
            let batch = self
                .encoder
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .encode(&request)
                .map_err(|e| failed(e.to_string()))?;
            match self.writer.send(&batch).await {
                SendOutcome::Accepted { .. } => Ok(()),
                SendOutcome::Dropped {
                    reason: DropReason::ReceiverDown,
                    message,
                    ..
                } => Err(failed(message)),
                SendOutcome::Dropped {
                    reason, message, ..
                } => Err(failed(format!(
                    "{} at {}: {message}",
                    reason.as_str(),
                    self.writer.url()
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prom::remote_write::{RetryPolicy, decode_body};
    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::post;
    use std::sync::Arc;

    type Received = Arc<Mutex<Vec<WriteRequest>>>;

    async fn receive(State(got): State<Received>, body: Bytes) -> StatusCode {
        match decode_body(&body) {
            Ok(request) => {
                got.lock().unwrap().push(request);
                StatusCode::NO_CONTENT
            }
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn series(name: &str, job: &str, samples: &[(i64, f64)]) -> TranslatedSeries {
        TranslatedSeries {
            labels: vec![
                ("job".into(), job.into()),
                ("__name__".into(), name.into()),
                ("Zone".into(), "eu".into()),
                ("empty".into(), String::new()),
            ],
            samples: samples.to_vec(),
        }
    }

    #[tokio::test]
    async fn writes_translated_series_as_one_sorted_request() {
        let got = Received::default();
        let app = Router::new()
            .route("/api/v1/write", post(receive))
            .with_state(Arc::clone(&got));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let writer = RemoteWriter::new(&url, &[], RetryPolicy::default()).unwrap();
        let sink = RemoteWriteSink::new(writer);
        let batch = [
            series("http_requests_total", "api", &[(2_000, 5.0), (1_000, 3.0)]),
            series("empty", "api", &[]),
        ];
        sink.write(&batch).await.unwrap();
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1);
        let ts = &got[0].timeseries;
        assert_eq!(ts.len(), 1, "series without samples are not sent");
        assert_eq!(
            ts[0].labels,
            [
                Label::new("Zone", "eu"),
                Label::new("__name__", "http_requests_total"),
                Label::new("job", "api"),
            ],
            "byte order, the empty-valued label left out"
        );
        let times: Vec<i64> = ts[0].samples.iter().map(|s| s.timestamp).collect();
        assert_eq!(times, [1_000, 2_000]);
    }

    #[tokio::test]
    async fn a_refused_write_is_an_error_naming_the_reason() {
        let app = Router::new().route("/api/v1/write", post(|| async { StatusCode::BAD_REQUEST }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let sink =
            RemoteWriteSink::new(RemoteWriter::new(&url, &[], RetryPolicy::default()).unwrap());
        let err = sink
            .write(&[series("up", "api", &[(1_000, 1.0)])])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("rejected"), "{err}");
    }

    /// A receiver refusing connections holds the first export up for `give_up_after`, then
    /// every later export fails at its first refusal: bounded, and saying why.
    #[tokio::test]
    async fn a_receiver_refusing_connections_fails_exports_within_the_bound() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/v1/write", closed.local_addr().unwrap());
        drop(closed);
        let policy = RetryPolicy {
            give_up_after: std::time::Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        let sink = RemoteWriteSink::new(RemoteWriter::new(&url, &[], policy).unwrap());
        let batch = [series("up", "api", &[(1_000, 1.0)])];
        for bound_ms in [1_000, 200] {
            let started = std::time::Instant::now();
            let err = sink.write(&batch).await.unwrap_err().to_string();
            let took = started.elapsed();
            assert!(took.as_millis() < bound_ms, "{took:?}");
            assert!(err.contains("refused every connection"), "{err}");
        }
    }
}

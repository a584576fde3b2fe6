//! The origin's Prometheus metrics (`perfgate_origin_*`): requests, bytes and latency per object
//! type and status, injected faults, and the encoder's facts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::faults::{ERROR, Object, SEGMENT_404};
use crate::serve::LATENCY_BUCKETS;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectStatus {
    object: &'static str,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabel {
    object: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

pub(crate) struct OriginMetrics {
    registry: Registry,
    requests: Family<ObjectStatus, Counter>,
    bytes: Family<ObjectLabel, Counter>,
    durations: HistogramFamily<ObjectStatus>,
    faults: Family<KindLabel, Counter>,
    segments: Counter,
    media_sequence: Gauge,
    encoder_up: Gauge,
    /// The last `produced` count seen, so the counter only ever grows by the difference.
    produced_seen: AtomicU64,
}

impl OriginMetrics {
    /// `fault_status`: the status `error_rate` answers with, pre-created like 200 and 404.
    pub(crate) fn new(fault_status: u16) -> Self {
        let mut registry = Registry::with_prefix("perfgate_origin");
        let requests = Family::<ObjectStatus, Counter>::default();
        let bytes = Family::<ObjectLabel, Counter>::default();
        let durations: HistogramFamily<ObjectStatus> =
            Family::new_with_constructor(latency_histogram);
        let faults = Family::<KindLabel, Counter>::default();
        let segments = Counter::default();
        let media_sequence = Gauge::default();
        let encoder_up = Gauge::default();
        registry.register(
            "requests",
            "Requests answered, by object type (playlist, segment, other) and status",
            requests.clone(),
        );
        registry.register(
            "response_bytes",
            "Body bytes of answered objects, by object type",
            bytes.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from request to response head (injected delays included), by object type and status",
            durations.clone(),
        );
        registry.register(
            "faults",
            "Requests answered with an injected status, by kind (error, segment_404)",
            faults.clone(),
        );
        registry.register(
            "segments_produced",
            "Segments the encoder has finished since it started",
            segments.clone(),
        );
        registry.register(
            "media_sequence",
            "The playlist's #EXT-X-MEDIA-SEQUENCE",
            media_sequence.clone(),
        );
        registry.register(
            "encoder_up",
            "1 while the FFmpeg encoder runs",
            encoder_up.clone(),
        );
        // Series a gate asks about exist from the first scrape at 0, so `increase()` over a
        // phase counts their first occurrence too.
        for object in [Object::Playlist, Object::Segment] {
            let _ = bytes.get_or_create(&ObjectLabel {
                object: object.label(),
            });
            for status in [200, 404, fault_status] {
                let _ = requests.get_or_create(&ObjectStatus {
                    object: object.label(),
                    status: status.to_string(),
                });
            }
        }
        for kind in [ERROR, SEGMENT_404] {
            let _ = faults.get_or_create(&KindLabel { kind });
        }
        Self {
            registry,
            requests,
            bytes,
            durations,
            faults,
            segments,
            media_sequence,
            encoder_up,
            produced_seen: AtomicU64::new(0),
        }
    }

    pub(crate) fn request(&self, object: Object, status: u16, body: u64, elapsed: Duration) {
        let labels = ObjectStatus {
            object: object.label(),
            status: status.to_string(),
        };
        self.requests.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if body > 0 {
            self.bytes
                .get_or_create(&ObjectLabel {
                    object: object.label(),
                })
                .inc_by(body);
        }
    }

    pub(crate) fn fault(&self, kind: &'static str) {
        self.faults.get_or_create(&KindLabel { kind }).inc();
    }

    /// The playlist changed: `produced` segments so far, `media_sequence` its first.
    pub(crate) fn playlist(&self, produced: u64, media_sequence: u64) {
        let before = self.produced_seen.fetch_max(produced, Ordering::Relaxed);
        if produced > before {
            self.segments.inc_by(produced - before);
        }
        self.media_sequence
            .set(i64::try_from(media_sequence).unwrap_or(i64::MAX));
    }

    pub(crate) fn encoder_up(&self, up: bool) {
        self.encoder_up.set(i64::from(up));
    }

    /// The registry in the OpenMetrics text format.
    pub(crate) fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The registry with a series in every family (the text encoder leaves empty families out),
/// encoded: for the metrics reference's test.
#[cfg(test)]
pub(crate) fn exposition() -> String {
    let metrics = OriginMetrics::new(503);
    metrics.request(Object::Segment, 200, 1, Duration::from_millis(1));
    metrics.encode().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_pre_created_series() {
        let m = OriginMetrics::new(503);
        m.request(Object::Segment, 200, 1000, Duration::from_millis(3));
        m.request(Object::Playlist, 200, 250, Duration::from_micros(300));
        m.fault(SEGMENT_404);
        m.playlist(5, 0);
        m.playlist(7, 1);
        m.playlist(6, 1);
        m.encoder_up(true);
        let text = m.encode().unwrap();
        for needle in [
            r#"perfgate_origin_requests_total{object="segment",status="200"} 1"#,
            r#"perfgate_origin_requests_total{object="segment",status="404"} 0"#,
            r#"perfgate_origin_requests_total{object="playlist",status="503"} 0"#,
            r#"perfgate_origin_response_bytes_total{object="segment"} 1000"#,
            r#"perfgate_origin_request_duration_seconds_bucket{le="0.005",object="segment",status="200"} 1"#,
            r#"perfgate_origin_faults_total{kind="segment_404"} 1"#,
            r#"perfgate_origin_faults_total{kind="error"} 0"#,
            "perfgate_origin_segments_produced_total 7",
            "perfgate_origin_media_sequence 1",
            "perfgate_origin_encoder_up 1",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
        }
    }
}

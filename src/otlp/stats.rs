//! The adapter's own pipeline-health series (`perfgate_otlp_*`): what came in, what was refused
//! and why, and what reached the sink, in a prometheus-client registry. They are exposed at the
//! end of `/metrics`, after the translated series, so in the text format those use (0.0.4).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::sink::ScrapeStore;
use super::translate::{RejectReason, Translation};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    signal: &'static str,
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// The adapter's counters and gauges. Prometheus-client appends `_total` to counter names.
#[derive(Debug)]
pub(super) struct Stats {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// Metrics requests whose body could not be read (encoding, content type, gzip, protobuf).
    decode_errors: Counter,
    /// Data points in decoded requests, translated or not.
    received: Counter,
    points: Counter,
    samples: Counter,
    rejected: Family<ReasonLabel, Counter>,
    /// Samples the sink took (scrape store, or a remote write answered 2xx).
    written: Counter,
    /// Writes the sink failed (the OTLP sender got a 503), and the samples they carried.
    write_failures: Counter,
    samples_write_failed: Counter,
    series: Gauge,
    newest_sample: FloatGauge,
    last_receive: FloatGauge,
}

impl Default for Stats {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("perfgate_otlp");
        let requests = Family::default();
        registry.register(
            "requests",
            "OTLP export requests received, by signal and answer code",
            requests.clone(),
        );
        let mut counter = |name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let decode_errors = counter(
            "decode_errors",
            "OTLP metrics requests refused because their body could not be read",
        );
        let received = counter(
            "points_received",
            "OTLP data points in decoded requests, translated or rejected",
        );
        let points = counter("points_accepted", "OTLP data points translated");
        let samples = counter("samples", "Prometheus samples produced");
        let written = counter(
            "samples_written",
            "Samples the sink took (held for scraping, or remote-written)",
        );
        let write_failures = counter(
            "write_failures",
            "Writes the sink failed (answered 503 to the sender)",
        );
        let samples_write_failed =
            counter("samples_write_failed", "Samples carried by failed writes");
        let rejected = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "points_rejected",
            "OTLP data points not translated, by reason",
            rejected.clone(),
        );
        // Every reason is exposed from the start, so a rate over it is 0, not absent.
        for reason in [
            RejectReason::DeltaTemporality,
            RejectReason::ExponentialHistogram,
            RejectReason::Empty,
        ] {
            let _ = rejected.get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            });
        }
        let series = Gauge::default();
        registry.register("series", "Series held for scraping", series.clone());
        let newest_sample = FloatGauge::default();
        registry.register(
            "newest_sample_timestamp_seconds",
            "Timestamp of the newest sample held",
            newest_sample.clone(),
        );
        let last_receive = FloatGauge::default();
        registry.register(
            "last_receive_timestamp_seconds",
            "When the last metrics request was accepted",
            last_receive.clone(),
        );
        Self {
            registry,
            requests,
            decode_errors,
            received,
            points,
            samples,
            rejected,
            written,
            write_failures,
            samples_write_failed,
            series,
            newest_sample,
            last_receive,
        }
    }
}

impl Stats {
    /// A request to `signal`'s endpoint, answered `code`.
    pub(super) fn request(&self, signal: &'static str, code: u16) {
        self.requests
            .get_or_create(&RequestLabels { signal, code })
            .inc();
    }

    /// A metrics request whose body could not be read.
    pub(super) fn decode_error(&self) {
        self.decode_errors.inc();
    }

    /// What a decoded request held: points translated and rejected (by reason), samples made.
    pub(super) fn translated(&self, translation: &Translation) {
        let received = translation.points + translation.rejected_points();
        self.received.inc_by(received as u64);
        self.points.inc_by(translation.points as u64);
        self.samples.inc_by(translation.samples as u64);
        for (reason, (n, _)) in &translation.rejected {
            self.rejected
                .get_or_create(&ReasonLabel {
                    reason: reason.as_str(),
                })
                .inc_by(*n as u64);
        }
    }

    /// The sink took `samples` samples at `now_ms`.
    pub(super) fn written(&self, samples: usize, now_ms: u64) {
        self.written.inc_by(samples as u64);
        self.last_receive.set(now_ms as f64 / 1000.0);
    }

    /// The sink failed a write of `samples` samples.
    pub(super) fn write_failed(&self, samples: usize) {
        self.write_failures.inc();
        self.samples_write_failed.inc_by(samples as u64);
    }

    /// Appends the series, with the gauges read from `store` now, in the text format 0.0.4.
    pub(super) fn render(&self, store: &ScrapeStore, out: &mut String) {
        self.series.set(store.len() as i64);
        self.newest_sample
            .set(store.newest_ms().map_or(0.0, |ms| ms as f64 / 1000.0));
        let mut openmetrics = String::with_capacity(4 * 1024);
        if prometheus_client::encoding::text::encode_registry(&mut openmetrics, &self.registry)
            .is_ok()
        {
            text_format(&openmetrics, out);
        }
    }
}

/// The adapter's own series as its `/metrics` ends with them, after one request (the text
/// encoder leaves empty families out): for the metrics reference's test.
#[cfg(test)]
pub(crate) fn exposition() -> String {
    let stats = Stats::default();
    stats.request("metrics", 200);
    let mut out = String::new();
    stats.render(&ScrapeStore::new(), &mut out);
    out
}

/// Prometheus-client's OpenMetrics text (without `# EOF`) in the text format 0.0.4: a counter
/// family is named as its samples are (`…_total`), so its `# TYPE` line applies to them, and
/// its help is as registered (OpenMetrics' encoder adds a period).
fn text_format(openmetrics: &str, out: &mut String) {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    for line in openmetrics.lines() {
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| Some((p, line.strip_prefix(p)?)));
        match meta {
            Some((prefix, rest)) => {
                let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let text = match prefix {
                    "# HELP " => text.strip_suffix('.').unwrap_or(text),
                    _ => text,
                };
                let total = if counters.contains(&name) {
                    "_total"
                } else {
                    ""
                };
                out.push_str(&format!("{prefix}{name}{total} {text}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format_with_counters_typed_by_their_samples() {
        let stats = Stats::default();
        stats.request("metrics", 415);
        stats.decode_error();
        stats.written(3, 1_700_000_000_123);
        let mut text = String::new();
        stats.render(&ScrapeStore::new(), &mut text);
        let rejected: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("perfgate_otlp_points_rejected_total{"))
            .collect();
        assert_eq!(rejected.len(), 3, "{text}");
        let rest: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("perfgate_otlp_points_rejected_total{"))
            .collect();
        assert_eq!(
            rest.join("\n"),
            "\
# HELP perfgate_otlp_requests_total OTLP export requests received, by signal and answer code
# TYPE perfgate_otlp_requests_total counter
perfgate_otlp_requests_total{signal=\"metrics\",code=\"415\"} 1
# HELP perfgate_otlp_decode_errors_total OTLP metrics requests refused because their body could not be read
# TYPE perfgate_otlp_decode_errors_total counter
perfgate_otlp_decode_errors_total 1
# HELP perfgate_otlp_points_received_total OTLP data points in decoded requests, translated or rejected
# TYPE perfgate_otlp_points_received_total counter
perfgate_otlp_points_received_total 0
# HELP perfgate_otlp_points_accepted_total OTLP data points translated
# TYPE perfgate_otlp_points_accepted_total counter
perfgate_otlp_points_accepted_total 0
# HELP perfgate_otlp_samples_total Prometheus samples produced
# TYPE perfgate_otlp_samples_total counter
perfgate_otlp_samples_total 0
# HELP perfgate_otlp_samples_written_total Samples the sink took (held for scraping, or remote-written)
# TYPE perfgate_otlp_samples_written_total counter
perfgate_otlp_samples_written_total 3
# HELP perfgate_otlp_write_failures_total Writes the sink failed (answered 503 to the sender)
# TYPE perfgate_otlp_write_failures_total counter
perfgate_otlp_write_failures_total 0
# HELP perfgate_otlp_samples_write_failed_total Samples carried by failed writes
# TYPE perfgate_otlp_samples_write_failed_total counter
perfgate_otlp_samples_write_failed_total 0
# HELP perfgate_otlp_points_rejected_total OTLP data points not translated, by reason
# TYPE perfgate_otlp_points_rejected_total counter
# HELP perfgate_otlp_series Series held for scraping
# TYPE perfgate_otlp_series gauge
perfgate_otlp_series 0
# HELP perfgate_otlp_newest_sample_timestamp_seconds Timestamp of the newest sample held
# TYPE perfgate_otlp_newest_sample_timestamp_seconds gauge
perfgate_otlp_newest_sample_timestamp_seconds 0.0
# HELP perfgate_otlp_last_receive_timestamp_seconds When the last metrics request was accepted
# TYPE perfgate_otlp_last_receive_timestamp_seconds gauge
perfgate_otlp_last_receive_timestamp_seconds 1700000000.123"
        );
        assert!(!text.contains("# EOF"), "{text}");
    }
}

//! OTLP metrics → Prometheus series, following Prometheus's documented OTLP rules: cumulative
//! monotonic sums become counters, gauges and non-monotonic sums gauges, explicit-bucket
//! histograms `_bucket{le}`/`_sum`/`_count`, summaries `{quantile}`/`_sum`/`_count`; resource
//! `service.namespace`/`service.name` → `job`, `service.instance.id` → `instance`, every other
//! resource attribute onto one `target_info` series. Delta temporality and exponential histograms
//! are rejected (counted, with the reason), not guessed at.
//!
//! The output is a neutral form ([`TranslatedSeries`]) that any sink can write: the `/metrics`
//! exposition of `export: scrape`, or a remote-write client.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    SummaryDataPoint, metric::Data, number_data_point,
};

use super::naming::{NameKind, float_label, label_name, metric_name};

/// Prometheus's staleness marker: a point flagged "no recorded value" becomes this NaN.
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;
const FLAG_NO_RECORDED_VALUE: u32 = 1;

/// One Prometheus series and its samples, labels sorted by name, `__name__` included.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslatedSeries {
    pub labels: Vec<(String, String)>,
    /// (milliseconds since the Unix epoch, value)
    pub samples: Vec<(i64, f64)>,
}

impl TranslatedSeries {
    /// The value of `__name__`.
    #[cfg(test)]
    pub fn name(&self) -> &str {
        self.labels
            .iter()
            .find(|(k, _)| k == "__name__")
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Why points were not translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// Delta sums and histograms: Prometheus stores cumulative counters only.
    DeltaTemporality,
    /// Exponential histograms would need native histograms.
    ExponentialHistogram,
    /// A metric without data, or a number point without a value.
    Empty,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::DeltaTemporality => "delta_temporality",
            RejectReason::ExponentialHistogram => "exponential_histogram",
            RejectReason::Empty => "empty",
        }
    }

    fn explain(self) -> &'static str {
        match self {
            RejectReason::DeltaTemporality => {
                "delta temporality is not supported (hint: configure the exporter for cumulative temporality)"
            }
            RejectReason::ExponentialHistogram => {
                "exponential histograms are not supported (hint: use explicit bucket boundaries)"
            }
            RejectReason::Empty => "metric or data point carries no value",
        }
    }
}

/// A translated request: the series, and what was left out and why.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Translation {
    pub series: Vec<TranslatedSeries>,
    /// Samples produced (one per series and timestamp).
    pub samples: usize,
    /// Data points accepted.
    pub points: usize,
    /// Rejected data points by reason, with the first offending metric name of each.
    pub rejected: BTreeMap<RejectReason, (usize, String)>,
}

impl Translation {
    pub fn rejected_points(&self) -> usize {
        self.rejected.values().map(|(n, _)| n).sum()
    }

    /// One line per reason, for OTLP's `partial_success.error_message` and logs.
    pub fn rejection_message(&self) -> Option<String> {
        if self.rejected.is_empty() {
            return None;
        }
        let lines: Vec<String> = self
            .rejected
            .iter()
            .map(|(reason, (n, metric))| {
                format!(
                    "{n} point(s) rejected, e.g. of `{metric}`: {}",
                    reason.explain()
                )
            })
            .collect();
        Some(lines.join("; "))
    }
}

fn any_value_text(v: &AnyValue) -> String {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(any_value::Value::ArrayValue(a)) => {
            let items: Vec<String> = a.values.iter().map(any_value_text).collect();
            format!("[{}]", items.join(","))
        }
        Some(any_value::Value::KvlistValue(kv)) => {
            let items: Vec<String> = kv
                .values
                .iter()
                .map(|kv| {
                    format!(
                        "{}:{}",
                        kv.key,
                        kv.value.as_ref().map_or(String::new(), any_value_text)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        // Dictionary-encoded strings only occur in profiles, never in metrics.
        Some(any_value::Value::StringValueStrindex(_)) | None => String::new(),
    }
}

fn attribute<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|kv| kv.key == key)?.value.as_ref()
}

/// Attributes → labels; keys that collide after sanitising have their values joined with `;`
/// in the order of their original keys (as Prometheus does).
fn attribute_labels(attrs: &[KeyValue]) -> BTreeMap<String, String> {
    let mut sorted: Vec<&KeyValue> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for kv in sorted {
        let name = label_name(&kv.key);
        if name.is_empty() {
            continue;
        }
        let value = kv.value.as_ref().map_or(String::new(), any_value_text);
        out.entry(name)
            .and_modify(|v| {
                v.push(';');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// `job` and `instance` from a resource's service attributes.
fn resource_labels(attrs: &[KeyValue]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(name) = attribute(attrs, "service.name").map(any_value_text) {
        let job = match attribute(attrs, "service.namespace").map(any_value_text) {
            Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
            _ => name,
        };
        out.insert("job".to_owned(), job);
    }
    if let Some(id) = attribute(attrs, "service.instance.id").map(any_value_text) {
        out.insert("instance".to_owned(), id);
    }
    out
}

const PROMOTED: [&str; 3] = ["service.name", "service.namespace", "service.instance.id"];

fn millis(unix_nano: u64) -> i64 {
    i64::try_from(unix_nano / 1_000_000).unwrap_or(i64::MAX)
}

type Labels = Vec<(String, String)>;

/// Collects samples by label set, so a request with several points of one series yields one
/// series with several samples.
#[derive(Default)]
struct Builder {
    series: BTreeMap<Labels, Vec<(i64, f64)>>,
    samples: usize,
}

impl Builder {
    fn push(
        &mut self,
        name: &str,
        base: &BTreeMap<String, String>,
        extra: Option<(&str, String)>,
        at: i64,
        value: f64,
    ) {
        let mut labels = base.clone();
        if let Some((k, v)) = extra {
            labels.insert(k.to_owned(), v);
        }
        labels.insert("__name__".to_owned(), name.to_owned());
        self.series
            .entry(labels.into_iter().collect())
            .or_default()
            .push((at, value));
        self.samples += 1;
    }
}

fn stale_or(flags: u32, value: f64) -> f64 {
    if flags & FLAG_NO_RECORDED_VALUE != 0 {
        f64::from_bits(STALE_NAN)
    } else {
        value
    }
}

/// Translates one OTLP export request.
pub fn translate(request: &ExportMetricsServiceRequest) -> Translation {
    let mut out = Translation::default();
    let mut b = Builder::default();
    for rm in &request.resource_metrics {
        resource(&mut b, &mut out, rm);
    }
    out.samples = b.samples;
    out.series = b
        .series
        .into_iter()
        .map(|(labels, samples)| TranslatedSeries { labels, samples })
        .collect();
    out
}

/// One resource's metrics, then its `target_info` series (at its newest point's time) when it
/// has attributes beyond those promoted to `job` and `instance`.
fn resource(b: &mut Builder, out: &mut Translation, rm: &ResourceMetrics) {
    let resource_attrs = rm
        .resource
        .as_ref()
        .map_or(&[][..], |r| r.attributes.as_slice());
    let mut r = Resource {
        identity: resource_labels(resource_attrs),
        newest: None,
    };
    for sm in &rm.scope_metrics {
        for metric in &sm.metrics {
            r.metric(b, out, metric);
        }
    }
    let others: Vec<KeyValue> = resource_attrs
        .iter()
        .filter(|kv| !PROMOTED.contains(&kv.key.as_str()))
        .cloned()
        .collect();
    if let Some(at) = r.newest
        && !others.is_empty()
    {
        b.push("target_info", &r.labels(&others), None, at, 1.0);
    }
}

impl Translation {
    /// Counts `n` points of `metric` as rejected for `reason`.
    fn reject(&mut self, reason: RejectReason, n: usize, metric: &str) {
        self.rejected
            .entry(reason)
            .or_insert_with(|| (0, metric.to_owned()))
            .0 += n;
    }
}

/// What the points of one resource share: its `job`/`instance` labels, and the newest point
/// time seen so far.
struct Resource {
    identity: BTreeMap<String, String>,
    newest: Option<i64>,
}

impl Resource {
    /// A point's labels: its attributes, then the resource's identity.
    fn labels(&self, attrs: &[KeyValue]) -> BTreeMap<String, String> {
        let mut labels = attribute_labels(attrs);
        labels.extend(self.identity.clone());
        labels
    }

    fn seen(&mut self, at: i64) {
        self.newest = self.newest.max(Some(at));
    }

    /// One metric's points by its data kind.
    fn metric(&mut self, b: &mut Builder, out: &mut Translation, metric: &Metric) {
        let cumulative = AggregationTemporality::Cumulative as i32;
        let named = |kind| metric_name(&metric.name, &metric.unit, kind);
        let reject = |out: &mut Translation, reason, n| out.reject(reason, n, &metric.name);
        match &metric.data {
            None => reject(out, RejectReason::Empty, 1),
            Some(Data::Gauge(g)) => {
                let name = named(NameKind::Gauge);
                self.numbers(b, out, &name, &g.data_points, &metric.name);
            }
            // Delta sums are rejected, not accumulated: the adapter would have to keep state
            // per series and guess at restarts.
            Some(Data::Sum(s)) if s.aggregation_temporality != cumulative => {
                reject(out, RejectReason::DeltaTemporality, s.data_points.len());
            }
            Some(Data::Sum(s)) => {
                let name = named(if s.is_monotonic {
                    NameKind::Counter
                } else {
                    NameKind::Gauge
                });
                self.numbers(b, out, &name, &s.data_points, &metric.name);
            }
            Some(Data::Histogram(h)) if h.aggregation_temporality != cumulative => {
                reject(out, RejectReason::DeltaTemporality, h.data_points.len());
            }
            Some(Data::Histogram(h)) => {
                let name = named(NameKind::Other);
                for p in &h.data_points {
                    histogram(b, &name, p, &self.labels(&p.attributes));
                    self.seen(millis(p.time_unix_nano));
                    out.points += 1;
                }
            }
            Some(Data::ExponentialHistogram(h)) => {
                reject(out, RejectReason::ExponentialHistogram, h.data_points.len());
            }
            Some(Data::Summary(s)) => {
                let name = named(NameKind::Other);
                for p in &s.data_points {
                    summary(b, &name, p, &self.labels(&p.attributes));
                    self.seen(millis(p.time_unix_nano));
                    out.points += 1;
                }
            }
        }
    }

    /// Gauge and sum points: one sample each; a point without a value is rejected as empty.
    fn numbers(
        &mut self,
        b: &mut Builder,
        out: &mut Translation,
        name: &str,
        points: &[NumberDataPoint],
        metric: &str,
    ) {
        for p in points {
            let value = match p.value {
                Some(number_data_point::Value::AsDouble(d)) => d,
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                None => {
                    out.reject(RejectReason::Empty, 1, metric);
                    continue;
                }
            };
            let at = millis(p.time_unix_nano);
            b.push(
                name,
                &self.labels(&p.attributes),
                None,
                at,
                stale_or(p.flags, value),
            );
            self.seen(at);
            out.points += 1;
        }
    }
}

fn histogram(
    b: &mut Builder,
    name: &str,
    p: &HistogramDataPoint,
    labels: &BTreeMap<String, String>,
) {
    let at = millis(p.time_unix_nano);
    let v = |x: f64| stale_or(p.flags, x);
    let mut cumulative = 0u64;
    let bucket = format!("{name}_bucket");
    for (i, bound) in p.explicit_bounds.iter().enumerate() {
        cumulative += p.bucket_counts.get(i).copied().unwrap_or(0);
        b.push(
            &bucket,
            labels,
            Some(("le", float_label(*bound))),
            at,
            v(cumulative as f64),
        );
    }
    b.push(
        &bucket,
        labels,
        Some(("le", "+Inf".into())),
        at,
        v(p.count as f64),
    );
    if let Some(sum) = p.sum {
        b.push(&format!("{name}_sum"), labels, None, at, v(sum));
    }
    b.push(
        &format!("{name}_count"),
        labels,
        None,
        at,
        v(p.count as f64),
    );
}

fn summary(b: &mut Builder, name: &str, p: &SummaryDataPoint, labels: &BTreeMap<String, String>) {
    let at = millis(p.time_unix_nano);
    let v = |x: f64| stale_or(p.flags, x);
    for q in &p.quantile_values {
        b.push(
            name,
            labels,
            Some(("quantile", float_label(q.quantile))),
            at,
            v(q.value),
        );
    }
    b.push(&format!("{name}_sum"), labels, None, at, v(p.sum));
    b.push(
        &format!("{name}_count"),
        labels,
        None,
        at,
        v(p.count as f64),
    );
}

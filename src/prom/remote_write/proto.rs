//! Remote-write 1.0 protobuf messages (`prometheus.WriteRequest` and friends), written by hand
//! with prost derives so no `protoc` is needed. Field numbers follow Prometheus'
//! `prompb/remote.proto` and `prompb/types.proto`; fields perfgate never sends (exemplars,
//! native histograms) are left out, which protobuf allows.

/// The body of one remote-write request (before snappy compression).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// One series: its labels (sorted by name in byte order, no empty value) and samples (oldest first).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    #[prost(enumeration = "MetricType", tag = "1")]
    pub r#type: i32,
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    #[prost(string, tag = "4")]
    pub help: String,
    #[prost(string, tag = "5")]
    pub unit: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    Unknown = 0,
    Counter = 1,
    Gauge = 2,
    Histogram = 3,
    GaugeHistogram = 4,
    Summary = 5,
    Info = 6,
    StateSet = 7,
}

impl Label {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// The value of a Prometheus staleness marker: a NaN with a payload no arithmetic produces
/// (`0x7ff0000000000002`). It says a series ended; an ordinary NaN sample (`0x7ff8…`) is data.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// A staleness marker, [`STALE_NAN_BITS`] as a sample value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `value` is a staleness marker (bit for bit, not any NaN).
pub fn is_stale_nan(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

/// Sorts labels by name in byte order, as the remote-write spec asks of every series. `__name__`
/// is not special: it sorts after upper-case names (`Zone`) and before lower-case ones.
pub fn sort_labels(labels: &mut [Label]) {
    labels.sort_unstable_by(|a, b| label_order(&a.name, &b.name));
}

/// The order of [`sort_labels`] between two label names: their bytes, compared.
pub fn label_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

/// Makes `labels` a label set as remote write sends it: labels with an empty value dropped
/// (Prometheus treats an empty value as no label at all, and senders must not send one), the
/// rest sorted ([`sort_labels`]). The one place every path that builds series goes through.
pub fn canonical_labels(labels: &mut Vec<Label>) {
    labels.retain(|l| !l.value.is_empty());
    sort_labels(labels);
}

/// Whether `labels` is already what [`canonical_labels`] makes of it, with no name twice.
pub fn is_canonical(labels: &[Label]) -> bool {
    labels.iter().all(|l| !l.value.is_empty())
        && labels.is_sorted_by(|a, b| label_order(&a.name, &b.name).is_lt())
}

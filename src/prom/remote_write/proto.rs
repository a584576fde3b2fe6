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

/// One series: its labels (sorted, `__name__` first) and samples (oldest first).
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

/// Sorts labels by name, `__name__` first, as receivers expect (Prometheus' own order for
/// ordinary label names, which all sort after `__name__` except upper-case ones).
pub fn sort_labels(labels: &mut [Label]) {
    labels.sort_unstable_by(|a, b| label_order(&a.name, &b.name));
}

/// The order of [`sort_labels`] between two label names.
pub fn label_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a != "__name__")
        .cmp(&(b != "__name__"))
        .then_with(|| a.cmp(b))
}

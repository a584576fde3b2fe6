//! Remote-write 1.0 client, reusable by anything that writes samples into a TSDB (the
//! replication engine, the OTLP adapter): build a [`WriteRequest`], encode it once with a
//! [`BatchEncoder`] into an [`EncodedBatch`], and hand it to [`RemoteWriter::send`], which
//! retries 5xx/429 and refused connections (the latter until the receiver has refused for
//! `RetryPolicy::give_up_after`) and reports why a batch was dropped.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use perfgate::prom::remote_write::*;
//! let writer = RemoteWriter::new("http://127.0.0.1:9090/api/v1/write", &[], RetryPolicy::default())?;
//! let mut labels = vec![Label::new("job", "demo"), Label::new("__name__", "demo_total")];
//! sort_labels(&mut labels);
//! let request = WriteRequest {
//!     timeseries: vec![TimeSeries { labels, samples: vec![Sample { value: 1.0, timestamp: 1_700_000_000_000 }] }],
//!     metadata: vec![],
//! };
//! let batch = BatchEncoder::new().encode(&request)?;
//! let outcome = writer.send(&batch).await;
//! # let _ = outcome; Ok(()) }
//! ```

mod encode;
mod proto;
pub mod wire;
mod writer;

#[cfg(test)]
mod tests;

pub use encode::{BatchEncoder, EncodedBatch};
pub use proto::{
    Label, MetricMetadata, MetricType, Sample, TimeSeries, WriteRequest, canonical_labels,
    is_canonical, is_stale_nan, label_order, stale_nan,
};
pub(crate) use writer::check_loopback;
pub use writer::{DropReason, RemoteWriter, RetryPolicy, SendOutcome, WriteError};
// Reached only by unit tests and, through the `internals` feature, perfgate's own
// integration tests and benches.
#[cfg(any(test, feature = "internals"))]
pub use {
    encode::decode_body,
    proto::{STALE_NAN_BITS, sort_labels},
};

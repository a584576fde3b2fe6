//! Hand-written protobuf for the hot path: a `WriteRequest` body written field by field into a
//! byte buffer, exactly as prost encodes the same messages (proto3 rules: a zero value, an
//! empty string or a zero timestamp is left out). A request is a concatenation of its fields,
//! so a batch can be built one `TimeSeries` at a time from pre-encoded parts, without building
//! the message structs first. The tests compare every writer with prost's own encoding.

#[cfg(any(test, feature = "internals"))]
use prost::Message;

use super::proto::MetricMetadata;
#[cfg(any(test, feature = "internals"))]
use super::proto::{Label, Sample};

/// Protobuf wire types (the low three bits of a key).
const LEN: u8 = 2;
const I64: u8 = 1;
const VARINT: u8 = 0;

const fn key(field: u8, wire_type: u8) -> u8 {
    (field << 3) | wire_type
}

/// `WriteRequest.timeseries` (1), `TimeSeries.labels` (1), `Label.name` (1).
const FIELD_1_LEN: u8 = key(1, LEN);
/// `TimeSeries.samples` (2), `Label.value` (2).
const FIELD_2_LEN: u8 = key(2, LEN);
/// `Sample.value`: a double.
const SAMPLE_VALUE: u8 = key(1, I64);
/// `Sample.timestamp`: an int64.
const SAMPLE_TIMESTAMP: u8 = key(2, VARINT);
/// `WriteRequest.metadata`.
const METADATA_FIELD: u32 = 3;

/// Bytes of `v` as a varint.
pub fn varint_len(v: u64) -> usize {
    // 1 byte per 7 bits, at least one.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One length-delimited string field, left out when empty.
fn string_field_len(value: &str) -> usize {
    if value.is_empty() {
        0
    } else {
        1 + varint_len(value.len() as u64) + value.len()
    }
}

fn put_string_field(out: &mut Vec<u8>, key: u8, value: &str) {
    if !value.is_empty() {
        out.push(key);
        put_varint(out, value.len() as u64);
        out.extend_from_slice(value.as_bytes());
    }
}

/// A `TimeSeries.labels` entry: key, length and the `Label` message. The same bytes for every
/// series carrying this label, so callers encode it once and copy it.
pub fn put_label(out: &mut Vec<u8>, name: &str, value: &str) {
    let body = string_field_len(name) + string_field_len(value);
    out.push(FIELD_1_LEN);
    put_varint(out, body as u64);
    put_string_field(out, FIELD_1_LEN, name);
    put_string_field(out, FIELD_2_LEN, value);
}

/// The body length of a `Sample` message.
fn sample_body_len(value: f64, timestamp: i64) -> usize {
    // prost leaves a field out when it equals its default (`value != 0.0`, so -0.0 too).
    let v = if value != 0.0 { 9 } else { 0 };
    let t = if timestamp != 0 {
        1 + varint_len(timestamp as u64)
    } else {
        0
    };
    v + t
}

/// A `TimeSeries.samples` entry: key, length and the `Sample` message.
pub fn put_sample(out: &mut Vec<u8>, value: f64, timestamp: i64) {
    out.push(FIELD_2_LEN);
    // At most 9 + 11 bytes: the length always fits one varint byte.
    out.push(sample_body_len(value, timestamp) as u8);
    if value != 0.0 {
        out.push(SAMPLE_VALUE);
        out.extend_from_slice(&value.to_le_bytes());
    }
    if timestamp != 0 {
        out.push(SAMPLE_TIMESTAMP);
        // int64 is a plain varint of the two's complement (negative: ten bytes).
        put_varint(out, timestamp as u64);
    }
}

/// The head of a `WriteRequest.timeseries` entry whose label and sample fields take `body`
/// bytes; the fields follow.
pub fn put_series_head(out: &mut Vec<u8>, body: usize) {
    out.push(FIELD_1_LEN);
    put_varint(out, body as u64);
}

/// A `WriteRequest.metadata` entry (rare: once per metric family, so prost writes it).
pub fn put_metadata(out: &mut Vec<u8>, metadata: &MetricMetadata) {
    prost::encoding::message::encode(METADATA_FIELD, metadata, out);
}

/// A whole `WriteRequest.timeseries` entry from message structs (what prost would write for
/// `TimeSeries { labels, samples }`).
#[cfg(any(test, feature = "internals"))]
pub fn put_series(out: &mut Vec<u8>, labels: &[Label], samples: &[Sample]) {
    let label_len: usize = labels
        .iter()
        .map(|l| {
            let body = l.encoded_len();
            1 + varint_len(body as u64) + body
        })
        .sum();
    let sample_len: usize = samples
        .iter()
        .map(|s| 2 + sample_body_len(s.value, s.timestamp))
        .sum();
    put_series_head(out, label_len + sample_len);
    for l in labels {
        put_label(out, &l.name, &l.value);
    }
    for s in samples {
        put_sample(out, s.value, s.timestamp);
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::super::proto::{MetricType, TimeSeries, WriteRequest};
    use super::*;

    fn series(labels: &[(&str, &str)], samples: &[(f64, i64)]) -> TimeSeries {
        TimeSeries {
            labels: labels.iter().map(|(n, v)| Label::new(*n, *v)).collect(),
            samples: samples
                .iter()
                .map(|&(value, timestamp)| Sample { value, timestamp })
                .collect(),
        }
    }

    #[test]
    fn varint_lengths_match_what_is_written() {
        for v in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
            assert_eq!(out.len(), prost::encoding::encoded_len_varint(v), "{v}");
        }
    }

    #[test]
    fn every_writer_matches_prost_byte_for_byte() {
        let long = "x".repeat(300);
        let request = WriteRequest {
            timeseries: vec![
                series(
                    &[("__name__", "up"), ("job", "api"), ("instance", "")],
                    &[(1.0, 1_700_000_000_000), (0.0, 1_700_000_015_000)],
                ),
                // Zero and negative zero values, a zero and a negative timestamp, NaN, ±Inf.
                series(
                    &[("__name__", &long), ("", "no name")],
                    &[
                        (-0.0, 0),
                        (f64::NAN, -1),
                        (f64::INFINITY, i64::MIN),
                        (f64::NEG_INFINITY, i64::MAX),
                        (5e-324, 1),
                    ],
                ),
                series(&[("__name__", "empty")], &[]),
            ],
            metadata: vec![
                MetricMetadata {
                    r#type: MetricType::Counter as i32,
                    metric_family_name: "http_requests".into(),
                    help: "Requests served.".into(),
                    unit: String::new(),
                },
                MetricMetadata {
                    r#type: MetricType::Unknown as i32,
                    metric_family_name: String::new(),
                    help: String::new(),
                    unit: "seconds".into(),
                },
            ],
        };
        let mut out = Vec::new();
        for ts in &request.timeseries {
            put_series(&mut out, &ts.labels, &ts.samples);
        }
        for m in &request.metadata {
            put_metadata(&mut out, m);
        }
        assert_eq!(out, request.encode_to_vec());
    }
}

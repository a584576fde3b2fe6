//! The sender rules of remote write 1.0, checked on recorded requests, each under the name of
//! the case it stands for (after the official sender compliance suite's case list): protocol
//! (method, headers, snappy block, protobuf, Remote-Write 1.0 fields only), labels (byte order,
//! unique and valid names, no empty value, a metric name), samples (at least one per series,
//! millisecond timestamps, in order per series across requests). A broken rule is collected,
//! not panicked on, so one run reports every case it breaks (with how often).

use std::collections::{BTreeMap, HashSet};

use axum::http::Method;
use perfgate::prom::remote_write::{TimeSeries, WriteRequest};
use prost::Message;

use super::receiver::Recorded;

/// Broken rules: per case, how often and the first detail.
#[derive(Debug, Default)]
pub struct Problems(BTreeMap<String, (usize, String)>);

impl Problems {
    pub fn check(&mut self, case: &str, ok: bool, detail: impl FnOnce() -> String) {
        if !ok {
            let entry = self
                .0
                .entry(case.to_owned())
                .or_insert_with(|| (0, detail()));
            entry.0 += 1;
        }
    }

    pub fn assert_none(&self, context: &str) {
        let broken: Vec<String> = self
            .0
            .iter()
            .map(|(case, (n, first))| format!("{case}: {n}×, first: {first}"))
            .collect();
        assert!(
            broken.is_empty(),
            "{context}: {} cases broken\n{}",
            broken.len(),
            broken.join("\n")
        );
    }
}

/// The start of snappy's *framed* stream format, which remote write does not use.
const SNAPPY_STREAM: &[u8] = b"\xff\x06\x00\x00sNaPpY";

/// The protocol rules of one request; its decoded body when it is one.
pub fn protocol(p: &mut Problems, r: &Recorded) -> Option<WriteRequest> {
    let header = |name: &str| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    p.check("http_post_method", r.method == Method::POST, || {
        r.method.to_string()
    });
    p.check("write_path", r.path == "/api/v1/write", || r.path.clone());
    let encoding = header("content-encoding");
    p.check("content_encoding_snappy", encoding == "snappy", || encoding);
    let kind = header("content-type");
    p.check(
        "content_type_protobuf",
        kind == "application/x-protobuf",
        || kind,
    );
    let version = header("x-prometheus-remote-write-version");
    p.check("rw1_version_header", version == "0.1.0", || version);
    let agent = header("user-agent");
    p.check("user_agent", user_agent_ok(&agent), || agent.clone());
    p.check(
        "snappy_block_format",
        !r.body.starts_with(SNAPPY_STREAM),
        || "framed snappy".into(),
    );
    let raw = match snap::raw::Decoder::new().decompress_vec(&r.body) {
        Ok(raw) => raw,
        Err(e) => {
            p.check("snappy_block_format", false, || e.to_string());
            return None;
        }
    };
    let fields = rw1_fields(&raw);
    p.check("rw1_fields_only", fields.is_ok(), || {
        fields.err().unwrap_or_default()
    });
    match WriteRequest::decode(raw.as_slice()) {
        Ok(request) => Some(request),
        Err(e) => {
            p.check("protobuf_parseable", false, || e.to_string());
            None
        }
    }
}

/// RFC 9110: `product *( RWS ( product / comment ) )`, `product = token ["/" token]`; and
/// descriptive: it names perfgate and its version.
fn user_agent_ok(agent: &str) -> bool {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let token = |t: &str| !t.is_empty() && t.chars().all(tchar);
    let product = agent.split(' ').next().unwrap_or("");
    matches!(product.split_once('/'), Some(("perfgate", v)) if token(v))
}

/// Field number and payload of every field of a protobuf message (payload empty unless
/// length-delimited).
fn fields(mut msg: &[u8]) -> Result<Vec<(u64, &[u8])>, String> {
    fn varint(buf: &mut &[u8]) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = buf.split_first().ok_or("truncated varint")?;
            *buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }
    let mut out = Vec::new();
    while !msg.is_empty() {
        let key = varint(&mut msg)?;
        let skip = match key & 7 {
            0 => {
                varint(&mut msg)?;
                0
            }
            1 => 8,
            2 => varint(&mut msg)? as usize,
            5 => 4,
            t => return Err(format!("wire type {t}")),
        };
        let (payload, rest) = msg.split_at_checked(skip).ok_or("truncated field")?;
        out.push((key >> 3, if key & 7 == 2 { payload } else { &[][..] }));
        msg = rest;
    }
    Ok(out)
}

/// Only Remote-Write 1.0 fields: a request holds time series (1) and metadata (3); a series
/// labels (1) and float samples (2), no exemplars (3) nor native histograms (4); no symbols
/// table, no created timestamps.
fn rw1_fields(raw: &[u8]) -> Result<(), String> {
    let only = |msg: &[u8], allowed: &[u64], what: &str| -> Result<Vec<(u64, Vec<u8>)>, String> {
        let f = fields(msg)?;
        match f.iter().find(|(n, _)| !allowed.contains(n)) {
            Some((n, _)) => Err(format!("{what} has field {n}")),
            None => Ok(f.into_iter().map(|(n, b)| (n, b.to_vec())).collect()),
        }
    };
    for (n, series) in only(raw, &[1, 3], "WriteRequest")? {
        if n == 3 {
            only(&series, &[1, 2, 4, 5], "MetricMetadata")?;
            continue;
        }
        for (n, part) in only(&series, &[1, 2], "TimeSeries")? {
            let what = if n == 1 { "Label" } else { "Sample" };
            only(&part, &[1, 2], what)?;
        }
    }
    Ok(())
}

fn label_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn metric_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The label and sample rules of one series.
pub fn series(p: &mut Problems, ts: &TimeSeries) {
    let shown = || {
        format!(
            "{:?}",
            ts.labels.iter().map(|l| &l.name).collect::<Vec<_>>()
        )
    };
    let sorted = ts
        .labels
        .windows(2)
        .all(|w| w[0].name.as_bytes() <= w[1].name.as_bytes());
    p.check("label_lexicographic_ordering", sorted, shown);
    let names: HashSet<&str> = ts.labels.iter().map(|l| l.name.as_str()).collect();
    p.check("no_duplicate_labels", names.len() == ts.labels.len(), shown);
    for l in &ts.labels {
        p.check("no_empty_label_values", !l.value.is_empty(), || {
            l.name.clone()
        });
        p.check("label_name_format", label_name_ok(&l.name), || {
            l.name.clone()
        });
    }
    let name = ts.labels.iter().find(|l| l.name == "__name__");
    p.check(
        "metric_name_label",
        name.is_some_and(|n| metric_name_ok(&n.value)),
        shown,
    );
    p.check("at_least_one_sample", !ts.samples.is_empty(), shown);
}

/// Every series' samples across a run's requests, in arrival order: (timestamp, value bits).
pub type Timeline = BTreeMap<Vec<(String, String)>, Vec<(i64, u64)>>;

pub fn add(timeline: &mut Timeline, ts: &TimeSeries) {
    let key = ts
        .labels
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect();
    timeline
        .entry(key)
        .or_default()
        .extend(ts.samples.iter().map(|s| (s.timestamp, s.value.to_bits())));
}

/// Timestamps are unix milliseconds near `now_ms` (not seconds, not nanoseconds, not in the
/// future) and strictly increasing per series, across requests.
pub fn timestamps(p: &mut Problems, timeline: &Timeline, now_ms: i64) {
    for (labels, samples) in timeline {
        let in_order = samples.windows(2).all(|w| w[0].0 < w[1].0);
        p.check("timestamp_ordering", in_order, || format!("{labels:?}"));
        for (t, _) in samples {
            let near = (now_ms - 3_600_000..=now_ms + 1_000).contains(t);
            p.check("millisecond_timestamps", near, || {
                format!("{t} vs now {now_ms}")
            });
        }
    }
}

//! Pre-encoded copies. Every copy of one source series has the same label names in the same
//! order (only the replication labels' values differ) and the same samples, so the source's own
//! labels and its samples are encoded once per series, each replication label value once per
//! run, and writing a copy is a handful of byte copies. The label order and values are those of
//! `copy_labels`; the bytes are what prost writes for the same `TimeSeries` (tested below).

use std::ops::Range;

use super::labels::LabelSpace;
use crate::prom::remote_write::{Label, Sample, wire};

/// The replication labels with each value encoded as a `Label` field, built once per run.
#[derive(Debug)]
pub(crate) struct EncodedSpace {
    labels: Vec<EncodedLabel>,
}

#[derive(Debug)]
struct EncodedLabel {
    name: String,
    values: Vec<String>,
    /// `values[i]` as a `TimeSeries.labels` field.
    encoded: Vec<Vec<u8>>,
}

impl EncodedSpace {
    pub(crate) fn new(space: &LabelSpace) -> Self {
        let labels = space
            .labels()
            .iter()
            .map(|(name, values)| EncodedLabel {
                name: name.clone(),
                values: values.clone(),
                encoded: values.iter().map(|v| label_field(name, v)).collect(),
            })
            .collect();
        Self { labels }
    }

    /// A counter over every combination, in `LabelSpace::combinations` order.
    pub(crate) fn odometer(&self) -> Odometer {
        Odometer {
            digits: vec![0; self.labels.len()],
            sizes: self.labels.iter().map(|l| l.values.len()).collect(),
        }
    }
}

fn label_field(name: &str, value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + value.len() + 6);
    wire::put_label(&mut out, name, value);
    out
}

/// The value index of every replication label for the current copy; the last label varies
/// fastest, as in `LabelSpace::combinations`.
#[derive(Debug, Clone)]
pub(crate) struct Odometer {
    digits: Vec<usize>,
    sizes: Vec<usize>,
}

impl Odometer {
    pub(crate) fn digits(&self) -> &[usize] {
        &self.digits
    }

    /// Moves to the next combination, wrapping to the first after the last.
    pub(crate) fn advance(&mut self) {
        for (digit, size) in self.digits.iter_mut().zip(&self.sizes).rev() {
            *digit += 1;
            if *digit < *size {
                return;
            }
            *digit = 0;
        }
    }
}

/// One piece of a copy's label fields, in label order.
#[derive(Debug)]
enum Part {
    /// Consecutive source labels, encoded: a range of `SeriesTemplate::fixed`.
    Fixed(Range<usize>),
    /// Replication label `i`, which the source does not have: the space's encodings.
    Added(usize),
    /// Replication label `i`, which the source has: its value kept as a prefix (`eu-0`),
    /// encoded for each value of the label.
    Prefixed(usize, Vec<Vec<u8>>),
}

/// One source series, encoded for copying.
#[derive(Debug)]
pub(crate) struct SeriesTemplate {
    fixed: Vec<u8>,
    parts: Vec<Part>,
    /// Every sample as a `TimeSeries.samples` field (time-shifted), back to back.
    samples: Vec<u8>,
    /// Where sample `i` starts in `samples`; one more entry for the end.
    offsets: Vec<usize>,
}

/// A label of a copy, before encoding: the source's own, or a replication label.
enum Entry<'a> {
    Source(&'a str),
    Added(usize),
    Prefixed(usize, &'a str),
}

impl SeriesTemplate {
    /// `labels`: the source series' labels; `samples` oldest first, moved by `shift` ms.
    pub(crate) fn new(
        space: &EncodedSpace,
        labels: &[Label],
        samples: &[Sample],
        shift: i64,
    ) -> Self {
        let position = |name: &str| space.labels.iter().position(|l| l.name == name);
        let mut entries: Vec<(&str, Entry<'_>)> = labels
            .iter()
            .map(|l| match position(&l.name) {
                Some(i) => (l.name.as_str(), Entry::Prefixed(i, l.value.as_str())),
                None => (l.name.as_str(), Entry::Source(l.value.as_str())),
            })
            .collect();
        for (i, l) in space.labels.iter().enumerate() {
            if !labels.iter().any(|s| s.name == l.name) {
                entries.push((l.name.as_str(), Entry::Added(i)));
            }
        }
        // The order of `sort_labels`: `__name__` first, then by name.
        entries.sort_by(|(a, _), (b, _)| {
            (*a != "__name__")
                .cmp(&(*b != "__name__"))
                .then_with(|| a.cmp(b))
        });
        let mut fixed = Vec::new();
        let mut parts = Vec::new();
        for (name, entry) in entries {
            match entry {
                Entry::Source(value) => {
                    let start = fixed.len();
                    wire::put_label(&mut fixed, name, value);
                    match parts.last_mut() {
                        Some(Part::Fixed(run)) if run.end == start => run.end = fixed.len(),
                        _ => parts.push(Part::Fixed(start..fixed.len())),
                    }
                }
                Entry::Added(i) => parts.push(Part::Added(i)),
                Entry::Prefixed(i, value) => {
                    let encoded = space.labels[i]
                        .values
                        .iter()
                        .map(|v| label_field(name, &format!("{value}-{v}")))
                        .collect();
                    parts.push(Part::Prefixed(i, encoded));
                }
            }
        }
        let mut encoded = Vec::with_capacity(samples.len() * 20);
        let mut offsets = Vec::with_capacity(samples.len() + 1);
        for s in samples {
            offsets.push(encoded.len());
            wire::put_sample(&mut encoded, s.value, s.timestamp + shift);
        }
        offsets.push(encoded.len());
        Self {
            fixed,
            parts,
            samples: encoded,
            offsets,
        }
    }

    fn part<'a>(&'a self, space: &'a EncodedSpace, part: &'a Part, digits: &[usize]) -> &'a [u8] {
        match part {
            Part::Fixed(range) => &self.fixed[range.clone()],
            Part::Added(i) => &space.labels[*i].encoded[digits[*i]],
            Part::Prefixed(i, encoded) => &encoded[digits[*i]],
        }
    }

    /// Bytes of the label fields of the copy at `digits`.
    pub(crate) fn labels_len(&self, space: &EncodedSpace, digits: &[usize]) -> usize {
        self.parts
            .iter()
            .map(|p| self.part(space, p, digits).len())
            .sum()
    }

    /// Appends the label fields of the copy at `digits`.
    pub(crate) fn put_labels(&self, out: &mut Vec<u8>, space: &EncodedSpace, digits: &[usize]) {
        for p in &self.parts {
            out.extend_from_slice(self.part(space, p, digits));
        }
    }

    pub(crate) fn sample_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The sample fields of samples `range`.
    pub(crate) fn samples(&self, range: Range<usize>) -> &[u8] {
        &self.samples[self.offsets[range.start]..self.offsets[range.end]]
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::super::labels::{copy_labels, space};
    use super::*;
    use crate::prom::remote_write::sort_labels;

    /// Every copy written from the template is the bytes of `copy_labels` + prost.
    #[rstest]
    #[case::added("cluster=0,1,2;replica=a,b")]
    #[case::prefixed("job=0,1;zone=x")]
    #[case::before_every_label("Upper=u;aaa=1,22")]
    #[case::none("")]
    fn copies_match_copy_labels_encoded_by_prost(#[case] labels: &str) {
        let space = space(labels);
        let encoded = EncodedSpace::new(&space);
        let mut source = vec![
            Label::new("job", "api"),
            Label::new("__name__", "http_requests_total"),
            Label::new("instance", "10.0.0.1:8080"),
            Label::new("le", ""),
        ];
        sort_labels(&mut source);
        let samples = [
            Sample {
                value: 1.5,
                timestamp: 1_000,
            },
            Sample {
                value: 0.0,
                timestamp: 2_000,
            },
        ];
        let template = SeriesTemplate::new(&encoded, &source, &samples, 500);
        let mut odometer = encoded.odometer();
        for combination in space.combinations() {
            let expected = {
                let mut out = Vec::new();
                let shifted: Vec<Sample> = samples
                    .iter()
                    .map(|s| Sample {
                        value: s.value,
                        timestamp: s.timestamp + 500,
                    })
                    .collect();
                wire::put_series(&mut out, &copy_labels(&source, &combination), &shifted[1..]);
                out
            };
            let digits = odometer.digits();
            let mut got = Vec::new();
            let body = template.labels_len(&encoded, digits) + template.samples(1..2).len();
            wire::put_series_head(&mut got, body);
            template.put_labels(&mut got, &encoded, digits);
            got.extend_from_slice(template.samples(1..2));
            assert_eq!(got, expected, "{combination:?}");
            odometer.advance();
        }
        assert_eq!(
            odometer.digits(),
            vec![0; space.labels().len()],
            "wrapped around"
        );
        assert_eq!(template.sample_count(), 2);
    }
}

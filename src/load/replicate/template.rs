//! Pre-encoded copies. Every copy of one source series has the same label names in the same
//! order (only the replication labels' values differ) and the same samples, so the source's own
//! labels and its samples are encoded once per series, each replication label value once per
//! run, and writing a copy is a handful of byte copies. The label order and values are those of
//! `copy_labels`; the bytes are what prost writes for the same `TimeSeries` (tested below).

use std::ops::Range;

use super::labels::LabelSpace;
use crate::prom::remote_write::{Label, Sample, canonical_labels, is_canonical, label_order, wire};

/// The replication labels with each value encoded as a `Label` field, built once per run.
#[derive(Debug)]
pub(crate) struct EncodedSpace {
    labels: Vec<EncodedLabel>,
    /// Indices of `labels` in label order (`label_order`).
    order: Vec<usize>,
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
            .collect::<Vec<EncodedLabel>>();
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.sort_by(|a, b| label_order(&labels[*a].name, &labels[*b].name));
        Self { labels, order }
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
#[derive(Debug, Clone)]
enum Part {
    /// Consecutive source labels, encoded: a range of `SeriesTemplate::fixed`.
    Fixed(Range<usize>),
    /// Replication label `i`, which the source does not have: the space's encodings.
    Added(usize),
    /// Replication label `i`, which the source has: its value kept as a prefix (`eu-0`),
    /// encoded for each value of the label; value `v`'s field is `prefixed` between
    /// `prefixed_at[first + v]` and `prefixed_at[first + v + 1]`.
    Prefixed { label: usize, first: usize },
}

/// One source series, encoded for copying. Its buffers are reused from one series to the
/// next (`set`), so a series costs no allocation once they are large enough.
#[derive(Debug, Default)]
pub(crate) struct SeriesTemplate {
    fixed: Vec<u8>,
    parts: Vec<Part>,
    prefixed: Vec<u8>,
    prefixed_at: Vec<usize>,
    /// Every sample as a `TimeSeries.samples` field (time-shifted), back to back.
    samples: Vec<u8>,
    /// Where sample `i` starts in `samples`; one more entry for the end.
    offsets: Vec<usize>,
    /// Scratch: the copy's labels in order, by index (see `Entry`).
    entries: Vec<Entry>,
}

/// A label of a copy before encoding, by index: a source label kept as is, a replication label
/// added, or a replication label prefixed by the source's value.
#[derive(Debug, Clone, Copy)]
enum Entry {
    Source(usize),
    Added(usize),
    Prefixed { label: usize, source: usize },
}

impl SeriesTemplate {
    /// A template of one series (tests; the engine reuses one template through `set`).
    #[cfg(test)]
    pub(crate) fn new(
        space: &EncodedSpace,
        labels: &[Label],
        samples: &[Sample],
        shift: i64,
    ) -> Self {
        let mut template = Self::default();
        template.set(space, labels, samples, shift);
        template
    }

    /// Makes this the template of a source series: `labels` its labels, `samples` oldest
    /// first, moved by `shift` ms.
    pub(crate) fn set(
        &mut self,
        space: &EncodedSpace,
        labels: &[Label],
        samples: &[Sample],
        shift: i64,
    ) {
        // Source labels come canonical (`source::history`); others are made so here, once.
        let sorted;
        let labels = if is_canonical(labels) {
            labels
        } else {
            sorted = {
                let mut l = labels.to_vec();
                canonical_labels(&mut l);
                l
            };
            &sorted
        };
        // Both lists in label order: merge them. A replication label the source has is
        // prefixed; one it lacks is added where its name sorts.
        let entries = &mut self.entries;
        entries.clear();
        let mut rest = space.order.iter().copied().peekable();
        for (i, l) in labels.iter().enumerate() {
            while let Some(r) =
                rest.next_if(|r| label_order(&space.labels[*r].name, &l.name).is_lt())
            {
                entries.push(Entry::Added(r));
            }
            match rest.next_if(|r| space.labels[*r].name == l.name) {
                Some(label) => entries.push(Entry::Prefixed { label, source: i }),
                None => entries.push(Entry::Source(i)),
            }
        }
        entries.extend(rest.map(Entry::Added));
        self.fixed.clear();
        self.parts.clear();
        self.prefixed.clear();
        self.prefixed_at.clear();
        for entry in self.entries.iter().copied() {
            match entry {
                Entry::Source(i) => {
                    let start = self.fixed.len();
                    wire::put_label(&mut self.fixed, &labels[i].name, &labels[i].value);
                    match self.parts.last_mut() {
                        Some(Part::Fixed(run)) if run.end == start => run.end = self.fixed.len(),
                        _ => self.parts.push(Part::Fixed(start..self.fixed.len())),
                    }
                }
                Entry::Added(i) => self.parts.push(Part::Added(i)),
                Entry::Prefixed { label, source } => {
                    let first = self.prefixed_at.len();
                    let source = &labels[source];
                    for v in &space.labels[label].values {
                        self.prefixed_at.push(self.prefixed.len());
                        let value = format!("{}-{v}", source.value);
                        wire::put_label(&mut self.prefixed, &source.name, &value);
                    }
                    self.prefixed_at.push(self.prefixed.len());
                    self.parts.push(Part::Prefixed { label, first });
                }
            }
        }
        self.samples.clear();
        self.offsets.clear();
        for s in samples {
            self.offsets.push(self.samples.len());
            wire::put_sample(&mut self.samples, s.value, s.timestamp + shift);
        }
        self.offsets.push(self.samples.len());
    }

    #[inline]
    fn part<'a>(&'a self, space: &'a EncodedSpace, part: &Part, digits: &[usize]) -> &'a [u8] {
        match part {
            Part::Fixed(range) => &self.fixed[range.clone()],
            Part::Added(i) => &space.labels[*i].encoded[digits[*i]],
            Part::Prefixed { label, first } => {
                let at = first + digits[*label];
                &self.prefixed[self.prefixed_at[at]..self.prefixed_at[at + 1]]
            }
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

    /// Every copy written from the template is the bytes of `copy_labels` + prost.
    #[rstest]
    #[case::added("cluster=0,1,2;replica=a,b")]
    #[case::prefixed("job=0,1;zone=x")]
    #[case::before_every_label("Upper=u;aaa=1,22")]
    #[case::around_the_name("Rwc=a,b;__z=1;instance=9")]
    #[case::prefixed_upper_case("Zone=1,2;le=x")]
    #[case::none("")]
    fn copies_match_copy_labels_encoded_by_prost(#[case] labels: &str) {
        let space = space(labels);
        let encoded = EncodedSpace::new(&space);
        // Out of order, with an empty value (dropped) and an upper-case name (first).
        let source = vec![
            Label::new("job", "api"),
            Label::new("__name__", "http_requests_total"),
            Label::new("instance", "10.0.0.1:8080"),
            Label::new("le", ""),
            Label::new("Zone", "eu"),
        ];
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
        // A template reused after another series (with prefixed labels and more samples),
        // given the labels out of order, writes the same bytes as a fresh one.
        let mut reused = SeriesTemplate::new(
            &encoded,
            &[Label::new("__name__", "other"), Label::new("job", "x")],
            &[Sample::default(); 5],
            0,
        );
        let reversed: Vec<Label> = source.iter().rev().cloned().collect();
        reused.set(&encoded, &reversed, &samples, 500);
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
            // The second sample only, as a batch split would write it.
            let write = |t: &SeriesTemplate| {
                let digits = odometer.digits();
                let mut out = Vec::new();
                wire::put_series_head(
                    &mut out,
                    t.labels_len(&encoded, digits) + t.samples(1..2).len(),
                );
                t.put_labels(&mut out, &encoded, digits);
                out.extend_from_slice(t.samples(1..2));
                out
            };
            assert_eq!(write(&template), expected, "{combination:?}");
            assert_eq!(write(&reused), expected, "reused template, {combination:?}");
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

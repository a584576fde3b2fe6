//! Where translated series go: the [`SeriesSink`] seam. Today's sink is [`ScrapeStore`]
//! (`export: scrape`): the newest sample of every series, exposed on the adapter's `/metrics` with
//! its OTLP timestamp so Prometheus stores it at the time it was measured. The remote-write sink
//! (`remote_sink`, over the shared `prom::remote_write` client) implements the same trait.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use super::translate::{STALE_NAN, TranslatedSeries};

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The destination refused or could not be reached; the batch is lost (OTLP senders may
    /// retry on the error answer this turns into).
    #[error("writing {series} series failed: {message}")]
    Write { series: usize, message: String },
}

/// A boxed future, so sinks can be trait objects.
pub type SinkFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SinkError>> + Send + 'a>>;

/// The last step of the adapter: write a batch of translated series somewhere.
pub trait SeriesSink: Send + Sync + 'static {
    fn write<'a>(&'a self, series: &'a [TranslatedSeries]) -> SinkFuture<'a>;
}

type Labels = Vec<(String, String)>;
type Sample = (i64, f64);

/// The newest sample of every series, for Prometheus to scrape.
#[derive(Debug, Default)]
pub struct ScrapeStore {
    latest: Mutex<BTreeMap<Labels, (i64, f64)>>,
}

impl ScrapeStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the newest sample of each series; a stale marker removes the series.
    pub fn insert(&self, series: &[TranslatedSeries]) {
        let mut latest = self
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for s in series {
            let Some(&(at, value)) = s.samples.iter().max_by_key(|(at, _)| *at) else {
                continue;
            };
            if value.to_bits() == STALE_NAN {
                latest.remove(&s.labels);
                continue;
            }
            match latest.get_mut(&s.labels) {
                Some(old) if old.0 > at => {}
                Some(old) => *old = (at, value),
                None => {
                    latest.insert(s.labels.clone(), (at, value));
                }
            }
        }
    }

    /// Number of series held.
    pub fn len(&self) -> usize {
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }


    /// The newest sample time over every series (ms since the epoch).
    pub fn newest_ms(&self) -> Option<i64> {
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(|(at, _)| *at)
            .max()
    }

    /// Every series in the Prometheus text format (0.0.4), with timestamps, sorted by name.
    pub fn render(&self, out: &mut String) {
        let latest = self
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut by_name: BTreeMap<&str, Vec<(&Labels, &Sample)>> = BTreeMap::new();
        for (labels, sample) in latest.iter() {
            let name = labels
                .iter()
                .find(|(k, _)| k == "__name__")
                .map_or("", |(_, v)| v.as_str());
            by_name.entry(name).or_default().push((labels, sample));
        }
        for (name, series) in by_name {
            let _ = writeln!(out, "# TYPE {name} untyped");
            for (labels, (at, value)) in series {
                out.push_str(name);
                write_labels(out, labels.iter().filter(|(k, _)| k != "__name__"));
                let _ = writeln!(out, " {} {at}", float_text(*value));
            }
        }
    }
}

impl SeriesSink for ScrapeStore {
    fn write<'a>(&'a self, series: &'a [TranslatedSeries]) -> SinkFuture<'a> {
        self.insert(series);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// `{a="1",b="x\"y"}` (nothing when there are no labels).
pub(crate) fn write_labels<'a>(
    out: &mut String,
    labels: impl Iterator<Item = &'a (String, String)>,
) {
    let mut first = true;
    for (k, v) in labels {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}

pub(crate) fn float_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, extra: &[(&str, &str)], samples: &[(i64, f64)]) -> TranslatedSeries {
        let mut labels: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        labels.push(("__name__".into(), name.into()));
        labels.sort();
        TranslatedSeries {
            labels,
            samples: samples.to_vec(),
        }
    }

    #[test]
    fn keeps_the_newest_sample_and_drops_stale_series() {
        let store = ScrapeStore::new();
        store.insert(&[series(
            "a_total",
            &[("job", "api")],
            &[(1000, 1.0), (2000, 2.0)],
        )]);
        store.insert(&[series("a_total", &[("job", "api")], &[(1500, 9.0)])]);
        store.insert(&[series("b", &[("q", "x\"y\\z")], &[(3000, 0.5)])]);
        let mut text = String::new();
        store.render(&mut text);
        assert_eq!(
            text,
            "# TYPE a_total untyped\na_total{job=\"api\"} 2 2000\n# TYPE b untyped\nb{q=\"x\\\"y\\\\z\"} 0.5 3000\n"
        );
        assert_eq!(store.newest_ms(), Some(3000));
        store.insert(&[series(
            "b",
            &[("q", "x\"y\\z")],
            &[(4000, f64::from_bits(STALE_NAN))],
        )]);
        assert_eq!(store.len(), 1);
    }
}

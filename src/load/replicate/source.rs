//! Reading the source: metric names through the label-values API (minus exclusions), their
//! families' metadata, then one metric's recent history at a time through `query_range`, so
//! memory holds one metric's history, never the whole selection's. Each history comes back as
//! remote write sends it: labels canonical (empty values dropped, byte order), a staleness
//! marker where the series ended inside the window (`staleness`).

use std::collections::BTreeMap;
use regex::Regex;

use super::staleness::{Window, mark_ends};
use crate::prom::remote_write::{Label, MetricMetadata, MetricType, Sample, canonical_labels};
use crate::prom::{FamilyMetadata, PromClient, PromError};

/// One source series: labels canonical (`canonical_labels`), samples oldest first (ms),
/// staleness markers included.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SourceSeries {
    pub labels: Vec<Label>,
    pub samples: Vec<Sample>,
}

/// Metric names with data in `[start, end]` matching any of `matchers`, without the ones an
/// `exclude` regex matches (anchored, as PromQL's `=~`). Returns the kept names (sorted) and
/// how many were excluded.
pub(crate) async fn metric_names(
    client: &PromClient,
    matchers: &[String],
    exclude: &[Regex],
    range: (f64, f64),
) -> Result<(Vec<String>, usize), PromError> {
    let mut names = client
        .label_values("__name__", matchers, Some(range))
        .await?;
    names.sort();
    names.dedup();
    let before = names.len();
    names.retain(|n| !exclude.iter().any(|re| re.is_match(n)));
    let excluded = before - names.len();
    Ok((names, excluded))
}

/// Suffixes a series name may add to its family's name (OpenMetrics: counters, histograms,
/// summaries, gauge histograms, info).
const FAMILY_SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

/// The source's metadata (TYPE, HELP, UNIT) per metric family. A source without the metadata
/// API, or one that fails to answer it, has none: the replication goes on without.
pub(crate) async fn family_metadata(client: &PromClient) -> BTreeMap<String, FamilyMetadata> {
    client.metadata(None).await.unwrap_or_else(|e| {
        tracing::warn!(source = client.base_url(), "no metric metadata: {e}");
        BTreeMap::new()
    })
}

/// The remote-write metadata of the family metric `name` belongs to: the name itself, or the
/// name without one of the family suffixes.
pub(crate) fn metadata_for(
    families: &BTreeMap<String, FamilyMetadata>,
    name: &str,
) -> Option<MetricMetadata> {
    let (family, meta) = families.get_key_value(name).or_else(|| {
        FAMILY_SUFFIXES
            .iter()
            .filter_map(|suffix| name.strip_suffix(suffix))
            .find_map(|family| families.get_key_value(family))
    })?;
    let kind = match meta.kind.as_str() {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "gaugehistogram" => MetricType::GaugeHistogram,
        "summary" => MetricType::Summary,
        "info" => MetricType::Info,
        "stateset" => MetricType::StateSet,
        _ => MetricType::Unknown,
    };
    Some(MetricMetadata {
        r#type: kind as i32,
        metric_family_name: family.clone(),
        help: meta.help.clone(),
        unit: meta.unit.clone(),
    })
}

/// Compiles an exclusion pattern anchored at both ends, as Prometheus anchors `=~`.
pub fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// The PromQL selecting metric `name`'s series among `matchers`: each matcher scoped to the
/// name (`{job="a"}` → `{__name__="up",job="a"}`; `up{...}` kept for `up` only), joined with
/// `or` so series two matchers share come back once. `None` when no matcher can select it.
pub(crate) fn scoped_query(matchers: &[String], name: &str) -> Option<String> {
    let parts: Vec<String> = matchers
        .iter()
        .filter_map(|m| {
            let m = m.trim();
            let (metric, inner) = match m.find('{') {
                Some(open) => (
                    m[..open].trim(),
                    m[open + 1..].trim_end().strip_suffix('}')?,
                ),
                None => (m, ""),
            };
            if !metric.is_empty() && metric != name {
                return None;
            }
            let inner = inner.trim().trim_end_matches(',');
            Some(if inner.is_empty() {
                format!("{{__name__=\"{name}\"}}")
            } else {
                format!("{{__name__=\"{name}\",{inner}}}")
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" or "))
}

/// Metric `name`'s history over `window`, each series with a staleness marker wherever it
/// ended inside it.
pub(crate) async fn history(
    client: &PromClient,
    matchers: &[String],
    name: &str,
    window: &Window,
) -> Result<Vec<SourceSeries>, PromError> {
    let Some(query) = scoped_query(matchers, name) else {
        return Ok(Vec::new());
    };
    let seconds = |ms: i64| ms as f64 / 1000.0;
    let step = std::time::Duration::from_millis(window.step_ms as u64);
    let value = client
        .query_range(&query, seconds(window.start_ms), seconds(window.end_ms), step)
        .await?;
    Ok(value
        .series
        .into_iter()
        .map(|s| {
            let mut labels: Vec<Label> = s
                .labels
                .into_iter()
                .map(|(k, v)| Label { name: k, value: v })
                .collect();
            canonical_labels(&mut labels);
            let mut samples = s
                .samples
                .into_iter()
                .map(|p| Sample {
                    value: p.v,
                    timestamp: (p.t * 1000.0).round() as i64,
                })
                .collect();
            mark_ends(&mut samples, window);
            SourceSeries { labels, samples }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::braces(&[r#"{job="a"}"#], "up", Some(r#"{__name__="up",job="a"}"#))]
    #[case::name_regex(&[r#"{__name__=~"u.*"}"#], "up", Some(r#"{__name__="up",__name__=~"u.*"}"#))]
    #[case::bare_name(&["up"], "up", Some(r#"{__name__="up"}"#))]
    #[case::other_name(&["down"], "up", None)]
    #[case::named_with_matchers(&[r#"up{job="a", }"#], "up", Some(r#"{__name__="up",job="a"}"#))]
    #[case::empty_braces(&["{}"], "up", Some(r#"{__name__="up"}"#))]
    #[case::union(
        &[r#"{job="a"}"#, "up", "down"],
        "up",
        Some(r#"{__name__="up",job="a"} or {__name__="up"}"#),
    )]
    fn scoped_queries(
        #[case] matchers: &[&str],
        #[case] name: &str,
        #[case] expected: Option<&str>,
    ) {
        let matchers: Vec<String> = matchers.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(scoped_query(&matchers, name).as_deref(), expected);
    }

    #[rstest]
    #[case::exact("go_goroutines", Some(("go_goroutines", MetricType::Gauge)))]
    #[case::counter_total("http_requests_total", Some(("http_requests", MetricType::Counter)))]
    #[case::histogram_bucket("latency_seconds_bucket", Some(("latency_seconds", MetricType::Histogram)))]
    #[case::histogram_count("latency_seconds_count", Some(("latency_seconds", MetricType::Histogram)))]
    #[case::unknown_type("odd", Some(("odd", MetricType::Unknown)))]
    #[case::none("other_total", None)]
    fn metadata_is_found_by_family(
        #[case] name: &str,
        #[case] expected: Option<(&str, MetricType)>,
    ) {
        let entry = |kind: &str| FamilyMetadata {
            kind: kind.into(),
            help: format!("{kind} help"),
            unit: String::new(),
        };
        let families = BTreeMap::from([
            ("go_goroutines".to_owned(), entry("gauge")),
            ("http_requests".to_owned(), entry("counter")),
            ("latency_seconds".to_owned(), entry("histogram")),
            ("odd".to_owned(), entry("mystery")),
        ]);
        let got = metadata_for(&families, name);
        assert_eq!(
            got.as_ref()
                .map(|m| (m.metric_family_name.as_str(), m.r#type)),
            expected.map(|(f, t)| (f, t as i32))
        );
        if let Some(m) = got {
            assert!(m.help.ends_with(" help"), "{m:?}");
        }
    }

    #[test]
    fn exclusions_are_anchored() {
        let re = anchored("go_.*|process_cpu").expect("regex");
        assert!(re.is_match("go_goroutines"));
        assert!(re.is_match("process_cpu"));
        assert!(!re.is_match("process_cpu_seconds_total"));
        assert!(!re.is_match("my_go_thing"));
    }
}

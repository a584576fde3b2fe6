//! docs/metrics.md kept true: every metric family perfgate registers (the engines', the origin's,
//! the OTLP adapter's own, the demo API's) is named there, and every `perfgate_*` name and every
//! series a table of it lists is one perfgate exports. Builds the registries without any I/O and
//! reads their `# TYPE` lines.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

/// Names the doc mentions as *not* exported (the newcomer's guess it warns about).
const NOT_EXPORTED: [&str; 1] = ["perfgate_http_request_duration_seconds_bucket"];

/// Histogram series suffixes: `<family>_bucket` and the like are the family's.
const HISTOGRAM_SUFFIXES: [&str; 3] = ["_bucket", "_sum", "_count"];

fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/metrics.md");
    std::fs::read_to_string(&path).expect("docs/metrics.md is readable")
}

/// Every registry's exposition, with a series in each family (an empty family is not encoded).
fn expositions() -> Vec<String> {
    vec![
        crate::load::EngineMetrics::exposition_of_every_family(),
        crate::origin::exposition(),
        crate::otlp::exposition(),
        crate::demo_api::exposition(),
    ]
}

/// Exported family name (as queried: counters with `_total`) → its type, from `# TYPE` lines.
fn families(expositions: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in expositions.iter().flat_map(|text| text.lines()) {
        let Some((name, kind)) = line.strip_prefix("# TYPE ").and_then(|l| l.split_once(' '))
        else {
            continue;
        };
        let name = if kind == "counter" && !name.ends_with("_total") {
            format!("{name}_total")
        } else {
            name.to_owned()
        };
        out.insert(name, kind.to_owned());
    }
    out
}

/// Whether `name` is a series of an exported family (a histogram's `_bucket` and so on too).
fn exported(name: &str, families: &BTreeMap<String, String>) -> bool {
    families.contains_key(name)
        || HISTOGRAM_SUFFIXES.iter().any(|suffix| {
            name.strip_suffix(suffix)
                .and_then(|family| families.get(family))
                .is_some_and(|kind| kind == "histogram")
        })
}

/// What is wrong between `doc` and `families`: a family the doc does not name (in backticks),
/// or a name the doc gives that is not exported (a `perfgate_*` anywhere but `perfgate_x_*`
/// wildcards, or a table row's first cell).
fn problems(doc: &str, families: &BTreeMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = families
        .keys()
        .filter(|name| !doc.contains(&format!("`{name}`")))
        .map(|name| format!("`{name}` is exported but not in docs/metrics.md"))
        .collect();
    let ours = Regex::new(r"\bperfgate_[a-z0-9_]*[a-z0-9_](\*)?").expect("a valid regex");
    let mentioned = ours
        .captures_iter(doc)
        .filter(|c| c.get(1).is_none())
        .map(|c| c[0].to_owned());
    let row = Regex::new(r"(?m)^\| `([A-Za-z_:][A-Za-z0-9_:]*)` \|").expect("a valid regex");
    let listed = row.captures_iter(doc).map(|c| c[1].to_owned());
    let mut named: Vec<String> = mentioned.chain(listed).collect();
    named.sort();
    named.dedup();
    for name in named {
        let warned = NOT_EXPORTED.contains(&name.as_str());
        if exported(&name, families) == warned {
            let why = if warned {
                "is exported, though the doc says it is not"
            } else {
                "is in docs/metrics.md but not exported"
            };
            out.push(format!("`{name}` {why}"));
        }
    }
    out
}

#[test]
fn every_exported_family_is_in_the_doc_and_every_name_there_is_exported() {
    let families = families(&expositions());
    // Every source took part: a registry left out would pass vacuously.
    for name in [
        "perfgate_http_requests_total",
        "perfgate_replicate_samples_dropped_total",
        "perfgate_swarm_time_to_first_frame_seconds",
        "perfgate_freshness_seconds",
        "perfgate_origin_requests_total",
        "perfgate_otlp_points_rejected_total",
        "http_request_duration_seconds",
    ] {
        assert!(
            families.contains_key(name),
            "{name} not found in {families:?}"
        );
    }
    assert_eq!(problems(&doc(), &families), Vec::<String>::new());
}

#[test]
fn a_renamed_series_is_caught_both_ways() {
    let families = families(&expositions());
    let doc = doc();
    let renamed = doc.replace("`perfgate_http_latency_seconds`", "`perfgate_http_latency`");
    assert_ne!(renamed, doc);
    let found = problems(&renamed, &families);
    assert!(
        found.contains(
            &"`perfgate_http_latency_seconds` is exported but not in docs/metrics.md".to_owned()
        ),
        "{found:?}"
    );
    assert!(
        found
            .contains(&"`perfgate_http_latency` is in docs/metrics.md but not exported".to_owned()),
        "{found:?}"
    );
    let mut guessed = families.clone();
    guessed.insert(
        "perfgate_http_request_duration_seconds".to_owned(),
        "histogram".to_owned(),
    );
    let found = problems(&doc, &guessed);
    assert!(
        found.iter().any(|p| p.contains("though the doc says")),
        "{found:?}"
    );
}

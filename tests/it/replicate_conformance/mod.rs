//! Remote-write conformance of `perfgate replicate`, case by case after the official sender
//! compliance suite's case list (prometheus/compliance, `remotewrite/sender`), mapped to
//! Remote-Write 1.0: a real Prometheus source holds awkward series (upper-case label names,
//! Unicode and very long values, 10+ labels, special float values, a metric name with colons,
//! a series that ended), the `perfgate replicate` binary copies them into a recording receiver
//! (`receiver`), and every request it sent is checked against the sender rules (`rules`).
//! Scripted answers then drive the retry rules: 5xx retried with exponential back-off, 429
//! honouring `Retry-After`, other 4xx never retried, and a receiver that never answers cut
//! at `--timeout`. docs/replicate.md#conformance lists the cases.

mod receiver;
mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use perfgate::load::replicate::ReplicateOutcome;
use perfgate::prom::PromClient;
use perfgate::prom::remote_write::{
    BatchEncoder, Label, MetricMetadata, MetricType, RemoteWriter, RetryPolicy, STALE_NAN_BITS,
    Sample, SendOutcome, TimeSeries, WriteRequest, stale_nan,
};

use crate::support::stacks::{base_url, wait_series, with_stack};
use receiver::{Answer, Receiver, Script};
use rules::{Problems, Timeline};

const SPEC: &str = "
version: 1
name: replicate-conformance
stack:
  services:
    prometheus: { kind: prometheus, scrape_interval: 1s }
";

/// Every series in the source is `job="conformance"`; one `perfgate replicate` reads them.
const JOB: (&str, &str) = ("job", "conformance");
/// The replication labels of the main run: an upper-case name sorting before `__name__`, and
/// one some source series already carry (their value kept as a prefix).
const LABELS: [&str; 2] = ["Rwc=a,b", "Zone=2"];

/// One series written into the source: its labels (`__name__` included) and its one value.
struct Seeded {
    labels: Vec<(String, String)>,
    value: f64,
    /// Ends 30 s before the seeding time, with a staleness marker.
    ends: bool,
}

fn seeded(name: &str, labels: &[(&str, &str)], value: f64) -> Seeded {
    let mut all: Vec<(String, String)> = labels
        .iter()
        .chain(&[("__name__", name), JOB])
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    all.sort();
    Seeded {
        labels: all,
        value,
        ends: false,
    }
}

/// The awkward series of the source.
fn awkward_series() -> Vec<Seeded> {
    let long = "long-".repeat(2_048);
    let unicode = "Zürich 東京 🚀 \"quoted\" \\ back\nslash";
    let mut out = vec![
        seeded(
            "conformance_awkward",
            &[
                ("Zone", "x"),
                ("aaa", "1"),
                ("city", unicode),
                ("long", &long),
            ],
            1.0,
        ),
        seeded("conformance:ratio", &[("kind", "colon")], 0.25),
    ];
    let many: Vec<(String, String)> = (0..12)
        .map(|i| (format!("l{i:02}"), format!("v{i:02}")))
        .chain([("Upper".to_owned(), "U".to_owned())])
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    out.push(seeded("conformance_many", &many, 42.0));
    for (kind, value) in [
        ("nan", f64::NAN),
        ("pos_inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
        ("zero", 0.0),
        ("negative", -1.5),
        ("precise", 0.1 + 0.2),
        ("tiny", 5e-324),
        ("huge", f64::MAX),
    ] {
        out.push(seeded("conformance_special", &[("kind", kind)], value));
    }
    let mut ended = seeded("conformance_ended", &[("Zone", "y")], 7.0);
    ended.ends = true;
    out.push(ended);
    out
}

/// Writes the seeded series into the source: one sample a second over the last 50 s; the
/// ended one stops 30 s ago with a staleness marker.
async fn seed(source: &str, series: &[Seeded]) -> Result<(), String> {
    let now = (perfgate::clock::unix_now() * 1000.0) as i64;
    let timeseries = series
        .iter()
        .map(|s| {
            let last = if s.ends { 31 } else { 1 };
            let mut samples: Vec<Sample> = (last..=50)
                .rev()
                .map(|ago| Sample {
                    value: s.value,
                    timestamp: now - ago * 1000,
                })
                .collect();
            if s.ends {
                samples.push(Sample {
                    value: stale_nan(),
                    timestamp: now - 30_500,
                });
            }
            let labels = s.labels.iter().map(|(k, v)| Label::new(k, v)).collect();
            TimeSeries { labels, samples }
        })
        .collect();
    let request = WriteRequest {
        timeseries,
        metadata: vec![],
    };
    let writer = RemoteWriter::new(
        &format!("{source}/api/v1/write"),
        &[],
        RetryPolicy::default(),
    )
    .map_err(|e| e.to_string())?;
    let batch = BatchEncoder::new()
        .encode(&request)
        .map_err(|e| e.to_string())?;
    match writer.send(&batch).await {
        SendOutcome::Accepted { .. } => Ok(()),
        other => Err(format!("seeding the source: {other:?}")),
    }
}

/// One `perfgate replicate` run: its exit code, its outcome (`--json`) and how long it took.
struct CliRun {
    code: i32,
    outcome: ReplicateOutcome,
    took: Duration,
}

async fn replicate(source: &str, receiver: &Receiver, args: &[&str]) -> Result<CliRun, String> {
    let started = Instant::now();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["replicate", "--from", source, "--to", &receiver.url])
        .args(["--lookback", "60s", "--step", "1s", "--json", "--quiet"])
        .args(args)
        .output()
        .await
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    let outcome = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "no outcome ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok(CliRun {
        code: out.status.code().unwrap_or(-1),
        outcome,
        took,
    })
}

/// The narrow selection of the retry cases: one series, one request.
const ONE_SERIES: [&str; 6] = [
    "--match",
    r#"conformance_special{kind="zero"}"#,
    "--batch",
    "100000",
    "--concurrency",
    "1",
];

#[test]
fn replicate_follows_the_remote_write_sender_rules() {
    with_stack(SPEC, async |stack| {
        let source = base_url(stack, "prometheus");
        let series = awkward_series();
        seed(&source, &series).await?;
        // Metadata exists once Prometheus has scraped itself.
        let client = PromClient::from_url(&source);
        wait_series(
            &client,
            r#"prometheus_tsdb_head_series{job="prometheus"}"#,
            1,
        )
        .await?;
        wait_series(&client, r#"{job="conformance"}"#, series.len() - 1).await?;
        copies_follow_every_rule(&source, &series).await?;
        retries_follow_the_answers(&source).await?;
        the_timeout_is_kept(&source).await
    });
}

/// The main run: every request, series and sample follows the rules; the copies are complete
/// and their values bit-exact; the ended series ends with a staleness marker.
async fn copies_follow_every_rule(source: &str, series: &[Seeded]) -> Result<(), String> {
    let receiver = Receiver::start(Script {
        first: vec![Answer::status(204)],
        then: Some(Answer::with_body(
            200,
            "accepted; a body the sender ignores",
        )),
    })
    .await;
    let mut args = vec![
        "--match",
        r#"{job="conformance"}"#,
        "--match",
        r#"prometheus_tsdb_head_series{job="prometheus"}"#,
        "--batch",
        "50",
        "--concurrency",
        "2",
    ];
    for l in LABELS {
        args.extend(["--label", l]);
    }
    let run = replicate(source, &receiver, &args).await?;
    let o = &run.outcome;
    assert_eq!((run.code, o.samples_dropped), (0, 0), "{o:?}");
    assert_eq!((o.copies_per_series, o.stale_markers), (4, 1), "{o:?}");
    let mut p = Problems::default();
    let mut timeline = Timeline::new();
    let mut metadata = Vec::new();
    let mut batched = false;
    for r in receiver.requests() {
        let Some(request) = rules::protocol(&mut p, &r) else {
            continue;
        };
        batched |= request.timeseries.len() > 1;
        for ts in &request.timeseries {
            rules::series(&mut p, ts);
            rules::add(&mut timeline, ts);
        }
        metadata.extend(request.metadata);
    }
    p.check("batch_multiple_series", batched, || {
        "one series a request".into()
    });
    let now = (perfgate::clock::unix_now() * 1000.0) as i64;
    rules::timestamps(&mut p, &timeline, now);
    copies_are_complete(&mut p, &timeline, series);
    metadata_once_per_family(&mut p, &metadata);
    p.assert_none("the main run");
    let sent: usize = timeline.values().map(Vec::len).sum();
    assert_eq!(
        sent as u64, o.samples_written,
        "every sample written arrived once"
    );
    Ok(())
}

/// A copy's labels back to its source series': without `Rwc`, `Zone` back to the source's
/// value (`x-0` → `x`) or gone (`0`, `1`: added by the replication).
fn source_labels(copy: &[(String, String)]) -> BTreeSet<(String, String)> {
    copy.iter()
        .filter(|(k, v)| k != "Rwc" && !(k == "Zone" && (v == "0" || v == "1")))
        .map(|(k, v)| match (k.as_str(), v.rsplit_once('-')) {
            ("Zone", Some((source, _))) => (k.clone(), source.to_owned()),
            _ => (k.clone(), v.clone()),
        })
        .collect()
}

/// Every seeded series arrives as 4 copies (`Rwc` × `Zone`) with its labels exactly, every
/// sample bit-exact (NaN the ordinary NaN, ±Inf, the largest and the smallest float), one
/// step apart; the ended one, and only it, ends with a staleness marker one step after its
/// last sample.
fn copies_are_complete(p: &mut Problems, timeline: &Timeline, series: &[Seeded]) {
    let mut copies: BTreeMap<usize, usize> = BTreeMap::new();
    for (labels, samples) in timeline {
        if !labels.contains(&(JOB.0.to_owned(), JOB.1.to_owned())) {
            continue;
        }
        let source = source_labels(labels);
        let Some(i) = series
            .iter()
            .position(|s| s.labels.iter().cloned().collect::<BTreeSet<_>>() == source)
        else {
            p.check("label_completeness", false, || format!("{labels:?}"));
            continue;
        };
        *copies.entry(i).or_default() += 1;
        samples_are_exact(p, &series[i], samples);
    }
    let all = (0..series.len()).all(|i| copies.get(&i) == Some(&4));
    p.check("label_completeness", all, || {
        format!("copies per series: {copies:?}")
    });
}

fn samples_are_exact(p: &mut Problems, seeded: &Seeded, samples: &[(i64, u64)]) {
    let name = &seeded
        .labels
        .iter()
        .find(|(k, _)| k == "__name__")
        .expect("name")
        .1;
    let (data, marker) = match samples.split_last() {
        Some((last, rest)) if last.1 == STALE_NAN_BITS => (rest, Some(last)),
        _ => (samples, None),
    };
    let want = seeded.value.to_bits();
    let exact = data.iter().all(|(_, bits)| *bits == want);
    p.check("special_float_values_bit_exact", exact, || {
        format!("{name}: {data:?}, want {want:#x}")
    });
    let spaced = data.windows(2).all(|w| w[1].0 - w[0].0 == 1_000);
    p.check("timestamps_keep_the_step", spaced, || name.clone());
    p.check("stale_marker", marker.is_some() == seeded.ends, || {
        format!("{name}: marker {marker:?}")
    });
    if let (Some(m), Some(last)) = (marker, data.last()) {
        p.check(
            "stale_marker_after_last_sample",
            m.0 - last.0 == 1_000,
            || format!("{name}: marker at {}, last sample at {}", m.0, last.0),
        );
    }
}

/// The one scraped family the run selects: its metadata sent once, typed, with its help.
fn metadata_once_per_family(p: &mut Problems, metadata: &[MetricMetadata]) {
    let families: Vec<(&str, i32)> = metadata
        .iter()
        .map(|m| (m.metric_family_name.as_str(), m.r#type))
        .collect();
    p.check(
        "metadata_once_per_family",
        families == [("prometheus_tsdb_head_series", MetricType::Gauge as i32)],
        || format!("{families:?}"),
    );
    let described = metadata.iter().all(|m| !m.help.is_empty());
    p.check("help_metadata", described, || format!("{metadata:?}"));
}

/// Checks the protocol of every request of `receiver`; returns the bodies and arrival times.
fn attempts(receiver: &Receiver, case: &str) -> Vec<(Vec<u8>, Instant)> {
    let mut p = Problems::default();
    let out = receiver
        .requests()
        .into_iter()
        .inspect(|r| {
            rules::protocol(&mut p, r);
        })
        .map(|r| (r.body.to_vec(), r.at))
        .collect();
    p.assert_none(case);
    out
}

/// 5xx: retried with the same body, each wait at least twice the one before (50 ms first);
/// 429: retried after its `Retry-After`; other 4xx: never retried, the receiver's answer kept
/// verbatim; 2xx with a body: accepted.
async fn retries_follow_the_answers(source: &str) -> Result<(), String> {
    let receiver = Receiver::start(Script {
        first: vec![
            Answer::status(500),
            Answer::status(502),
            Answer::status(503),
        ],
        then: Some(Answer::status(204)),
    })
    .await;
    let run = replicate(source, &receiver, &ONE_SERIES).await?;
    assert_eq!((run.code, run.outcome.retries), (0, 3), "{:?}", run.outcome);
    let sent = attempts(&receiver, "retry_on_5xx");
    assert_eq!(sent.len(), 4, "three 5xx, then accepted");
    assert!(
        sent.iter().all(|(b, _)| *b == sent[0].0),
        "the same body every attempt"
    );
    for (i, w) in sent.windows(2).enumerate() {
        let gap = w[1].1 - w[0].1;
        assert!(
            gap >= Duration::from_millis(50 << i),
            "back-off {i}: {gap:?}"
        );
    }

    let mut throttled = Answer::with_body(429, "slow down");
    throttled.retry_after = Some("1");
    let receiver = Receiver::start(Script {
        first: vec![throttled],
        then: Some(Answer::status(204)),
    })
    .await;
    let run = replicate(source, &receiver, &ONE_SERIES).await?;
    assert_eq!((run.code, run.outcome.retries), (0, 1), "{:?}", run.outcome);
    let sent = attempts(&receiver, "retry_after_header_respected");
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].1 - sent[0].1 >= Duration::from_secs(1),
        "Retry-After: 1"
    );
    assert_eq!(sent[0].0, sent[1].0);
    for status in [400, 401, 404, 413] {
        no_retry_on(source, status).await?;
    }
    Ok(())
}

async fn no_retry_on(source: &str, status: u16) -> Result<(), String> {
    const REFUSAL: &str = "refused by the conformance receiver";
    let receiver = Receiver::start(Script::always(Answer::with_body(status, REFUSAL))).await;
    let run = replicate(source, &receiver, &ONE_SERIES).await?;
    let o = &run.outcome;
    assert_eq!(run.code, 6, "{status}: {o:?}");
    assert_eq!(attempts(&receiver, "no_retry_on_4xx").len(), 1, "{status}");
    assert_eq!(
        o.dropped.get("rejected"),
        Some(&o.source_samples),
        "{status}"
    );
    assert_eq!(
        o.messages,
        [format!("HTTP {status}: {REFUSAL}")],
        "verbatim"
    );
    Ok(())
}

/// A receiver that never answers: the run ends at `--timeout` (plus at most 1 s, and the
/// process' own start), and every sample read counts as dropped at the deadline.
async fn the_timeout_is_kept(source: &str) -> Result<(), String> {
    let receiver = Receiver::start(Script {
        first: vec![],
        then: None,
    })
    .await;
    let mut args = ONE_SERIES.to_vec();
    args.extend(["--timeout", "2s"]);
    let run = replicate(source, &receiver, &args).await?;
    let o = &run.outcome;
    assert_eq!(run.code, 6, "{o:?}");
    assert!(o.timed_out, "{o:?}");
    assert!(o.wall_duration < 3.0, "{o:?}");
    assert!(run.took < Duration::from_millis(3_500), "{:?}", run.took);
    assert_eq!(o.samples_written, 0);
    assert_eq!(o.dropped.get("deadline"), Some(&o.source_samples), "{o:?}");
    assert!(o.source_samples > 0);
    assert_eq!(attempts(&receiver, "request_timeout").len(), 1);
    Ok(())
}

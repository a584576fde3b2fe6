//! Asking Prometheus the spec's snapshot queries (at the end of their window) and one range
//! query per assertion over the whole run (the plots of report.html).

use std::time::Duration;

use super::store::{compare, read_body, snapshot_file};
use crate::prom::PromClient;
use crate::report::{Plot, RunRecord, SnapshotOutcome, SnapshotStatus, Window};
use crate::spec::{SnapshotQuery, Spec, expand_query};

/// Evaluates every snapshot query of `spec` and compares it with its stored file.
pub async fn collect_snapshots(
    client: &PromClient,
    spec: &Spec,
    record: &mut RunRecord,
    whole: Window,
) {
    for query in &spec.snapshots {
        let window = window_of(record, query.during.as_deref(), whole);
        let outcome = snapshot_outcome(client, spec, query, window).await;
        record.snapshots.push(outcome);
    }
}

async fn snapshot_outcome(
    client: &PromClient,
    spec: &Spec,
    query: &SnapshotQuery,
    window: Window,
) -> SnapshotOutcome {
    let length = Duration::from_secs_f64(window.seconds().max(0.001));
    let sent = expand_query(&query.query, length);
    let file = snapshot_file(&spec.snapshot_dir, &spec.name, &query.id);
    let mut outcome = SnapshotOutcome {
        id: query.id.clone(),
        name: query.name.clone(),
        template: query.query.trim().to_owned(),
        query: sent.clone(),
        during: query.during.clone(),
        window,
        tolerance: query.tolerance.to_string(),
        file: file.clone(),
        series: Vec::new(),
        status: SnapshotStatus::Error,
        changes: Vec::new(),
        contents: String::new(),
        error: None,
    };
    match client.query(&sent, Some(window.end)).await {
        Ok(value) => {
            let stored = read_body(&file);
            let comparison = compare(query, &value.series, stored.as_deref());
            outcome.series = value.series;
            outcome.status = comparison.status;
            outcome.changes = comparison.changes;
            outcome.contents = comparison.contents;
        }
        Err(e) => outcome.error = Some(e.to_string()),
    }
    outcome
}

/// One range query per assertion over `whole` at `step`, with `$phase` expanded as the
/// assertion's own verdict had it, so the plot shows the judged expression over time.
pub async fn collect_plots(
    client: &PromClient,
    spec: &Spec,
    record: &mut RunRecord,
    whole: Window,
    step: Duration,
) {
    let step = step.max(Duration::from_millis(100));
    let mut plots = Vec::new();
    // A `client:` assertion reads the engine's outcome: there is no query to plot.
    let from_engine = |id: &str| {
        spec.assertions
            .iter()
            .any(|a| a.id == id && a.client.is_some())
    };
    for verdict in record.verdicts.iter().filter(|v| !from_engine(&v.id)) {
        let (series, error) = match client
            .query_range(&verdict.query, whole.start, whole.end, step)
            .await
        {
            Ok(v) => (v.series, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        plots.push(Plot {
            id: verdict.id.clone(),
            query: verdict.query.clone(),
            window: whole,
            step_seconds: step.as_secs_f64(),
            series,
            error,
        });
    }
    record.plots = plots;
}

fn window_of(record: &RunRecord, during: Option<&str>, whole: Window) -> Window {
    during
        .and_then(|d| record.phases.iter().find(|p| p.name == d))
        .map_or(whole, |p| p.window)
}

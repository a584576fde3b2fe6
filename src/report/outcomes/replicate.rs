//! The summary of a replication (`perfgate replicate`): a pure rendering of its outcome.

use crate::load::replicate::ReplicateOutcome;

/// What `perfgate replicate` prints at the end: written, read, retried, dropped.
pub fn replicate_summary(o: &ReplicateOutcome) -> String {
    let verb = if o.dry_run { "would write" } else { "wrote" };
    let mut out = format!(
        "{verb} {} series, {} samples in {} requests ({:.1} KiB compressed, {:.1} KiB raw) in {:.2}s: {:.0} samples/s\n\
         source: {} metrics ({} excluded), {} series, {} samples; {} copies each; metadata of {} families\n",
        o.series_written,
        o.samples_written,
        o.requests,
        o.bytes_sent as f64 / 1024.0,
        o.bytes_uncompressed as f64 / 1024.0,
        o.wall_duration,
        o.achieved_rate,
        o.source_metrics,
        o.excluded_metrics,
        o.source_series,
        o.source_samples,
        o.copies_per_series,
        o.metadata_written,
    );
    if o.stale_markers > 0 {
        out.push_str(&format!(
            "staleness markers: {} (source series that ended inside the window)\n",
            o.stale_markers
        ));
    }
    if o.retries > 0 {
        out.push_str(&format!("retries: {}\n", o.retries));
    }
    if o.samples_dropped > 0 {
        let reasons: Vec<String> = o.dropped.iter().map(|(r, n)| format!("{r} {n}")).collect();
        out.push_str(&format!(
            "dropped {} samples: {}\n",
            o.samples_dropped,
            reasons.join(", ")
        ));
        for m in &o.messages {
            out.push_str(&format!("  {m}\n"));
        }
    }
    if o.timed_out {
        out.push_str("timed out before everything was sent\n");
    }
    out
}

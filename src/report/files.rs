//! Writing a run's report folder: report.json (the record) and summary.md.

use std::fmt::Write as _;
use std::path::Path;

use super::failure::failure_message;
use super::record::RunRecord;
use super::table::{phase_table, verdict_table};

/// Writes report.json and summary.md into `record.report_dir`.
pub fn write_report(record: &RunRecord) -> std::io::Result<()> {
    std::fs::create_dir_all(&record.report_dir)?;
    let json = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    std::fs::write(record.report_json(), json)?;
    std::fs::write(record.report_dir.join("summary.md"), summary(record))
}

pub fn read_record(path: &Path) -> std::io::Result<RunRecord> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(std::io::Error::other)
}

fn summary(record: &RunRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# perfgate run: {}\n", record.spec);
    let _ = writeln!(
        out,
        "spec `{}`, run `{}`, stack up in {} ms, every target scraped {} ms later\n",
        record.spec_path.display(),
        record.run_id,
        record.bring_up_ms,
        record.first_scrape_ms
    );
    if let Some(f) = &record.failure {
        let _ = writeln!(out, "**{:?}**: {}\n", f.kind, f.message);
    }
    let _ = writeln!(out, "## Stack\n");
    for s in &record.services {
        let tool = s.tool.as_deref().unwrap_or("built-in");
        let _ = writeln!(
            out,
            "- `{}` ({}, {tool}), ready after {} ms, log `{}`",
            s.name,
            s.kind,
            s.ready_after_ms,
            s.log.display()
        );
    }
    let _ = writeln!(
        out,
        "\n## Phases\n\n```\n{}\n```\n",
        phase_table(record, false)
    );
    let _ = writeln!(
        out,
        "## Assertions\n\n```\n{}\n```\n",
        verdict_table(record, false)
    );
    for v in &record.verdicts {
        if let Some(msg) = failure_message(record, v) {
            let _ = writeln!(out, "```\n{msg}\n```\n");
        }
    }
    out
}

//! Writing a run's report folder: report.json (the record), summary.md, junit.xml and
//! report.html.

use std::path::Path;

use super::html::report_html;
use super::junit::junit_xml;
use super::record::RunRecord;
use super::summary::summary_markdown;

/// Writes report.json, summary.md, junit.xml and report.html into `record.report_dir`.
pub fn write_report(record: &RunRecord) -> std::io::Result<()> {
    std::fs::create_dir_all(&record.report_dir)?;
    let json = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    std::fs::write(record.report_json(), json)?;
    std::fs::write(
        record.report_dir.join("summary.md"),
        summary_markdown(record),
    )?;
    std::fs::write(record.report_dir.join("junit.xml"), junit_xml(record))?;
    std::fs::write(record.report_dir.join("report.html"), report_html(record))
}

/// Reads a report.json, or the report.json inside a report folder.
pub fn read_record(path: &Path) -> std::io::Result<RunRecord> {
    let file = if path.is_dir() {
        path.join("report.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", file.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| std::io::Error::other(format!("{}: {e}", file.display())))
}

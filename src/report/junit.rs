//! junit.xml: one testcase per assertion and per snapshot, for CI systems that read JUnit.

use std::fmt::Write as _;

use super::failure::failure_message;
use super::record::{Failure, Outcome, RunRecord, SnapshotOutcome, SnapshotStatus, Verdict};
use super::snapshots::describe_snapshot;
use crate::clock::unix_to_utc;

/// A JUnit XML report of `record` (the Jenkins/Surefire dialect most CI systems read).
pub fn junit_xml(record: &RunRecord) -> String {
    let mut cases = Cases::default();
    for v in &record.verdicts {
        cases.verdict(record, v);
    }
    for s in &record.snapshots {
        cases.snapshot(&record.spec, s);
    }
    if let Some(f) = &record.failure {
        cases.run_failure(&record.spec, f);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    suite_header(&mut out, record, &cases);
    out.push_str(&cases.text);
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// The testcase elements written so far and their counts.
#[derive(Default)]
struct Cases {
    text: String,
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Cases {
    /// A testcase's opening tag, left open for a `/>` or a child element.
    fn open(&mut self, name: &str, classname: &str, seconds: f64) {
        self.tests += 1;
        let _ = write!(
            self.text,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
            esc(name),
            esc(classname),
            seconds.max(0.0)
        );
    }

    fn pass(&mut self) {
        self.text.push_str("/>\n");
    }

    /// A `<failure>` child and the testcase's closing tag (`message` is escaped here).
    fn failure(&mut self, message: &str, kind: &str, body: &str) {
        self.failures += 1;
        let _ = write!(
            self.text,
            ">\n      <failure message=\"{message}\" type=\"{kind}\">{}</failure>\n    </testcase>\n",
            esc(body)
        );
    }

    /// An `<error type="query">` child and the testcase's closing tag.
    fn query_error(&mut self, message: &str, body: &str) {
        self.errors += 1;
        let _ = write!(
            self.text,
            ">\n      <error message=\"{}\" type=\"query\">{}</error>\n    </testcase>\n",
            esc(message),
            esc(body)
        );
    }

    /// A `<skipped>` child (neither pass nor fail: INCONCLUSIVE) and the closing tag.
    fn inconclusive(&mut self, message: &str, body: &str) {
        self.skipped += 1;
        let _ = write!(
            self.text,
            ">\n      <skipped message=\"INCONCLUSIVE: {}\">{}</skipped>\n    </testcase>\n",
            esc(message),
            esc(body)
        );
    }

    fn verdict(&mut self, record: &RunRecord, v: &Verdict) {
        self.open(&v.id, &record.spec, v.window.seconds());
        let message = failure_message(record, v).unwrap_or_default();
        match &v.outcome {
            Outcome::Pass => self.pass(),
            Outcome::Fail { reasons } => {
                let first = reasons.first().map_or("gate failed", String::as_str);
                self.failure(&esc(first), "gate", &message);
            }
            Outcome::Error { message: short } => self.query_error(short, &message),
            Outcome::Inconclusive { reasons } => {
                let first = reasons.first().map_or("inconclusive", String::as_str);
                self.inconclusive(first, &message);
            }
        }
    }

    fn snapshot(&mut self, spec: &str, s: &SnapshotOutcome) {
        self.open(&format!("snapshot::{}", s.id), spec, s.window.seconds());
        match s.status {
            SnapshotStatus::Unchanged => self.pass(),
            SnapshotStatus::Changed | SnapshotStatus::New => {
                let message = if s.status == SnapshotStatus::New {
                    "snapshot is new"
                } else {
                    "snapshot changed beyond tolerance"
                };
                self.failure(message, "snapshot", &describe_snapshot(s));
            }
            SnapshotStatus::Error => {
                let short = s.error.as_deref().unwrap_or("query failed");
                self.query_error(short, short);
            }
        }
    }

    /// The run's own failure, as a testcase named `run`.
    fn run_failure(&mut self, spec: &str, f: &Failure) {
        self.tests += 1;
        self.errors += 1;
        let _ = write!(
            self.text,
            "    <testcase name=\"run\" classname=\"{}\" time=\"0\">\n      <error message=\"{}\" type=\"{:?}\">{}</error>\n    </testcase>\n",
            esc(spec),
            esc(&f.message),
            f.kind,
            esc(&f.message)
        );
    }
}

/// The `<testsuites>` and `<testsuite>` opening tags with the counts, and the run's properties.
fn suite_header(out: &mut String, record: &RunRecord, cases: &Cases) {
    let Cases {
        tests,
        failures,
        errors,
        skipped,
        ..
    } = cases;
    let time = record
        .phases
        .iter()
        .map(|p| p.window.seconds())
        .sum::<f64>()
        .max(0.0);
    let timestamp = unix_to_utc(record.started_at)
        .trim_end_matches(" UTC")
        .replacen(' ', "T", 1);
    let timestamp = timestamp.split('.').next().unwrap_or_default();
    let _ = writeln!(
        out,
        "<testsuites name=\"perfgate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\" timestamp=\"{timestamp}\">",
        esc(&record.spec)
    );
    let _ = writeln!(
        out,
        "    <properties>\n      <property name=\"run_id\" value=\"{}\"/>\n      <property name=\"report\" value=\"{}\"/>\n    </properties>",
        esc(&record.run_id),
        esc(&record.report_json().display().to_string())
    );
}

/// XML text and attribute escaping; control characters XML 1.0 forbids are dropped.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

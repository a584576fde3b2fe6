//! The report files of a fixed run record: report.json against docs/report.schema.json,
//! junit.xml read by an XML parser, summary.md as an insta snapshot, report.html rendered by
//! headless Chromium (a screenshot that must not be blank), and `perfgate diff`.

use std::path::{Path, PathBuf};
use std::process::Command;

use perfgate::report::{
    RunRecord, diff_records, junit_xml, read_record, report_html, summary_markdown,
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> RunRecord {
    read_record(&root().join("fixtures/reports").join(name)).expect("fixture report.json")
}

fn schema_errors(instance: &serde_json::Value) -> Result<(), String> {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("report.schema.json", schema)
        .map_err(|e| e.to_string())?;
    let index = compiler
        .compile("report.schema.json", &mut schemas)
        .map_err(|e| format!("{e:#}"))?;
    schemas
        .validate(instance, index)
        .map_err(|e| format!("{e:#}"))
}

#[test]
fn report_json_follows_its_documented_schema() {
    for name in ["fast", "slow"] {
        let record = fixture(name);
        let json = serde_json::to_value(&record).unwrap();
        schema_errors(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The schema is strict enough to catch a wrong shape.
    let mut broken = serde_json::to_value(fixture("slow")).unwrap();
    broken["verdicts"][0]["outcome"] = serde_json::json!({ "verdict": "maybe" });
    assert!(schema_errors(&broken).is_err());
    broken = serde_json::to_value(fixture("slow")).unwrap();
    broken["snapshots"][0]["status"] = serde_json::json!("different");
    assert!(schema_errors(&broken).is_err());
}

#[test]
fn junit_xml_has_one_testcase_per_assertion_and_snapshot() {
    let record = fixture("slow");
    let xml = junit_xml(&record);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let suite = suites
        .children()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some("snapdemo"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert_eq!(
        names,
        [
            "p50_near_baseline",
            "p99_under_1s",
            "snapshot::p50_latency_per_endpoint"
        ]
    );
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .filter_map(|c| c.attribute("name"))
        .collect();
    assert_eq!(
        failed,
        ["p50_near_baseline", "snapshot::p50_latency_per_endpoint"]
    );
    assert_eq!(suite.attribute("tests"), Some("3"));
    assert_eq!(suite.attribute("failures"), Some("2"));
    let failure = cases[0]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(failure.text().unwrap().contains(r#"endpoint="/api/users""#));
}

#[test]
fn summary_md_of_a_fixed_record() {
    insta::assert_snapshot!("summary_slow", summary_markdown(&fixture("slow")));
}

#[test]
fn diff_names_values_changes_and_flipped_gates() {
    let outcome = diff_records(&fixture("fast"), &fixture("slow"), false);
    assert_eq!(outcome.flipped, ["p50_near_baseline"]);
    insta::assert_snapshot!("diff_fast_slow", outcome.text);
    let same = diff_records(&fixture("slow"), &fixture("slow"), false);
    assert!(same.flipped.is_empty());
}

#[test]
fn perfgate_diff_exits_non_zero_when_a_gate_flipped() {
    let dir = root().join("fixtures/reports");
    let out = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["diff", "fast", "slow/report.json"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ERROR → FAIL"), "{text}");
    assert!(text.contains("0.085 → 0.187637"), "{text}");
    let same = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["diff", "slow", "slow"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0));
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

#[test]
fn report_html_renders_to_a_non_blank_screenshot() {
    let record = fixture("slow");
    let html = report_html(&record);
    assert_eq!(html.matches("<svg").count(), record.plots.len());
    assert!(html.contains("class=\"threshold\""));
    assert!(html.contains("class=\"phase\""));
    assert!(!html.contains("<script"));
    let Some(browser) = chromium() else {
        let message = "SKIPPED: report_html_renders_to_a_non_blank_screenshot needs headless \
                       Chromium (apt-get install -y chromium); .ci/run installs it";
        eprintln!("\n{}\n{message}\n{}\n", "!".repeat(80), "!".repeat(80));
        assert!(std::env::var_os("CI").is_none(), "{message}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let shot = dir.path().join("shot.png");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=900,900",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let total = pixels.len() / channels;
    let ink = pixels
        .chunks(channels)
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    let colored = pixels
        .chunks(channels)
        .filter(|p| {
            let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
            (r - g).abs() > 60 || (g - b).abs() > 60 || (r - b).abs() > 60
        })
        .count();
    // Text, axes and lines: a blank or failed page has next to no dark pixels; the plots and
    // verdict badges bring colour.
    assert!(
        ink * 100 > total,
        "screenshot looks blank: {ink} of {total} pixels inked"
    );
    assert!(colored > 500, "no coloured pixels: {colored}");
}

#[test]
fn an_inconclusive_verdict_is_neither_pass_nor_fail_in_every_report() {
    use perfgate::Exit;
    use perfgate::report::Outcome;
    let mut record = fixture("slow");
    for v in &mut record.verdicts {
        v.outcome = Outcome::Pass;
    }
    record.snapshots.clear();
    assert_eq!(record.exit(), Exit::Success);
    record.verdicts[0].outcome = Outcome::Inconclusive {
        reasons: vec!["the interval 0.93..1.18 straddles the tolerance 1.10".into()],
    };
    assert_eq!(record.exit(), Exit::Inconclusive);
    assert_eq!(Exit::Inconclusive as u8, 7);

    schema_errors(&serde_json::to_value(&record).unwrap()).unwrap();
    let xml = junit_xml(&record);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("skipped"), Some("1"), "{xml}");
    assert_eq!(suite.attribute("failures"), Some("0"), "{xml}");
    let skipped = doc
        .descendants()
        .find(|n| n.has_tag_name("skipped"))
        .unwrap();
    assert!(
        skipped
            .attribute("message")
            .unwrap()
            .starts_with("INCONCLUSIVE: the interval"),
        "{xml}"
    );
    let summary = summary_markdown(&record);
    assert!(summary.contains("INCONCLUSIVE"), "{summary}");
    assert!(summary.contains("gate inconclusive"), "{summary}");
    assert!(report_html(&record).contains("badge inconclusive"));

    // A failure elsewhere outranks it.
    record.verdicts[1].outcome = Outcome::Fail {
        reasons: vec!["too slow".into()],
    };
    assert_eq!(record.exit(), Exit::GateFailed);
}

#[test]
fn a_phase_s_noise_is_saved_read_back_and_marked_when_disturbed() {
    use perfgate::report::{PhaseNoise, phase_table, read_record, write_report};
    let mut record = fixture("slow");
    let quiet = PhaseNoise {
        cpu_busy_percent: 41.0,
        steal_percent: 0.4,
        iowait_percent: 0.0,
        load_average: 1.2,
        perfgate_cpu_percent: 18.0,
        dispatch_lag_p99_ms: Some(0.8),
        disturbed: Vec::new(),
    };
    let busy = PhaseNoise {
        dispatch_lag_p99_ms: Some(12.3),
        disturbed: vec!["dispatch lag p99 12.3 ms above the 5 ms limit".into()],
        ..quiet.clone()
    };
    let mut second = record.phases[0].clone();
    second.name = "busy".into();
    record.phases[0].noise = Some(quiet);
    second.noise = Some(busy);
    record.phases.push(second);
    let json = serde_json::to_value(&record).unwrap();
    schema_errors(&json).unwrap();
    assert!(
        json["phases"][0]["noise"].get("disturbed").is_none(),
        "an empty list is left out"
    );
    let mut broken = json.clone();
    broken["phases"][0]["noise"]["steal"] = serde_json::json!(1.0);
    assert!(schema_errors(&broken).is_err());

    let dir = tempfile::tempdir().unwrap();
    record.report_dir = dir.path().to_owned();
    write_report(&record).unwrap();
    assert_eq!(read_record(&record.report_json()).unwrap(), record);

    let table = phase_table(&record, false);
    assert!(table.contains("machine"), "{table}");
    assert!(
        table.contains("quiet: lag p99 0.8 ms, steal 0.4 %, perfgate 18 % CPU"),
        "{table}"
    );
    assert!(
        table.contains("DISTURBED: dispatch lag p99 12.3 ms"),
        "{table}"
    );
    // Records without noise keep the table they had.
    assert!(!phase_table(&fixture("slow"), false).contains("machine"));
}

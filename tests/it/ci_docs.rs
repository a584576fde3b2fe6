//! The CI examples of docs/ci.md read as a user's CI would read them: docs/ci/github-actions.yml,
//! docs/ci/gitlab-ci.yml and docs/ci/compare.yaml parse, hold the steps that make them a
//! perfgate gate (base checkout, caches, the run, JUnit report, report artifact, baseline job),
//! and every `perfgate <subcommand> --flag` their scripts use is one the binary knows.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_yaml_ng::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn load(rel: &str) -> Value {
    serde_yaml_ng::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

/// `v[key]` as text, or "" when absent or not a string.
fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `v[key]` as a list of texts: a sequence, or a string split into lines (a `path: |` list).
fn texts(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.lines().map(|l| l.trim().to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// The last path component of an environment value (`${{ github.workspace }}/perfgate-out`).
fn last_component(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

fn github_steps(job: &Value) -> Vec<&Value> {
    job.get("steps")
        .and_then(Value::as_sequence)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

fn uses<'a>(steps: &[&'a Value], action: &str) -> Vec<&'a Value> {
    steps
        .iter()
        .copied()
        .filter(|s| text(s, "uses").starts_with(&format!("{action}@")))
        .collect()
}

fn with(step: &Value) -> &Value {
    step.get("with").unwrap_or(&Value::Null)
}

fn github_job<'a>(workflow: &'a Value, running: &str) -> (&'a str, &'a Value) {
    let jobs = workflow
        .get("jobs")
        .and_then(Value::as_mapping)
        .expect("jobs:");
    jobs.iter()
        .find(|(_, job)| {
            github_steps(job)
                .iter()
                .any(|s| text(s, "run").contains(running))
        })
        .map(|(name, job)| (name.as_str().unwrap_or("?"), job))
        .unwrap_or_else(|| panic!("no job has a step running `{running}`"))
}

#[test]
fn the_github_workflow_gates_a_pull_request_against_its_target_branch() {
    let workflow = load("docs/ci/github-actions.yml");
    let on = workflow.get("on").expect("on:");
    assert!(on.get("pull_request").is_some(), "on: pull_request");
    assert!(on.get("push").is_some(), "on: push (the main baseline)");
    let env = workflow.get("env").expect("workflow env:");
    let out_root = last_component(text(env, "PERFGATE_OUT"));
    assert!(
        !out_root.is_empty(),
        "env: PERFGATE_OUT names the report root"
    );

    let (name, job) = github_job(&workflow, "perfgate run --quiet perf/compare.yaml");
    assert!(!text(job, "runs-on").is_empty(), "job `{name}` has runs-on");
    let steps = github_steps(job);
    let checkouts = uses(&steps, "actions/checkout");
    assert!(
        checkouts
            .iter()
            .any(|s| text(with(s), "path") == "base" && text(with(s), "ref").contains("base")),
        "job `{name}` checks the target branch out into base/"
    );
    check_github_caches(env, &steps);
    let run = steps
        .iter()
        .find(|s| text(s, "run").contains("perfgate run"))
        .expect("a perfgate run step");
    assert!(
        text(run, "run").contains("-eq 7"),
        "the run step treats exit 7 (INCONCLUSIVE) on its own"
    );
    check_github_reports(&steps, out_root);
}

fn check_github_caches(env: &Value, steps: &[&Value]) {
    let tool_cache = text(env, "PERFGATE_CACHE_DIR");
    assert!(!tool_cache.is_empty(), "env: PERFGATE_CACHE_DIR");
    let cached: Vec<String> = uses(steps, "actions/cache")
        .iter()
        .flat_map(|s| texts(with(s), "path"))
        .collect();
    for wanted in ["~/.cargo/registry/index", "target", "base/target"] {
        assert!(
            cached.iter().any(|p| p == wanted),
            "{wanted} is cached: {cached:?}"
        );
    }
    assert!(
        cached
            .iter()
            .any(|p| p == "${{ env.PERFGATE_CACHE_DIR }}" || p == tool_cache),
        "perfgate's tool cache is cached: {cached:?}"
    );
}

fn check_github_reports(steps: &[&Value], out_root: &str) {
    let junit: Vec<&Value> = ["mikepenz/action-junit-report", "dorny/test-reporter"]
        .iter()
        .flat_map(|a| uses(steps, a))
        .collect();
    let [junit] = junit.as_slice() else {
        panic!("one JUnit publishing step, found {}", junit.len());
    };
    let paths = [text(with(junit), "report_paths"), text(with(junit), "path")].concat();
    assert!(
        paths.starts_with(out_root) && paths.ends_with("junit.xml"),
        "the JUnit step reads {out_root}/…/junit.xml, not `{paths}`"
    );
    assert!(
        text(junit, "if").contains("always()"),
        "JUnit also on failure"
    );
    let uploads = uses(steps, "actions/upload-artifact");
    assert!(
        uploads.iter().any(|s| text(s, "if").contains("always()")
            && texts(with(s), "path")
                .iter()
                .any(|p| p.trim_end_matches('/') == out_root)),
        "the report folder {out_root}/ is uploaded with if: always()"
    );
}

#[test]
fn the_github_workflow_keeps_a_main_baseline_that_pull_requests_restore() {
    let workflow = load("docs/ci/github-actions.yml");
    let (name, job) = github_job(&workflow, "--save-baseline main");
    assert!(
        text(job, "if").contains("refs/heads/main"),
        "job `{name}` runs on main only"
    );
    let saves = uses(&github_steps(job), "actions/cache/save");
    let [save] = saves.as_slice() else {
        panic!("job `{name}` saves the baseline with actions/cache/save once");
    };
    assert_eq!(text(with(save), "path"), "${{ env.PERFGATE_BASELINES }}");
    let key = text(with(save), "key");
    let prefix = &key[..key.find("${{").unwrap_or(key.len())];

    let (_, compare) = github_job(&workflow, "perfgate run --quiet perf/compare.yaml");
    let restores = uses(&github_steps(compare), "actions/cache/restore");
    assert!(
        restores
            .iter()
            .any(|s| text(with(s), "path") == text(with(save), "path")
                && text(with(s), "restore-keys") == prefix),
        "the pull-request job restores the baseline the main job saves (`{prefix}`)"
    );
}

// ---------------------------------------------------------------------------------------------
// GitLab CI

/// A job with its `extends:` template merged in (one level, job keys win), as GitLab does.
fn gitlab_job(pipeline: &Value, name: &str) -> BTreeMap<String, Value> {
    let job = pipeline.get(name).unwrap_or_else(|| panic!("job {name}"));
    let mut merged = BTreeMap::new();
    if let Some(parent) = job.get("extends").and_then(Value::as_str) {
        merged = gitlab_job(pipeline, parent);
    }
    for (k, v) in job.as_mapping().expect("a job is a mapping") {
        merged.insert(k.as_str().unwrap_or("").to_owned(), v.clone());
    }
    merged
}

/// Every line a job's shell runs: `before_script`, then `script`.
fn gitlab_script(job: &BTreeMap<String, Value>) -> String {
    ["before_script", "script"]
        .iter()
        .filter_map(|k| job.get(*k).and_then(Value::as_sequence))
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

fn gitlab_job_running(pipeline: &Value, running: &str) -> BTreeMap<String, Value> {
    let names = pipeline
        .as_mapping()
        .expect("a pipeline is a mapping")
        .keys();
    names
        .filter_map(Value::as_str)
        .filter(|n| !n.starts_with('.'))
        .map(|n| gitlab_job(pipeline, n))
        .find(|job| gitlab_script(job).contains(running))
        .unwrap_or_else(|| panic!("no job runs `{running}`"))
}

fn check_gitlab_caches(job: &BTreeMap<String, Value>, tool_cache: &str) {
    let cached: Vec<String> = job
        .get("cache")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .flat_map(|c| texts(c, "paths"))
        .collect();
    for wanted in [tool_cache, ".cargo/registry/index", "target", "base/target"] {
        assert!(
            cached.iter().any(|p| p.trim_end_matches('/') == wanted),
            "{wanted} is cached: {cached:?}"
        );
    }
}

#[test]
fn the_gitlab_jobs_publish_junit_and_the_report_folder_always() {
    let pipeline = load("docs/ci/gitlab-ci.yml");
    let variables = pipeline.get("variables").expect("variables:");
    let out_root = last_component(text(variables, "PERFGATE_OUT"));
    let tool_cache = last_component(text(variables, "PERFGATE_CACHE_DIR"));
    for running in [
        "perfgate run --quiet perf/compare.yaml",
        "--save-baseline main",
    ] {
        let job = gitlab_job_running(&pipeline, running);
        let script = gitlab_script(&job);
        assert!(
            script.contains("cargo install --locked"),
            "installs perfgate"
        );
        let artifacts = job.get("artifacts").expect("artifacts:");
        assert_eq!(
            text(artifacts, "when"),
            "always",
            "`{running}`: artifacts also on failure"
        );
        let paths = texts(artifacts, "paths");
        assert!(
            paths.iter().any(|p| p.trim_end_matches('/') == out_root),
            "{paths:?}"
        );
        let junit = artifacts.get("reports").map_or("", |r| text(r, "junit"));
        assert!(
            junit.starts_with(out_root) && junit.ends_with("junit.xml"),
            "`{running}`: reports: junit: {out_root}/…/junit.xml, not `{junit}`"
        );
        let allowed: Vec<u64> = job
            .get("allow_failure")
            .and_then(|a| a.get("exit_codes"))
            .and_then(Value::as_sequence)
            .map(|s| s.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        assert_eq!(
            allowed,
            [7],
            "`{running}`: exit 7 (INCONCLUSIVE) only may fail"
        );
        check_gitlab_caches(&job, tool_cache);
    }
    let baseline = gitlab_job_running(&pipeline, "--save-baseline main");
    let kept = baseline.get("artifacts").map(|a| texts(a, "paths"));
    assert!(
        kept.is_some_and(|p| p.iter().any(|p| p == ".perfgate-baselines/")),
        "the baseline job keeps $PERFGATE_BASELINES as an artifact"
    );
}

// ---------------------------------------------------------------------------------------------
// perfgate's own command line, as the scripts call it

/// Every `perfgate <subcommand> --flag…` a script runs: `perfgate` in command position (start
/// of a line or after `;`, `&&`, `||`, `|`, `(`), its subcommand and its `--flags`.
fn perfgate_calls(script: &str) -> Vec<(String, Vec<String>)> {
    const BREAKS: [&str; 6] = [";", "&&", "||", "|", "then", "do"];
    let mut calls = Vec::new();
    for line in script.replace("\\\n", " ").lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            let at_start = i == 0
                || BREAKS.contains(&words[i - 1])
                || words[i - 1].ends_with(';')
                || words[i - 1] == "(";
            if *word != "perfgate" || !at_start {
                continue;
            }
            let Some(sub) = words.get(i + 1) else {
                continue;
            };
            let flags = words[i + 2..]
                .iter()
                .take_while(|w| !BREAKS.contains(*w))
                .filter(|w| w.starts_with("--"))
                .map(|w| w.split('=').next().unwrap_or_default().to_owned())
                .collect();
            calls.push(((*sub).to_owned(), flags));
        }
    }
    calls
}

fn github_script(workflow: &Value) -> String {
    let jobs = workflow.get("jobs").and_then(Value::as_mapping);
    jobs.into_iter()
        .flat_map(|jobs| jobs.values())
        .flat_map(github_steps)
        .map(|s| text(s, "run"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_perfgate_flag_the_workflows_use_is_real() {
    let github = github_script(&load("docs/ci/github-actions.yml"));
    let gitlab_pipeline = load("docs/ci/gitlab-ci.yml");
    let gitlab = [
        "perfgate run --quiet perf/compare.yaml",
        "--save-baseline main",
    ]
    .map(|running| gitlab_script(&gitlab_job_running(&gitlab_pipeline, running)))
    .join("\n");
    let mut help: BTreeMap<String, String> = BTreeMap::new();
    for (file, script) in [("github-actions.yml", github), ("gitlab-ci.yml", gitlab)] {
        let calls = perfgate_calls(&script);
        assert!(
            calls.len() >= 2,
            "{file}: a comparison and a baseline run, got {calls:?}"
        );
        assert!(
            calls
                .iter()
                .any(|(_, f)| f.contains(&"--save-baseline".to_owned())),
            "{file}: {calls:?}"
        );
        for (sub, flags) in calls {
            let usage = help.entry(sub.clone()).or_insert_with(|| help_of(&sub));
            for flag in flags {
                assert!(
                    usage
                        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
                        .any(|w| w == flag),
                    "{file}: `perfgate {sub} {flag}` is not in `perfgate {sub} --help`:\n{usage}"
                );
            }
        }
    }
}

fn help_of(sub: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args([sub, "--help"])
        .env("NO_COLOR", "1")
        .output()
        .expect("perfgate runs");
    assert!(
        out.status.success(),
        "`perfgate {sub} --help` fails: no such subcommand"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn script_calls_are_found_in_command_position_only() {
    let calls = perfgate_calls(
        "code=0\nperfgate run --quiet a.yaml || code=$?\n(cd x && perfgate diff --x=1 a b)\n\
         echo \"title=perfgate::perfgate run\"\ncargo install --git u perfgate",
    );
    assert_eq!(
        calls,
        [
            ("run".to_owned(), vec!["--quiet".to_owned()]),
            ("diff".to_owned(), vec!["--x".to_owned()]),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The comparison spec and the page

#[test]
fn the_comparison_spec_compares_a_base_and_a_candidate() {
    // perfgate itself accepts it (loading starts nothing, so `my-api` need not exist): the stack
    // holds the base and its candidate copy.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci/compare.yaml");
    let parsed = perfgate::spec::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let comparison = parsed.comparison.as_ref().expect("a comparison");
    assert!(
        parsed
            .stack
            .services
            .contains_key(&comparison.candidate_service)
    );
    let spec = load("docs/ci/compare.yaml");
    let compare = spec.get("compare").expect("compare:");
    let service = text(compare, "service");
    let services = spec.get("stack").and_then(|s| s.get("services"));
    let compared = services.and_then(|s| s.get(service));
    assert_eq!(
        compared.map(|s| text(s, "kind")),
        Some("process"),
        "`{service}`"
    );
    for (side, dir) in [("base", "./base/target/"), ("candidate", "./target/")] {
        let command = compare.get(side).map(|s| texts(s, "command"));
        let program = command.as_ref().and_then(|c| c.first());
        assert!(
            program.is_some_and(|p| p.starts_with(dir)),
            "compare.{side}.command runs the build in {dir}: {command:?}"
        );
    }
    let asserts = spec
        .get("assert")
        .and_then(Value::as_sequence)
        .expect("assert:");
    let expects: Vec<&str> = asserts.iter().map(|a| text(a, "expect")).collect();
    assert!(
        expects.iter().any(|e| e.starts_with("candidate ")),
        "{expects:?}"
    );
    assert!(
        expects.iter().any(|e| e.ends_with("above baseline")),
        "{expects:?}"
    );
}

#[test]
fn the_ci_page_names_existing_files_and_the_readme_links_it() {
    let page = read("docs/ci.md");
    for file in [
        "ci/github-actions.yml",
        "ci/gitlab-ci.yml",
        "ci/compare.yaml",
    ] {
        assert!(
            page.contains(&format!("]({file}")),
            "docs/ci.md links {file}"
        );
        assert!(
            root().join("docs").join(file).is_file(),
            "docs/{file} exists"
        );
    }
    assert!(
        read("README.md").contains("](docs/ci.md)"),
        "README links docs/ci.md"
    );
}

//! `compare:`: the two variants it builds, and every problem located where it is written.

use std::path::Path;

use indoc::indoc;
use rstest::rstest;

use super::tests::errors;
use super::*;

/// A valid comparison of `api` with `{services}`, `{compare}` and `{assert}` slots.
fn spec(services: &str, compare: &str, assert: &str) -> String {
    format!(
        indoc! {"
            stack:
              services:
                prometheus: {{ kind: prometheus }}
                api: {{ kind: demo-api, seed: 7, cpu_factor: 1.5 }}
            {}
            compare:
              service: api
            {}
            load:
              - phase: steady
                http: {{ target: api, rate: 10/s, duration: 5s, mix: [{{ get: /api/work }}] }}
            assert:
              - name: cpu
                during: steady
                query: sum(rate(process_cpu_seconds_total[$phase]))
            {}
        "},
        services, compare, assert
    )
}

const CANDIDATE: &str = "  base: { cpu_factor: 1.0 }\n  candidate: { cpu_factor: 1.2 }";
const CLAIM: &str = "    expect: candidate at most 10% above base";

fn cpu_factor(spec: &Spec, name: &str) -> (f64, u64) {
    match &spec.stack.services[name].kind {
        ServiceKind::DemoApi(d) => (d.cpu_factor, d.seed),
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn a_demo_api_is_doubled_with_merged_keys() {
    let source = spec("", CANDIDATE, CLAIM);
    let parsed = parse(&source, Path::new("c.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = parsed.stack.services.keys().map(String::as_str).collect();
    assert_eq!(names, ["prometheus", "api", "api-candidate"]);
    assert_eq!(parsed.stack.services["api-candidate"].name, "api-candidate");
    // Both start from the service's own keys (the seed); each sets its own factor.
    assert_eq!(cpu_factor(&parsed, "api"), (1.0, 7));
    assert_eq!(cpu_factor(&parsed, "api-candidate"), (1.2, 7));
    let expected = Comparison {
        service: "api".into(),
        candidate_service: "api-candidate".into(),
        repeat: DEFAULT_REPEAT,
        seed: 0,
    };
    assert_eq!(parsed.comparison, Some(expected));
    let Expectation::Versus(claim) = parsed.assertions[0].expect else {
        panic!("{:?}", parsed.assertions[0].expect)
    };
    assert_eq!((claim.side, claim.confidence), (Side::Above, 0.95));
}

#[test]
fn without_base_the_base_is_the_service_as_written() {
    let compare = "  candidate: { cpu_factor: 3 }\n  repeat: 10\n  seed: 42";
    let parsed = parse(&spec("", compare, CLAIM), Path::new("c.yaml")).unwrap();
    assert_eq!(cpu_factor(&parsed, "api"), (1.5, 7));
    assert_eq!(cpu_factor(&parsed, "api-candidate"), (3.0, 7));
    let comparison = parsed.comparison.unwrap();
    assert_eq!((comparison.repeat, comparison.seed), (10, 42));
}

#[test]
fn a_process_candidate_runs_its_own_command() {
    let source = indoc! {"
        stack:
          services:
            prometheus: { kind: prometheus }
            web:
              kind: process
              command: [./server-v1, '{{port.http}}']
              ports: { http: 0 }
              env: { MODE: fast }
            db: { kind: demo-api }
        compare:
          service: web
          candidate:
            command: [./server-v2, '{{port.http}}']
        load:
          - { phase: steady, http: { target: web, rate: 1/s, duration: 1s, mix: [{ get: / }] } }
        assert:
          - { name: p99, query: up, expect: candidate within 5% of base (90%) }
    "};
    let parsed = parse(source, Path::new("p.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = parsed.stack.services.keys().map(String::as_str).collect();
    assert_eq!(names, ["prometheus", "web", "web-candidate", "db"]);
    let process = |name: &str| match &parsed.stack.services[name].kind {
        ServiceKind::Process(p) => p.clone(),
        other => panic!("{name} is {other:?}"),
    };
    let (base, candidate) = (process("web"), process("web-candidate"));
    assert_eq!(base.command, ["./server-v1", "{{port.http}}"]);
    assert_eq!(candidate.command, ["./server-v2", "{{port.http}}"]);
    assert_eq!(candidate.env, base.env);
    assert_eq!(candidate.ports, base.ports);
}

#[rstest]
#[case::unknown_service(
    "",
    "  candidate: { cpu_factor: 1.2 }",
    "7:12 unknown service `apx` (hint: did you mean `api`?)"
)]
#[case::not_comparable(
    "",
    "  candidate: { scrape_interval: 2s }",
    "7:12 service `prometheus` is a `prometheus`, which cannot be compared (hint: compare a service of kind `demo-api`, `process`)"
)]
#[case::name_clash(
    "    api-candidate: { kind: demo-api }",
    "  candidate: { cpu_factor: 1.2 }",
    "7:12 the candidate of `api` is named `api-candidate`, but the stack already has a service of that name (hint: rename the service `api-candidate`)"
)]
#[case::candidate_not_a_mapping(
    "",
    "  candidate: 1.2",
    "8:14 `candidate` must be a mapping of the service's keys that it changes (hint: e.g. `candidate: { cpu_factor: 1.2 }`)"
)]
#[case::base_not_a_mapping(
    "",
    "  base: [cpu_factor]\n  candidate: {}",
    "8:3 `base` must be a mapping of the service's keys that it changes (hint: e.g. `base: { cpu_factor: 1.2 }`)"
)]
#[case::kind_changed(
    "",
    "  candidate: { kind: process, command: [x] }",
    "8:16 `candidate` cannot change the service's `kind` (hint: both variants are the compared service's kind; remove `kind`)"
)]
#[case::candidate_missing("", "  repeat: 3", "6:1 missing field `candidate`")]
#[case::repeat_too_few(
    "",
    "  candidate: {}\n  repeat: 1",
    "9:11 `repeat` is 1; a comparison runs 2 to 50 pairs (hint: 5 unless told otherwise)"
)]
#[case::repeat_too_many(
    "",
    "  candidate: {}\n  repeat: 51",
    "9:11 `repeat` is 51; a comparison runs 2 to 50 pairs (hint: 5 unless told otherwise)"
)]
#[case::bad_value_in_candidate(
    "",
    "  candidate:\n    cpu_factor: 0",
    "9:17 `cpu_factor` must be a number > 0 and ≤ 100, got 0 (hint: 1.0 is the documented work per request; 1.2 seeds 20 % more CPU)"
)]
#[case::unknown_key_in_candidate(
    "",
    "  candidate: { cpu_factr: 1.2 }",
    "8:16 unknown field `cpu_factr`, expected one of `kind`, `seed`, `latency_factor`, `error_factor`, `cpu_factor`, `otlp`, `export_interval` (hint: did you mean `cpu_factor`?)"
)]
#[case::bad_value_in_base(
    "",
    "  base: { latency_factor: -1 }\n  candidate: {}",
    "8:27 `latency_factor` must be a number ≥ 0 (hint: 1.0 is the documented behaviour)"
)]
fn compare_problems(#[case] services: &str, #[case] compare: &str, #[case] expected: &str) {
    let mut source = spec(services, compare, CLAIM);
    if compare.starts_with("  candidate: { scrape") {
        source = source.replace("service: api", "service: prometheus");
    }
    if expected.contains("`apx`") {
        source = source.replace("service: api", "service: apx");
    }
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(errors(&source), expected, "\n{source}");
}

#[test]
fn a_claim_needs_a_comparison() {
    let source = spec("", CANDIDATE, CLAIM);
    let start = source.find("compare:").unwrap();
    let end = source.find("load:").unwrap();
    let source = format!("{}{}", &source[..start], &source[end..]);
    assert_eq!(
        errors(&source),
        ["13:13 a `candidate …` expectation needs a `compare:` section (hint: declare the two variants, e.g. `compare: { service: api, candidate: { cpu_factor: 1.2 } }`)"],
        "\n{source}"
    );
}

#[test]
fn a_comparison_needs_a_claim() {
    let source = spec("", CANDIDATE, "    expect: < 1");
    assert_eq!(
        errors(&source),
        ["6:1 nothing compares the two variants (hint: add an assertion with `expect: candidate at most 10% above base`)"],
        "\n{source}"
    );
}

#[test]
fn a_problem_of_the_service_itself_is_reported_once() {
    let source = spec("", CANDIDATE, CLAIM).replace("seed: 7", "seed: -7");
    assert_eq!(
        errors(&source),
        ["4:34 invalid value: integer `-7`, expected a whole number"],
        "\n{source}"
    );
}

#[test]
fn a_fixed_port_cannot_serve_both_variants() {
    let source = indoc! {"
        stack:
          services:
            prometheus: { kind: prometheus }
            web: { kind: process, command: [./server], ports: { http: 8080, admin: 0 } }
        compare:
          service: web
          candidate: { command: [./server-v2] }
        load:
          - { phase: steady, http: { target: web, rate: 1/s, duration: 1s, mix: [{ get: / }] } }
        assert:
          - { name: p99, query: up, expect: candidate within 5% of base }
    "};
    assert_eq!(
        errors(source),
        ["4:63 port 8080 is fixed for both the base and the candidate, which run at once (hint: let perfgate choose it (`http: 0`), or give the candidate another one in `candidate: { ports: ... }`)"],
        "\n{source}"
    );
    let moved = source.replace("{ command: [./server-v2] }", "{ ports: { http: 8081 } }");
    assert_eq!(errors(&moved), Vec::<String>::new(), "\n{moved}");
}

//! Validation table: inline specs next to the diagnostic they must produce.

use std::path::Path;

use indoc::indoc;
use rstest::rstest;

use super::*;

/// A valid spec with `{services}`, `{load}` and `{assert}` slots, so each case shows only what
/// it breaks.
fn spec(services: &str, load: &str, assert: &str) -> String {
    format!(
        indoc! {"
            stack:
              services:
                prometheus: {{ kind: prometheus }}
                api: {{ kind: demo-api }}
            {}
            load:
              - phase: steady
                http: {{ target: api, rate: 10/s, duration: 5s, mix: [{{ get: /health }}] }}
            {}
            assert:
              - name: p99
                during: steady
                query: up
                expect: == 1
            {}
        "},
        services, load, assert
    )
}

pub(super) fn errors(source: &str) -> Vec<String> {
    match parse(source, Path::new("t.yaml")) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics()
            .iter()
            .map(|d| {
                let hint = d
                    .hint
                    .as_deref()
                    .map(|h| format!(" (hint: {h})"))
                    .unwrap_or_default();
                format!(
                    "{}:{} {}{hint}",
                    d.location.line, d.location.column, d.message
                )
            })
            .collect(),
    }
}

#[test]
fn the_template_is_valid() {
    let source = spec("", "", "");
    let parsed = parse(&source, Path::new("dir/my-gate.yaml")).unwrap();
    assert_eq!(parsed.name, "my-gate");
    assert_eq!(
        parsed.assertions[0].query_location,
        Location {
            line: 13,
            column: 12
        }
    );
}

#[test]
fn cpu_factor_defaults_to_one_and_is_read() {
    let source = spec("    busy: { kind: demo-api, cpu_factor: 1.2 }", "", "");
    let parsed = parse(&source, Path::new("t.yaml")).unwrap();
    let factor = |name: &str| match &parsed.stack.services[name].kind {
        ServiceKind::DemoApi(d) => d.cpu_factor,
        other => panic!("{name} is {other:?}"),
    };
    assert_eq!((factor("api"), factor("busy")), (1.0, 1.2));
}

#[rstest]
#[case::unknown_key_in_service(
    "    web: { kind: process, command: [x], ports: { http: 0 }, readdy: none }",
    "",
    "",
    "5:61 unknown field `readdy`, expected one of `kind`, `command`, `ports`, `env`, `ready`, `metrics`, `startup_timeout`, `otlp`, `resource` (hint: did you mean `ready`?)"
)]
#[case::missing_kind(
    "    web: { command: [x] }",
    "",
    "",
    "5:5 missing field `kind` (hint: expected one of `prometheus`, `demo-api`, `process`, `otel-collector`, `otlp-to-prometheus`, `ffmpeg-origin`)"
)]
#[case::future_kind(
    "    box: { kind: container }",
    "",
    "",
    "5:18 service kind `container` is not supported yet (hint: supported kinds are `prometheus`, `demo-api`, `process`, `otel-collector`, `otlp-to-prometheus`, `ffmpeg-origin`)"
)]
#[case::otlp_names_unknown_service(
    "    web: { kind: demo-api, otlp: colector }\n    collector: { kind: otel-collector, export_to: prometheus }",
    "",
    "",
    "5:34 unknown service `colector` (hint: did you mean `collector`?)"
)]
#[case::otlp_names_a_non_receiver(
    "    web: { kind: process, command: [x], otlp: api }",
    "",
    "",
    "5:47 `otlp` names `api`, a `demo-api` service; it must name an `otel-collector` or `otlp-to-prometheus` service (hint: declare one, e.g. `collector: { kind: otel-collector, export_to: prometheus }`)"
)]
#[case::export_to_names_a_non_prometheus(
    "    collector: { kind: otel-collector, export_to: api }",
    "",
    "",
    "5:51 `export_to` names `api`, a `demo-api` service; it must name a `prometheus` service (hint: expected one of `prometheus`)"
)]
#[case::collector_needs_export_to(
    "    collector: { kind: otel-collector }",
    "",
    "",
    "5:5 missing field `export_to`"
)]
#[case::export_interval_without_otlp(
    "    web: { kind: demo-api, export_interval: 2s }",
    "",
    "",
    "5:28 `export_interval` needs `otlp:` (hint: name the collector, e.g. `otlp: collector`)"
)]
#[case::unknown_collector_implementation(
    "    collector: { kind: otel-collector, export_to: prometheus, implementation: rotle }",
    "",
    "",
    "5:79 unknown collector implementation `rotle` (hint: did you mean `rotel`?)"
)]
#[case::export_interval_without_unit(
    "    ingest: { kind: otlp-to-prometheus }\n    web: { kind: demo-api, otlp: ingest, export_interval: 2 }",
    "",
    "",
    "6:59 duration `2` has no unit (hint: write `2s`)"
)]
#[case::bad_service_name(
    "    my api: { kind: demo-api }",
    "",
    "",
    "5:5 invalid service name `my api` (hint: use letters, digits, `_` and `-`, starting with a letter or digit)"
)]
#[case::ready_port_unknown(
    "    web: { kind: process, command: [x], ports: { http: 0 }, ready: { tcp: admin } }",
    "",
    "",
    "5:75 unknown port `admin` (hint: expected one of `http`)"
)]
#[case::ready_two_kinds(
    "    web: { kind: process, command: [x], ports: { http: 0 }, ready: { tcp: http, log: up } }",
    "",
    "",
    "5:61 readiness check has several kinds: `tcp`, `log` (hint: write one of `{ http: /health }`, `{ tcp: http }`, `{ log: \"listening\" }` or `none`)"
)]
#[case::ready_without_port(
    "    web: { kind: process, command: [x], ready: { http: /health } }",
    "",
    "",
    "5:56 the check needs a port: declare `ports: { http: 0 }` or name one with `port:`"
)]
#[case::empty_command(
    "    web: { kind: process, command: [], ports: { http: 0 } }",
    "",
    "",
    "5:27 `command` is empty (hint: write the program and its arguments, e.g. `[python3, -m, http.server]`)"
)]
#[case::placeholder_other_service(
    "    web: { kind: process, command: [x, \"{{apii.http}}\"], ports: { http: 0 } }",
    "",
    "",
    "5:41 placeholder names unknown service `apii` (hint: services are `prometheus`, `api`, `web`)"
)]
#[case::port_out_of_range(
    "    web: { kind: process, command: [x], ports: { http: 70000 } }",
    "",
    "",
    "5:56 invalid value: integer `70000`, expected a port number from 0 to 65535"
)]
#[case::negative_factor(
    "    slow: { kind: demo-api, error_factor: -2 }",
    "",
    "",
    "5:43 `error_factor` must be a number ≥ 0 (hint: 1.0 is the documented behaviour)"
)]
#[case::zero_cpu_factor(
    "    busy: { kind: demo-api, cpu_factor: 0 }",
    "",
    "",
    "5:41 `cpu_factor` must be a number > 0 and ≤ 100, got 0 (hint: 1.0 is the documented work per request; 1.2 seeds 20 % more CPU)"
)]
#[case::negative_cpu_factor(
    "    busy: { kind: demo-api, cpu_factor: -1 }",
    "",
    "",
    "5:41 `cpu_factor` must be a number > 0 and ≤ 100, got -1 (hint: 1.0 is the documented work per request; 1.2 seeds 20 % more CPU)"
)]
#[case::huge_cpu_factor(
    "    busy: { kind: demo-api, cpu_factor: 101 }",
    "",
    "",
    "5:41 `cpu_factor` must be a number > 0 and ≤ 100, got 101 (hint: 1.0 is the documented work per request; 1.2 seeds 20 % more CPU)"
)]
#[case::metrics_path_without_slash(
    "    web: { kind: process, command: [x], ports: { http: 0 }, metrics: metrics }",
    "",
    "",
    "5:70 metrics path `metrics` must start with `/` (hint: `/metrics`)"
)]
fn stack_problems(
    #[case] services: &str,
    #[case] load: &str,
    #[case] assert: &str,
    #[case] expected: &str,
) {
    let source = spec(services, load, assert);
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(errors(&source), expected, "\n{source}");
}

#[rstest]
#[case::no_kind(
    "  - phase: idle",
    "9:5 phase `idle` says nothing to do (hint: add one of `http`, `pause`, `replicate`, `freshness`, `swarm`)"
)]
#[case::two_kinds(
    "  - { phase: both, pause: 1s, http: { target: api, rate: 1/s, duration: 1s, mix: [{ get: / }] } }",
    "9:20 phase `both` has several kinds: `http`, `pause` (hint: split it into one phase per kind)"
)]
#[case::ramp_longer_than_phase(
    "  - { phase: p, http: { target: api, rate: 1/s, duration: 1s, ramp: { from: 1/s, over: 2s }, mix: [{ get: / }] } }",
    "9:88 the ramp is longer than the phase's `duration`"
)]
#[case::ramp_from_max(
    "  - { phase: p, http: { target: api, rate: 1/s, duration: 9s, ramp: { from: max, over: 2s }, mix: [{ get: / }] } }",
    "9:77 a ramp cannot start at `max` (hint: ramps need a finite rate such as `5/s`)"
)]
#[case::zero_in_flight(
    "  - { phase: p, http: { target: api, rate: 1/s, duration: 9s, max_in_flight: 0, mix: [{ get: / }] } }",
    "9:78 `max_in_flight` must be at least 1"
)]
#[case::zero_timeout(
    "  - { phase: p, http: { target: api, rate: 1/s, duration: 9s, timeout: 0ms, mix: [{ get: / }] } }",
    "9:72 `timeout` must be longer than zero"
)]
#[case::mix_not_a_list(
    "  - { phase: p, http: { target: api, rate: 1/s, duration: 9s, mix: { get: / } } }",
    "9:63 invalid type: map, expected a sequence"
)]
#[case::bad_phase_name(
    "  - { phase: \"two words\", pause: 1s }",
    "9:14 invalid phase name `two words` (hint: use letters, digits, `_` and `-`, starting with a letter or digit)"
)]
#[case::several_unknown_keys(
    "  - { phase: p, paus: 1s, http: { target: api, rat: 1/s, duration: 9s, mix: [{ get: / }] } }",
    "9:17 unknown field `paus`, expected one of `phase`, `http`, `pause`, `replicate`, `freshness`, `swarm`, `delivered` (hint: did you mean `pause`?)\n9:48 unknown field `rat`, expected one of `target`, `rate`, `ramp`, `duration`, `max_in_flight`, `timeout`, `mix`, `auth` (hint: did you mean `rate`?)"
)]
#[case::replicate_unknown_to(
    "  - { phase: r, replicate: { from: prometheus, to: prom, labels: { a: 2 } } }",
    "9:52 unknown prometheus service `prom` (hint: expected one of `prometheus`)"
)]
#[case::replicate_too_many_points(
    "  - { phase: r, replicate: { from: prometheus, to: prometheus, lookback: 1h, step: 100ms, labels: { a: 2 } } }",
    "9:84 `lookback` / `step` is more than 11000 points per series, which Prometheus refuses (hint: use a larger `step` or a shorter `lookback`)"
)]
#[case::replicate_reserved_label(
    "  - { phase: r, replicate: { from: prometheus, to: prometheus, labels: { __x: 2 } } }",
    "9:74 `__x` is not a label name perfgate can replicate over (hint: use letters, digits and `_`, not starting with a digit or `__`)"
)]
#[case::replicate_bad_batch(
    "  - { phase: r, replicate: { from: prometheus, to: http://127.0.0.1:9/w, batch: 0, concurrency: 65 } }",
    "9:81 `batch` must be between 1 and 1000000 samples\n9:97 `concurrency` must be between 1 and 64"
)]
#[case::replicate_zero_give_up(
    "  - { phase: r, replicate: { from: prometheus, to: http://127.0.0.1:9/w, give_up_after: 0s } }",
    "9:89 `give_up_after` must be longer than zero"
)]
#[case::freshness_empty_query(
    "  - { phase: f, freshness: { query: \" \", timeout: 5 } }",
    "9:37 `query` is empty (hint: the service's own count of the load's requests, e.g. `sum(http_requests_total{job=\"api\"})`)\n9:51 duration `5` has no unit (hint: write `5s`)"
)]
#[case::delivered_limit_of_another_kind(
    "  - { phase: p, http: { target: api, rate: 1/s, duration: 9s, mix: [{ get: / }] }, delivered: { dropped: 3 } }",
    "9:97 `dropped` is not a limit of `http` phases (hint: limits of `http` phases: `rate`, `transport_errors`, `send_lag`)"
)]
#[case::delivered_on_a_pause(
    "  - { phase: p, pause: 1s, delivered: { rate: 90% } }",
    "9:28 a `pause` phase delivers no load: it has no `delivered:` verdict (hint: remove `delivered:` from this phase)"
)]
#[case::delivered_share_out_of_range(
    "  - { phase: p, http: { target: api, rate: 1/s, duration: 9s, mix: [{ get: / }] }, delivered: { rate: 150%, send_lag: 0s } }",
    "9:103 delivered rate share `150%` is out of range (hint: from 0 to 100%, e.g. `5%` or `0.05`)\n9:119 `send_lag` must be longer than zero"
)]
#[case::delivered_neither_off_nor_a_map(
    "  - { phase: p, http: { target: api, rate: 1/s, duration: 9s, mix: [{ get: / }] }, delivered: 3 }",
    "9:95 `delivered:` is `off` or a map of limits (hint: limits of `http` phases: `rate`, `transport_errors`, `send_lag`)"
)]
fn load_problems(#[case] load: &str, #[case] expected: &str) {
    let source = spec("", load, "");
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(errors(&source), expected, "\n{source}");
}

#[rstest]
#[case::unknown_eval(
    "    eval: at the end",
    "15:11 unknown variant `at the end`, expected `at end` or `throughout`"
)]
#[case::empty_query(
    "  - { name: blank, query: \"  \", expect: < 1 }",
    "15:27 the query is empty (hint: write a PromQL expression)"
)]
#[case::nameless(
    "  - { name: \"???\", query: up, expect: < 1 }",
    "15:13 assertion name `???` has no letters or digits (hint: the name becomes the test name)"
)]
#[case::missing_expect("  - { name: other, query: up }", "15:7 missing field `expect`")]
#[case::reversed_range(
    "  - { name: other, query: up, expect: between 2 and 1 }",
    "15:39 empty range `between 2 and 1`: the lower bound is above the upper one"
)]
fn assertion_problems(#[case] assert: &str, #[case] expected: &str) {
    let source = spec("", "", assert);
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(errors(&source), expected, "\n{source}");
}

#[rstest]
#[case::plain("query: up", 3, 12)]
#[case::double_quoted("query: \"up\"", 3, 13)]
#[case::single_quoted("query:   'up'", 3, 15)]
#[case::literal_block("query: |\n      sum(up)\n      / 2", 4, 7)]
#[case::folded_block("query: >-\n\n      sum(up)", 5, 7)]
fn query_locations(#[case] query: &str, #[case] line: usize, #[case] column: usize) {
    let source = format!(
        "stack: {{ services: {{ p: {{ kind: prometheus }} }} }}\nassert:\n  - {query}\n    name: q\n    expect: < 1\nload: [{{ phase: x, pause: 1s }}]\n"
    );
    let parsed = parse(&source, Path::new("q.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        parsed.assertions[0].query_location,
        Location { line, column },
        "\n{source}"
    );
}

#[test]
fn merge_keys_and_anchors_are_followed() {
    let source = indoc! {"
        stack:
          services:
            prometheus: { kind: prometheus }
            api: { kind: demo-api }
        load:
          - phase: a
            http: &base { target: api, rate: 10/s, duration: 5s, mix: [{ get: /x }] }
          - phase: b
            http: { <<: *base, rate: 20/s }
    "};
    let parsed = parse(source, Path::new("m.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let PhaseKind::Http(b) = &parsed.phases[1].kind else {
        panic!("http phase")
    };
    assert_eq!((b.rate, b.duration.as_secs()), (Rate(20.0), 5));
}

/// `give_up_after` reaches the replication's retry policy; 10 s when not given.
#[rstest]
#[case::given("give_up_after: 2s", 2_000)]
#[case::default("batch: 10", 10_000)]
fn replicate_give_up_after(#[case] key: &str, #[case] millis: u128) {
    let load = format!("  - {{ phase: r, replicate: {{ from: prometheus, to: http://127.0.0.1:9/w, {key} }} }}");
    let parsed = parse(&spec("", &load, ""), Path::new("g.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let PhaseKind::Replicate(r) = &parsed.phases[1].kind else {
        panic!("replicate phase")
    };
    let config = crate::load::replicate::ReplicateConfig::from_phase(r, String::new(), String::new())
        .expect("config");
    assert_eq!(config.retry.give_up_after.as_millis(), millis);
}

/// Which Prometheus gates when a stack has several: `gates: true`, else the first one not
/// written `gates: false`.
#[rstest]
#[case::first_by_default("{ kind: prometheus }", "{ kind: prometheus }", "prometheus")]
#[case::the_flagged_one("{ kind: prometheus }", "{ kind: prometheus, gates: true }", "second")]
#[case::first_not_refused("{ kind: prometheus, gates: false }", "{ kind: prometheus }", "second")]
fn the_gating_prometheus(#[case] first: &str, #[case] second: &str, #[case] gating: &str) {
    let source = spec("", "", "").replace(
        "prometheus: { kind: prometheus }",
        &format!("prometheus: {first}\n    second: {second}"),
    );
    let parsed = parse(&source, Path::new("t.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let gates: Vec<&str> = parsed
        .stack
        .services
        .values()
        .filter(|s| matches!(&s.kind, ServiceKind::Prometheus(p) if p.gates))
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(gates, [gating]);
}

#[rstest]
#[case::default_when_absent("", Ok(crate::serve::LATENCY_BUCKETS.to_vec()))]
#[case::read_as_seconds("latency_buckets: [500us, 1ms, 2.5ms, 1s]", Ok(vec![0.0005, 0.001, 0.0025, 1.0]))]
#[case::not_increasing(
    "latency_buckets: [1ms, 5ms, 2ms, 2ms]",
    Err(vec![
        "15:29 bucket `2ms` is not above the one before it (hint: list the bounds in increasing order, each once)",
        "15:34 bucket `2ms` is not above the one before it (hint: list the bounds in increasing order, each once)",
    ])
)]
#[case::not_durations(
    "latency_buckets: [1, fast, 0ms]",
    Err(vec![
        "15:19 bucket `1` has no unit (hint: write `1ms` or `1s`)",
        "15:22 invalid bucket `fast` (hint: a duration such as `250us`, `2.5ms` or `1s`)",
        "15:28 bucket `0ms` must be above zero",
    ])
)]
#[case::empty("latency_buckets: []", Err(vec!["15:1 `latency_buckets` is empty (hint: list upper bounds such as `[1ms, 2ms, 5ms, 10ms]`, or leave the key out)"]))]
fn latency_buckets(#[case] written: &str, #[case] expected: Result<Vec<f64>, Vec<&str>>) {
    let source = spec("", "", written);
    match expected {
        Ok(buckets) => {
            let parsed = parse(&source, Path::new("t.yaml")).expect("valid");
            assert_eq!(parsed.latency_buckets, buckets);
        }
        Err(messages) => assert_eq!(errors(&source), messages, "\n{source}"),
    }
}

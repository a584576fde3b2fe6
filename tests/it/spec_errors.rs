//! Snapshots of the rendered error of every malformed spec in `fixtures/specs/invalid/`, and the
//! model built from the valid fixture.

use std::path::{Path, PathBuf};
use std::time::Duration;

use perfgate::spec::{
    self, BackendChoice, CompareOp, EvalMode, Expectation, Location, Method, PhaseKind, Rate,
    ReadyCheck, SeriesMode, ServiceKind,
};

/// The fixture's path relative to the crate root, as a user would type it, so snapshots are stable.
fn relative(path: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

#[test]
fn invalid_specs_render_located_errors() {
    insta::glob!("../../fixtures/specs/invalid", "*.yaml", |path| {
        let shown = relative(path);
        let source = std::fs::read_to_string(path).unwrap();
        let err = spec::parse(&source, &shown).expect_err("fixture must be invalid");
        let rendered = err.to_string();
        for d in err.diagnostics() {
            let at = format!(
                "{}:{}:{}",
                shown.display(),
                d.location.line,
                d.location.column
            );
            assert!(rendered.contains(&at), "{rendered}\nmissing {at}");
        }
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn an_unreadable_file_names_the_path() {
    let err = spec::load(Path::new("fixtures/specs/no_such_spec.yaml")).unwrap_err();
    insta::assert_snapshot!(err.to_string(), @r"
    error: cannot read spec: No such file or directory (os error 2)
     --> fixtures/specs/no_such_spec.yaml
    ");
}

#[test]
fn the_valid_fixture_round_trips_into_the_model() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/specs/valid/quickstart.yaml");
    let spec = spec::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.name, "quickstart");
    assert_eq!(spec.path, path);
    assert_eq!(spec.stack.backend, BackendChoice::Process);
    let names: Vec<&str> = spec.stack.services.keys().map(String::as_str).collect();
    assert_eq!(names, ["prometheus", "api", "web", "worker"]);

    let ServiceKind::Prometheus(prom) = &spec.stack.services["prometheus"].kind else {
        panic!("prometheus kind")
    };
    assert_eq!(prom.scrape_interval, Duration::from_secs(2));
    assert_eq!(
        prom.binary.as_deref(),
        Some(Path::new("/opt/prom/prometheus"))
    );
    assert_eq!(prom.extra_args, ["--log.level=warn"]);

    let ServiceKind::DemoApi(api) = &spec.stack.services["api"].kind else {
        panic!("demo-api kind")
    };
    assert_eq!(
        (api.seed, api.latency_factor, api.error_factor),
        (42, 1.5, 0.0)
    );

    let ServiceKind::Process(web) = &spec.stack.services["web"].kind else {
        panic!("process kind")
    };
    assert_eq!(web.command[3], "{{port.http}}");
    assert_eq!(web.ports.get("admin"), Some(&9901));
    assert_eq!(
        web.env.get("PYTHONUNBUFFERED").map(String::as_str),
        Some("1")
    );
    let ready = ReadyCheck::Http {
        port: "admin".into(),
        path: "/health".into(),
    };
    assert_eq!(web.ready, ready);
    assert_eq!(web.metrics_path.as_deref(), Some("/metrics"));
    assert_eq!(web.startup_timeout, Duration::from_secs(60));
    let ServiceKind::Process(worker) = &spec.stack.services["worker"].kind else {
        panic!("process kind")
    };
    let ready = ReadyCheck::Log {
        contains: "started".into(),
    };
    assert_eq!(worker.ready, ready);
    assert_eq!(worker.startup_timeout, Duration::from_secs(30));

    let phases: Vec<(&str, Duration)> = spec
        .phases
        .iter()
        .map(|p| (p.name.as_str(), p.duration()))
        .collect();
    let expected = [
        ("warmup", Duration::from_secs(10)),
        ("settle", Duration::from_secs(3)),
        ("steady", Duration::from_secs(90)),
    ];
    assert_eq!(phases, expected);
    let PhaseKind::Http(warmup) = &spec.phases[0].kind else {
        panic!("http phase")
    };
    assert_eq!(warmup.target, "api");
    assert_eq!(warmup.rate, Rate(50.0));
    let ramp = warmup.ramp.map(|r| (r.from, r.over));
    assert_eq!(ramp, Some((Rate(5.0), Duration::from_secs(5))));
    assert_eq!(warmup.max_in_flight, 1024);
    assert_eq!(warmup.timeout, Duration::from_secs(10));
    assert_eq!(warmup.mix.len(), 2);
    let health = &warmup.mix[0];
    assert_eq!((health.weight, health.method), (7, Method::Get));
    assert_eq!((health.path.as_str(), &health.json), ("/health", &None));
    let order = &warmup.mix[1];
    assert_eq!((order.weight, order.method), (1, Method::Post));
    let body = serde_json::json!({ "item": "book", "qty": 1 });
    assert_eq!(order.json, Some(body));
    let tenant = order.headers.get("x-tenant").map(|t| t.expose());
    assert_eq!(tenant, Some("a"));
    let PhaseKind::Http(steady) = &spec.phases[2].kind else {
        panic!("http phase")
    };
    assert!(steady.rate.per_second().is_infinite());
    assert_eq!(steady.max_in_flight, 64);
    assert_eq!(steady.timeout, Duration::from_millis(500));
    assert_eq!(steady.mix[0].method, Method::Delete);
    assert_eq!(steady.mix[1].method, Method::Put);

    let [p99, errors, every] = spec.assertions.as_slice() else {
        panic!("three assertions")
    };
    assert_eq!(p99.id, "p99_latency_under_300ms");
    assert_eq!(p99.during.as_deref(), Some("steady"));
    assert_eq!(p99.expect, Expectation::Compare(CompareOp::Lt, 0.3));
    assert_eq!(
        (p99.mode, p99.eval),
        (SeriesMode::Aggregate, EvalMode::AtEnd)
    );
    assert_eq!(
        p99.query_location,
        Location {
            line: 47,
            column: 12
        }
    );
    assert_eq!(errors.during, None);
    assert_eq!(errors.expect, Expectation::Between(0.0, 0.01));
    assert_eq!(errors.eval, EvalMode::Throughout);
    assert!(
        errors
            .query
            .starts_with("sum(rate(http_requests_total{code=~\"5..\"}")
    );
    assert_eq!(
        errors.query_location,
        Location {
            line: 50,
            column: 13
        }
    );
    assert_eq!(every.mode, SeriesMode::EachSeries);
    assert_eq!(every.expect, Expectation::Compare(CompareOp::Ge, 1.0));
    assert!(every.query.starts_with("sum by (endpoint) (\n  increase"));
    assert_eq!(
        every.query_location,
        Location {
            line: 57,
            column: 7
        }
    );
}

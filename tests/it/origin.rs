//! The `ffmpeg-origin` service on real processes: FFmpeg (provisioned into perfgate's cache when
//! missing) encoding a live HLS stream that perfgate's origin serves; headers, a rolling window
//! with deleted segments, injected faults counted in `/metrics` and in Prometheus, a gate that
//! catches segment 404s, and no FFmpeg left behind after a drop or a panic.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use perfgate::bench::procfs::{children, children_named, running};
use perfgate::origin::Playlist;
use perfgate::prom::PromClient;
use perfgate::report::RunRecord;
use perfgate::run::{RunOptions, run_spec};
use perfgate::spec::{self, Spec};
use perfgate::stack::{self, RunningStack, StackOptions};

use crate::support::slots;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(test: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("origin")
        .join(format!("{test}-{}", std::process::id()))
}

/// A spec with `services` (one per line, unindented) under `stack.services`, named as if it
/// lived in `fixtures/specs/`.
fn spec(services: &str) -> Spec {
    let services: String = services.lines().map(|l| format!("    {l}\n")).collect();
    let source = format!("stack:\n  services:\n{services}");
    spec::parse(&source, &root().join("fixtures/specs/origin.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Starts `spec`'s stack on the process backend, perfgate's binary hosting the origin.
async fn start(spec: &Spec, test: &str) -> RunningStack {
    let options = StackOptions {
        run_dir: scratch(test),
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        ..StackOptions::default()
    };
    stack::start(spec, &options)
        .await
        .unwrap_or_else(|e| panic!("the stack starts: {e}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Polls `check` every 100 ms until it yields a value or `within` has passed.
async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get(url: &str) -> reqwest::Response {
    client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

async fn playlist(base: &str) -> Playlist {
    Playlist::parse(
        &get(&format!("{base}/live.m3u8"))
            .await
            .text()
            .await
            .unwrap(),
    )
}

/// The value of the sample `series` (exact name and labels as rendered) in `/metrics`.
async fn metric(base: &str, series: &str) -> Option<f64> {
    let text = get(&format!("{base}/metrics")).await.text().await.ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The origin's service pid and its FFmpeg child's.
fn origin_pids(stack: &RunningStack) -> (u32, u32) {
    let origin = stack
        .services()
        .iter()
        .find(|s| s.kind == "ffmpeg-origin")
        .expect("an origin service");
    let pid = origin.pid();
    let ffmpeg = children_named(pid, "ffmpeg");
    assert_eq!(ffmpeg.len(), 1, "one ffmpeg under the origin: {ffmpeg:?}");
    (pid, ffmpeg[0])
}

/// Waits (bounded) until none of `pids` runs: SIGKILL takes effect asynchronously.
fn assert_gone(pids: &[u32], after: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| running(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let alive: Vec<u32> = pids.iter().copied().filter(|&p| running(p)).collect();
    assert!(alive.is_empty(), "still running {after}: {alive:?}");
}

const SMALL_ORIGIN: &str =
    "origin: { kind: ffmpeg-origin, resolution: 320x180, fps: 15, segment: 1s, window: 3";

#[test]
fn the_origin_serves_a_rolling_playlist_that_prometheus_scrapes() {
    let _turn = slots::heavy();
    let spec = spec(&format!(
        "prometheus: {{ kind: prometheus }}\n{SMALL_ORIGIN} }}"
    ));
    runtime().block_on(async {
        let mut stack = start(&spec, "rolling").await;
        let url = stack.expand_urls("{{origin}}/live.m3u8").expect("expands");
        let base = url.trim_end_matches("/live.m3u8").to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");

        let r = get(&url).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-type"), "application/vnd.apple.mpegurl");
        assert_eq!(header(&r, "cache-control"), "no-cache");
        let first = Playlist::parse(&r.text().await.unwrap());
        assert!(!first.segments.is_empty(), "ready means a segment is listed");

        let oldest = format!("{base}/{}", first.segments[0]);
        let r = get(&oldest).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-type"), "video/mp2t");
        let body = r.bytes().await.unwrap();
        assert!(
            body.len() >= 188 && body.len() % 188 == 0 && body[0] == 0x47,
            "an MPEG-TS segment: {} bytes, first byte {:#x}",
            body.len(),
            body[0]
        );
        assert_eq!(get(&format!("{base}/seg99999.ts")).await.status(), 404);
        assert_eq!(get(&format!("{base}/nothing/here")).await.status(), 404);

        // The window rolls: the media sequence moves past the oldest segment, which is then
        // deleted (FFmpeg keeps one extra segment past the window before deleting).
        let moved = eventually("the media sequence to pass the window", Duration::from_secs(20), || async {
            let p = playlist(&base).await;
            (p.media_sequence > first.media_sequence + 1).then_some(p)
        })
        .await;
        assert!(!moved.segments.contains(&first.segments[0]), "{moved:?}");
        eventually("the oldest segment to be deleted", Duration::from_secs(20), || async {
            (get(&oldest).await.status() == 404).then_some(())
        })
        .await;

        assert_eq!(metric(&base, "perfgate_origin_encoder_up").await, Some(1.0));
        let produced = metric(&base, "perfgate_origin_segments_produced_total").await;
        assert!(produced.is_some_and(|n| n >= (moved.media_sequence + 1) as f64), "{produced:?}");
        let served = r#"perfgate_origin_requests_total{object="segment",status="200"}"#;
        assert_eq!(metric(&base, served).await, Some(1.0));
        let missing = r#"perfgate_origin_requests_total{object="segment",status="404"}"#;
        assert!(metric(&base, missing).await.is_some_and(|n| n >= 2.0));

        let prom = PromClient::new(stack.prometheus().expect("prometheus"));
        eventually("prometheus to scrape the origin", Duration::from_secs(30), || async {
            let v = prom
                .query(r#"perfgate_origin_requests_total{job="origin",object="segment",status="200"}"#, None)
                .await
                .ok()?;
            v.series.first()?.samples.first().filter(|s| s.v == 1.0).map(|_| ())
        })
        .await;
        stack.check_alive().expect("every service still runs");
        stack.shutdown().await.expect("clean shutdown");
    });
}

#[test]
fn injected_faults_are_served_and_counted() {
    let _turn = slots::heavy();
    let spec = spec(indoc::indoc! {"
        origin:
          kind: ffmpeg-origin
          resolution: 320x180
          fps: 15
          segment: 1s
          window: 10
          faults: { latency: 150ms, error_rate: 100%, status: 502, applies_to: playlist, segment_404_after: 2s }
    "});
    runtime().block_on(async {
        let stack = start(&spec, "faults").await;
        let base = stack.expand_urls("{{origin}}").expect("expands");

        let asked = Instant::now();
        let r = get(&format!("{base}/live.m3u8")).await;
        assert_eq!(r.status(), 502, "every playlist request fails");
        assert!(asked.elapsed() >= Duration::from_millis(150), "{:?}", asked.elapsed());

        // Readiness saw seg00000.ts listed; it stays listed for 10 s, so any 404 for it is the
        // fault, which starts with the first segment request.
        let segment = format!("{base}/seg00000.ts");
        let started = Instant::now();
        assert_eq!(get(&segment).await.status(), 200, "segments are not affected by `applies_to`");
        eventually("segments to answer 404", Duration::from_secs(10), || async {
            (get(&segment).await.status() == 404).then_some(())
        })
        .await;
        assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());

        let count = |labels: &'static str| {
            let base = base.clone();
            async move { metric(&base, labels).await.unwrap_or(0.0) }
        };
        assert_eq!(count(r#"perfgate_origin_requests_total{object="playlist",status="502"}"#).await, 1.0);
        assert_eq!(count(r#"perfgate_origin_faults_total{kind="error"}"#).await, 1.0);
        assert!(count(r#"perfgate_origin_faults_total{kind="segment_404"}"#).await >= 1.0);
        assert!(count(r#"perfgate_origin_requests_total{object="segment",status="404"}"#).await >= 1.0);
        assert!(count(r#"perfgate_origin_requests_total{object="segment",status="200"}"#).await >= 1.0);
        let slow = r#"perfgate_origin_request_duration_seconds_bucket{le="0.1",object="playlist",status="502"}"#;
        assert_eq!(count(slow).await, 0.0, "the injected latency is in the histogram");
    });
}

#[test]
fn a_looped_file_is_served_past_its_own_length() {
    let _turn = slots::heavy();
    // fixtures/media/clip.mp4 lasts 3 s: a sixth 1 s segment shows it loops.
    let spec = spec(
        "origin: { kind: ffmpeg-origin, source: file, path: ../media/clip.mp4, resolution: 320x180, segment: 1s, window: 3 }",
    );
    runtime().block_on(async {
        let stack = start(&spec, "file").await;
        let base = stack.expand_urls("{{origin}}").expect("expands");
        let looped = eventually("six segments", Duration::from_secs(30), || async {
            let p = playlist(&base).await;
            (p.produced() >= 6).then_some(p)
        })
        .await;
        let newest = looped.segments.last().expect("a segment");
        let r = get(&format!("{base}/{newest}")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap()[0], 0x47, "MPEG-TS");
    });
}

#[test]
fn a_missing_media_file_is_named_before_anything_starts() {
    let _turn = slots::heavy();
    let spec = spec("origin: { kind: ffmpeg-origin, source: file, path: ../media/nope.mp4 }");
    let options = StackOptions {
        run_dir: scratch("missing"),
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        ..StackOptions::default()
    };
    let err = runtime()
        .block_on(stack::start(&spec, &options))
        .expect_err("no such file");
    let text = err.to_string();
    for needle in [
        "service `origin`",
        "fixtures/specs/../media/nope.mp4 does not exist",
        "relative to the spec's folder",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
}

#[test]
fn an_encoder_that_dies_fails_the_stack_with_its_log() {
    let _turn = slots::heavy();
    let spec = spec(&format!("{SMALL_ORIGIN} }}"));
    runtime().block_on(async {
        let mut stack = start(&spec, "encoder-dies").await;
        let (origin, ffmpeg) = origin_pids(&stack);
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(ffmpeg as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .expect("kill ffmpeg");
        let err = eventually("the stack to notice", Duration::from_secs(10), || {
            let dead = stack.check_alive().err();
            async move { dead }
        })
        .await
        .to_string();
        for needle in [
            "service `origin` (ffmpeg-origin) exited during the run",
            "ffmpeg exited (signal: 9",
            "origin.log",
        ] {
            assert!(err.contains(needle), "{needle:?} missing from: {err}");
        }
        assert!(!running(origin));
    });
}

#[test]
fn no_ffmpeg_outlives_a_dropped_stack() {
    let _turn = slots::heavy();
    let spec = spec(&format!("{SMALL_ORIGIN} }}"));
    let rt = runtime();
    let (origin, ffmpeg) = rt.block_on(async {
        let stack = start(&spec, "drop").await;
        let pids = origin_pids(&stack);
        assert!(running(pids.0) && running(pids.1));
        drop(stack);
        pids
    });
    assert_gone(&[origin, ffmpeg], "after the stack was dropped");
}

#[test]
fn no_ffmpeg_outlives_a_panic() {
    let _turn = slots::heavy();
    let spec = spec(&format!("{SMALL_ORIGIN} }}"));
    let (tx, rx) = std::sync::mpsc::channel();
    let panicked = std::thread::spawn(move || {
        runtime().block_on(async {
            let stack = start(&spec, "panic").await;
            tx.send(origin_pids(&stack)).expect("send");
            panic!("a test fails while the origin runs");
        })
    })
    .join();
    assert!(panicked.is_err(), "the thread panicked");
    let (origin, ffmpeg) = rx.recv().expect("pids were sent before the panic");
    assert_gone(&[origin, ffmpeg], "after the panic");
}

#[test]
fn a_gate_on_segment_404s_fails_when_the_origin_loses_its_segments() {
    let _turn = slots::heavy();
    let spec = spec::load(&root().join("fixtures/specs/origin/segment_404s.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        out_dir: scratch("gate"),
        progress: None,
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        ..RunOptions::default()
    };
    let record: RunRecord = runtime().block_on(run_spec(&spec, &opts));
    assert_eq!(record.failure, None, "the run itself succeeds");
    let passed = |id: &str| {
        record
            .verdict(id)
            .unwrap_or_else(|| panic!("{id}"))
            .outcome
            .passed()
    };
    assert!(passed("healthy_origin_serves_segments"));
    assert!(passed("healthy_origin_has_no_segment_404s"));
    assert!(passed("degraded_origin_served_segments_before_the_fault"));
    assert!(
        !passed("degraded_origin_has_no_segment_404s"),
        "the gate catches the 404s"
    );
    let pids: Vec<u32> = record.services.iter().map(|s| s.pid).collect();
    assert_gone(&pids, "after the run");
}

#[test]
fn ctrl_c_leaves_no_ffmpeg_behind() {
    let _turn = slots::heavy();
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .current_dir(root())
        .args(["run", "fixtures/specs/origin/segment_404s.yaml"])
        .env("PERFGATE_OUT", scratch("ctrl-c"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("perfgate runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    let encoders = loop {
        let found: Vec<u32> = children(run.id())
            .into_iter()
            .flat_map(|pid| children_named(pid, "ffmpeg"))
            .collect();
        if found.len() == 2 {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "both origins' encoders never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    assert_eq!(run.wait().expect("exit").code(), Some(130));
    assert_gone(&encoders, "after Ctrl-C");
}

//! The swarm engine on real processes: a live HLS stream encoded by a real FFmpeg and served on
//! loopback (tests/it/support/hls.rs), real FFmpeg clients, assertions on the engine's `/metrics`,
//! and no client process left behind — after a normal end, after the engine future is dropped
//! mid-run, and after Ctrl-C of `perfgate swarm`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use perfgate::load::swarm::{self, SwarmConfig, SwarmOutcome};
use perfgate::load::{EngineMetrics, serve_metrics};

use crate::require_ffmpeg;
use crate::support::hls::{Fault, HlsSource};
use crate::support::slots;

// One swarm at a time (`slots::one_of("swarm")`): a live source encodes in real time, and the
// media speed the tests assert follows the CPU it gets.

fn config(ffmpeg: &Path, url: String, clients: u32, secs: u64) -> SwarmConfig {
    SwarmConfig {
        ramp: 5.0,
        duration: Duration::from_secs(secs),
        // The test source has 1 s segments and the runs are short.
        media_window: Duration::from_secs(8),
        ..SwarmConfig::new(ffmpeg.to_owned(), url, clients)
    }
}

/// PIDs of running processes whose command line contains `needle` (a zombie has none).
fn pids_with(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Polls until every pid in `pids` is gone from the process table (reaped), or panics.
async fn assert_gone(pids: &[u32], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|p| exists(*p)).collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "client processes {left:?} outlived the swarm"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls until `n` client processes of `url` run; returns their PIDs.
async fn wait_for_clients(url: &str, n: usize, within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let pids = pids_with(url);
        if pids.len() >= n {
            return pids;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} clients started",
            pids.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The engine's `/metrics` on a loopback port.
struct Exporter {
    metrics: Arc<EngineMetrics>,
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Exporter {
    async fn start() -> Self {
        let metrics = Arc::new(EngineMetrics::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/metrics", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_metrics(listener, Arc::clone(&metrics), async {
            let _ = stopped.await;
        }));
        Self {
            metrics,
            url,
            _stop: stop,
        }
    }

    async fn scrape(&self) -> Scrape {
        let text = reqwest::get(&self.url)
            .await
            .expect("scrape")
            .text()
            .await
            .expect("body");
        Scrape(text)
    }
}

struct Scrape(String);

impl Scrape {
    /// The value of the series written exactly as `series` (name and labels), if present.
    fn value(&self, series: &str) -> Option<f64> {
        self.0.lines().find_map(|l| {
            let rest = l.strip_prefix(series)?.strip_prefix(' ')?;
            rest.split_whitespace().next()?.parse().ok()
        })
    }

    fn get(&self, series: &str) -> f64 {
        self.value(series)
            .unwrap_or_else(|| panic!("no `{series}` in:\n{}", self.0))
    }

    /// Every `perfgate_swarm_errors_total` series of `phase` with a non-zero value.
    fn errors(&self, phase: &str) -> Vec<String> {
        let prefix = format!("perfgate_swarm_errors_total{{phase=\"{phase}\",");
        self.0
            .lines()
            .filter(|l| l.starts_with(&prefix) && !l.ends_with(" 0"))
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_clients_play_a_live_stream_and_none_outlives_the_swarm() {
    let ffmpeg = require_ffmpeg!();
    let _turn = slots::one_of("swarm");
    let source = HlsSource::live(&ffmpeg).await.expect("hls source");
    let exporter = Exporter::start().await;
    let config = config(&ffmpeg, source.url(), 5, 12);
    let metrics = Arc::clone(&exporter.metrics);
    let swarm =
        tokio::spawn(async move { swarm::run("live", &config, &metrics.swarm, None).await });

    let running = r#"perfgate_swarm_clients{phase="live",state="running"}"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    while exporter.scrape().await.value(running) != Some(5.0) {
        assert!(Instant::now() < deadline, "5 clients never ran at once");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pids = pids_with(&source.url());
    assert_eq!(pids.len(), 5, "client processes: {pids:?}");

    let outcome: SwarmOutcome = swarm.await.expect("join").expect("swarm ran");
    // Every client process was reaped before the engine returned.
    assert_gone(&pids, Duration::ZERO).await;
    let scrape = exporter.scrape().await;
    let p5 = scrape.get(r#"perfgate_swarm_speed{phase="live",quantile="0.05"}"#);
    assert!(p5 >= 0.9, "p5 speed {p5}");
    let media = scrape.get(r#"perfgate_swarm_media_speed{phase="live",quantile="0.05"}"#);
    assert!((0.9..1.1).contains(&media), "p5 media speed {media}");
    assert!(scrape.get(r#"perfgate_swarm_segments_total{phase="live"}"#) > 0.0);
    assert!(scrape.get(r#"perfgate_swarm_bytes_total{phase="live"}"#) > 0.0);
    assert_eq!(scrape.errors("live"), Vec::<String>::new());
    assert_eq!(
        scrape.get(r#"perfgate_swarm_stalls_total{phase="live"}"#),
        0.0
    );
    assert_eq!(
        scrape.get(r#"perfgate_swarm_time_to_first_frame_seconds_count{phase="live"}"#),
        5.0
    );
    assert_eq!(
        scrape.get(r#"perfgate_swarm_clients{phase="live",state="stopped"}"#),
        5.0
    );
    assert_eq!(
        (
            outcome.clients_started,
            outcome.peak_running,
            outcome.errors_total
        ),
        (5, 5, 0),
        "{outcome:#?}"
    );
    assert_eq!((outcome.spawns, outcome.restarts), (5, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_that_starts_answering_404_for_segments_shows_in_the_errors() {
    let ffmpeg = require_ffmpeg!();
    let _turn = slots::one_of("swarm");
    let source = Arc::new(HlsSource::live(&ffmpeg).await.expect("hls source"));
    let exporter = Exporter::start().await;
    let config = SwarmConfig {
        stall_after: Duration::from_secs(3),
        ..config(&ffmpeg, source.url(), 3, 10)
    };
    let metrics = Arc::clone(&exporter.metrics);
    let swarm =
        tokio::spawn(async move { swarm::run("broken", &config, &metrics.swarm, None).await });
    let running = r#"perfgate_swarm_clients{phase="broken",state="running"}"#;
    let deadline = Instant::now() + Duration::from_secs(8);
    while exporter.scrape().await.value(running) != Some(3.0) {
        assert!(Instant::now() < deadline, "3 clients never ran at once");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    source.set_fault(Fault::SegmentStatus(404));

    let outcome = swarm.await.expect("join").expect("swarm ran");
    let scrape = exporter.scrape().await;
    let not_found = scrape.get(r#"perfgate_swarm_errors_total{phase="broken",kind="http_404"}"#);
    assert!(not_found > 0.0, "{}", scrape.0);
    assert!(
        scrape.get(r#"perfgate_swarm_errors_total{phase="broken",kind="segment_failed"}"#) > 0.0
    );
    // With no segment to read, media stops: the clients stall and are restarted.
    assert!(outcome.stalls > 0 && outcome.restarts > 0, "{outcome:#?}");
    assert_eq!(
        outcome.errors.get("http_404").copied(),
        Some(not_found as u64)
    );
    assert!(pids_with(&source.url()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_engine_mid_run_kills_every_client() {
    let ffmpeg = require_ffmpeg!();
    let _turn = slots::one_of("swarm");
    let source = HlsSource::live(&ffmpeg).await.expect("hls source");
    let metrics = Arc::new(EngineMetrics::new());
    let config = config(&ffmpeg, source.url(), 4, 60);
    let swarm =
        tokio::spawn(async move { swarm::run("dropped", &config, &metrics.swarm, None).await });
    let pids = wait_for_clients(&source.url(), 4, Duration::from_secs(10)).await;
    swarm.abort();
    assert!(swarm.await.is_err_and(|e| e.is_cancelled()));
    assert_gone(&pids, Duration::from_secs(5)).await;
    assert!(pids_with(&source.url()).is_empty());
}

/// How one fixture is recorded: the fault switched on `fault_after` the client started, and
/// when the client is stopped with SIGINT (`None`: it ends by itself).
struct Recording {
    name: &'static str,
    fault: Option<(Duration, Fault)>,
    stop_after: Option<Duration>,
}

/// Re-records fixtures/ffmpeg/ with the FFmpeg at hand: one client, the swarm's own argv,
/// against the test source in several states. Run with
/// `cargo test --test it -- --ignored record_ffmpeg_fixtures`, then review the snapshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "re-records fixtures/ffmpeg/ with the FFmpeg at hand"]
async fn record_ffmpeg_fixtures() {
    let ffmpeg = require_ffmpeg!();
    let _turn = slots::one_of("swarm");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ffmpeg");
    std::fs::create_dir_all(&out).expect("fixtures/ffmpeg");
    let secs = Duration::from_secs;
    let live = [
        Recording {
            name: "progress",
            fault: None,
            stop_after: Some(secs(6)),
        },
        Recording {
            name: "http_404",
            fault: Some((secs(3), Fault::SegmentStatus(404))),
            stop_after: Some(secs(8)),
        },
        Recording {
            name: "http_503",
            fault: Some((secs(3), Fault::AllStatus(503))),
            stop_after: Some(secs(8)),
        },
        Recording {
            name: "reconnect",
            fault: Some((Duration::ZERO, Fault::CutPlaylistOnce)),
            stop_after: Some(secs(4)),
        },
        Recording {
            name: "truncated",
            fault: Some((secs(3), Fault::CutSegments)),
            stop_after: Some(secs(7)),
        },
    ];
    for recording in &live {
        let source = HlsSource::live(&ffmpeg).await.expect("hls source");
        record(&ffmpeg, &source, recording, &out).await;
    }
    let mut refused = HlsSource::live(&ffmpeg).await.expect("hls source");
    refused.stop_serving();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ends_alone = |name| Recording {
        name,
        fault: None,
        stop_after: None,
    };
    record(&ffmpeg, &refused, &ends_alone("refused"), &out).await;
    let vod = HlsSource::vod(&ffmpeg, 3).await.expect("vod source");
    record(&ffmpeg, &vod, &ends_alone("eof"), &out).await;
}

async fn record(ffmpeg: &Path, source: &HlsSource, r: &Recording, out: &Path) {
    use std::os::unix::process::CommandExt;
    let config = SwarmConfig::new(ffmpeg.to_owned(), source.url(), 1);
    let command = perfgate::load::swarm::ClientCommand::for_config(&config)
        .await
        .expect("client command");
    let file =
        |ext: &str| std::fs::File::create(out.join(format!("{}.{ext}", r.name))).expect("fixture");
    if let Some((Duration::ZERO, fault)) = r.fault {
        source.set_fault(fault);
    }
    let mut child = std::process::Command::new(&command.program)
        .args(&command.args)
        .stdin(std::process::Stdio::null())
        .stdout(file("progress"))
        .stderr(file("stderr"))
        .process_group(0)
        .spawn()
        .expect("ffmpeg");
    let started = Instant::now();
    let mut faulted = r.fault.is_none_or(|(at, _)| at.is_zero());
    let mut stopped = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        let elapsed = started.elapsed();
        if let Some((at, fault)) = r.fault
            && !faulted
            && elapsed >= at
        {
            source.set_fault(fault);
            faulted = true;
        }
        if r.stop_after.is_some_and(|s| elapsed >= s) && !stopped {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            stopped = true;
        }
        if elapsed > Duration::from_secs(30) {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("recorded fixtures/ffmpeg/{}.*: ffmpeg {status}", r.name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swarm_gate_on_segment_404s_fails_when_the_origin_loses_its_segments() {
    let _turn = slots::one_of("swarm");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = perfgate::spec::load(&root.join("fixtures/specs/swarm/segment_404s.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = perfgate::run::RunOptions {
        out_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("swarm-404"),
        progress: None,
        host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
        ..perfgate::run::RunOptions::default()
    };
    let record = perfgate::run::run_spec(&spec, &opts).await;
    assert_eq!(record.failure, None, "the run itself succeeds");
    let verdict = |id: &str| {
        record
            .verdict(id)
            .unwrap_or_else(|| panic!("no verdict {id}"))
            .clone()
    };
    assert!(verdict("every_client_played").outcome.passed());
    let not_found = verdict("no_segment_404");
    assert!(!not_found.outcome.passed(), "the gate catches the 404s");
    let observed = not_found
        .series
        .first()
        .and_then(|s| s.samples.first())
        .map(|p| p.v);
    assert!(observed.is_some_and(|v| v > 0.0), "{not_found:?}");
    assert!(!verdict("no_client_stalled").outcome.passed());
    let swarm = record.phases[0]
        .load
        .as_ref()
        .expect("swarm outcome")
        .to_json();
    assert!(
        swarm["errors"]["http_404"].as_u64().is_some_and(|n| n > 0),
        "{swarm}"
    );
    for pid in record.services.iter().map(|s| s.pid) {
        assert!(!exists(pid), "service pid {pid} outlived the run");
    }
}

fn perfgate() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"))
}

#[test]
fn the_cli_refuses_an_external_origin_without_the_flag() {
    let out = perfgate()
        .args(["swarm", "--url", "http://example.net/live.m3u8", "--quiet"])
        .output()
        .expect("perfgate runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to send load to `http://example.net/live.m3u8`")
            && stderr.contains("--allow-external"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_of_perfgate_swarm_leaves_no_client() {
    let ffmpeg = require_ffmpeg!();
    let _turn = slots::one_of("swarm");
    let source = HlsSource::live(&ffmpeg).await.expect("hls source");
    let url = source.url();
    let mut cli = perfgate()
        .args(["swarm", "--url", &url, "--clients", "3", "--ramp", "max"])
        .args(["--duration", "60s", "--quiet"])
        .env("PERFGATE_FFMPEG", &ffmpeg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("perfgate runs");
    let pids = wait_for_clients(&url, 3, Duration::from_secs(10)).await;
    let pid = nix::unistd::Pid::from_raw(cli.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = cli.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "perfgate did not exit after SIGINT"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(130));
    assert_gone(&pids, Duration::from_secs(2)).await;
    assert!(pids_with(&url).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_a_summary_and_serves_metrics_while_it_runs() {
    let ffmpeg = require_ffmpeg!();
    let _turn = slots::one_of("swarm");
    let source = HlsSource::live(&ffmpeg).await.expect("hls source");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let cli = tokio::process::Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args([
            "swarm",
            "--url",
            &source.url(),
            "--clients",
            "2",
            "--ramp",
            "4/s",
        ])
        .args([
            "--duration",
            "6s",
            "--json",
            "--metrics-port",
            &port.to_string(),
        ])
        .env("PERFGATE_FFMPEG", &ffmpeg)
        .kill_on_drop(true)
        .output();
    let scrape = async {
        let url = format!("http://127.0.0.1:{port}/metrics");
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            if let Ok(r) = reqwest::get(&url).await
                && let Ok(text) = r.text().await
                && text.contains(r#"perfgate_swarm_clients{phase="swarm",state="running"} 2"#)
            {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (out, scraped) = tokio::join!(cli, scrape);
    let out = out.expect("perfgate runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(scraped, "the metrics port never showed 2 running clients");
    assert!(stderr.contains("2 (2 produced media"), "{stderr}");
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json outcome");
    assert_eq!(outcome["clients_started"], 2);
    assert_eq!(outcome["errors_total"], 0);
    assert!(
        outcome["segments"].as_u64().is_some_and(|s| s > 0),
        "{outcome}"
    );
}

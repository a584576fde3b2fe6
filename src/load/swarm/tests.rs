//! Table tests of the supervisor (stall detection, back-off bounds, max restarts, ramp, end),
//! and parser tests on FFmpeg output recorded in fixtures/ffmpeg/.

use std::time::Duration;

use rstest::rstest;

use super::config::{RestartPolicy, SwarmConfig};
use super::events::{ClientEvent, ErrorKind, ExitStatus, ProgressBlock};
use super::supervisor::{ClientState, Effect, Supervisor};

fn timing(clients: u32, max_restarts: u32) -> SwarmConfig {
    SwarmConfig {
        ramp: 2.0,
        duration: Duration::from_secs(600),
        stall_after: Duration::from_secs(5),
        restart: RestartPolicy {
            max: max_restarts,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
        },
        media_window: Duration::from_secs(10),
        ..SwarmConfig::new(
            "ffmpeg".into(),
            "http://127.0.0.1:1/live.m3u8".into(),
            clients,
        )
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// What happens to the clients in a scripted run.
#[derive(Debug, Clone, Copy)]
enum Step {
    Tick,
    /// Client reports `media` seconds of media written.
    Media(u32, f64),
    Exit(u32, i32),
}

/// Runs `script` (time in seconds, step) and returns every effect with its time.
fn run(sup: &mut Supervisor, script: &[(f64, Step)]) -> Vec<(f64, Effect)> {
    let mut all = Vec::new();
    for &(t, step) in script {
        let mut out = Vec::new();
        let now = secs(t);
        match step {
            Step::Tick => sup.tick(now, &mut out),
            Step::Media(c, media) => {
                let attempt = sup.clients()[c as usize].attempt;
                let block = ProgressBlock {
                    frame: (media * 25.0) as u64,
                    out_time_us: Some((media * 1e6) as u64),
                    speed: Some(1.0),
                    ..ProgressBlock::default()
                };
                sup.event(now, c, attempt, &ClientEvent::Progress(block), &mut out);
            }
            Step::Exit(c, code) => {
                let attempt = sup.clients()[c as usize].attempt;
                let status = ClientEvent::Exited(ExitStatus::Code(code));
                sup.event(now, c, attempt, &status, &mut out);
            }
        }
        all.extend(out.into_iter().map(|e| (t, e)));
    }
    all
}

/// Ticks every 0.1 s from `from` to `to` (inclusive), as the engine would.
fn ticks(from: f64, to: f64) -> Vec<(f64, Step)> {
    let n = ((to - from) * 10.0).round() as u32;
    (0..=n)
        .map(|i| (from + f64::from(i) / 10.0, Step::Tick))
        .collect()
}

fn stalls(effects: &[(f64, Effect)]) -> Vec<f64> {
    effects
        .iter()
        .filter(|(_, e)| matches!(e, Effect::Stalled { .. }))
        .map(|(t, _)| (t * 10.0).round() / 10.0)
        .collect()
}

#[test]
fn the_ramp_starts_clients_at_its_rate() {
    let mut sup = Supervisor::new(&timing(3, 0));
    let effects = run(&mut sup, &ticks(0.0, 1.0));
    let spawns: Vec<(f64, u32)> = effects
        .iter()
        .filter_map(|(t, e)| match e {
            Effect::Spawn { client, attempt: 1 } => Some((*t, *client)),
            _ => None,
        })
        .collect();
    assert_eq!(spawns, [(0.0, 0), (0.5, 1), (1.0, 2)]);
    assert!(
        sup.clients()
            .iter()
            .all(|c| c.state == ClientState::Starting)
    );
}

#[rstest]
#[case::never_any_media(vec![], vec![5.0])]
#[case::media_every_second(
    (1..=12).map(|s| (f64::from(s), f64::from(s))).collect(),
    vec![]
)]
#[case::media_in_two_second_segments(
    (1..=6).map(|s| (f64::from(2 * s), f64::from(2 * s))).collect(),
    vec![]
)]
#[case::blocks_keep_coming_but_media_stops_at_3s(
    vec![(1.0, 1.0), (2.0, 2.0), (3.0, 3.0), (4.0, 3.0), (5.0, 3.0), (7.0, 3.0)],
    vec![8.0]
)]
fn stall_detection(#[case] media: Vec<(f64, f64)>, #[case] expected: Vec<f64>) {
    let mut sup = Supervisor::new(&timing(1, 0));
    let mut script: Vec<(f64, Step)> = ticks(0.0, 12.0);
    script.extend(media.iter().map(|&(t, m)| (t, Step::Media(0, m))));
    // Events at a time come before that time's tick, as a busy loop would take them.
    script.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(matches!(a.1, Step::Tick).cmp(&matches!(b.1, Step::Tick)))
    });
    let effects = run(&mut sup, &script);
    assert_eq!(stalls(&effects), expected, "{effects:?}");
    // A stalled client is killed at once.
    for (t, e) in &effects {
        if let Effect::Stalled { client } = e {
            assert!(effects.contains(&(*t, Effect::Kill { client: *client })));
        }
    }
}

#[rstest]
#[case(0, 1)]
#[case(1, 2)]
#[case(2, 4)]
#[case(3, 8)]
#[case(4, 16)]
#[case(5, 30)]
#[case(6, 30)]
#[case(40, 30)]
#[case(u32::MAX, 30)]
fn backoff_doubles_within_its_bounds(#[case] done: u32, #[case] expected_secs: u64) {
    assert_eq!(
        timing(1, 3).restart.delay(done),
        Duration::from_secs(expected_secs)
    );
}

#[test]
fn failures_restart_after_the_backoff_until_max_then_fail() {
    let mut sup = Supervisor::new(&timing(1, 2));
    let mut script = vec![(0.0, Step::Tick), (0.5, Step::Exit(0, 1))];
    script.extend(ticks(0.6, 1.6));
    script.push((1.7, Step::Exit(0, 1)));
    script.extend(ticks(1.8, 4.0));
    script.push((4.1, Step::Exit(0, 1)));
    script.extend(ticks(4.2, 20.0));
    let effects = run(&mut sup, &script);
    let restarts: Vec<f64> = effects
        .iter()
        .filter(|(_, e)| matches!(e, Effect::Restarted { .. }))
        .map(|(t, _)| (t * 10.0).round() / 10.0)
        .collect();
    // 1 s after the first exit, 2 s after the second; none after the third.
    assert_eq!(restarts, [1.5, 3.7]);
    let exits = effects
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                Effect::Exited {
                    kind: ErrorKind::Exit,
                    ..
                }
            )
        })
        .count();
    assert_eq!(exits, 3);
    let c = &sup.clients()[0];
    assert_eq!(
        (c.state, c.restarts, c.attempt),
        (ClientState::Failed, 2, 3)
    );
}

#[test]
fn a_stalled_client_is_restarted_and_a_clean_exit_with_no_restart_left_is_stopped() {
    let mut sup = Supervisor::new(&timing(1, 1));
    let mut script = ticks(0.0, 5.0);
    // Killed for the stall at 5 s: the signal exit is not an error of its own.
    script.push((5.05, Step::Exit(0, -9)));
    script.extend(ticks(5.1, 6.1));
    script.push((7.0, Step::Media(0, 2.0)));
    script.push((8.0, Step::Exit(0, 0)));
    script.extend(ticks(8.1, 20.0));
    let effects = run(&mut sup, &script);
    assert_eq!(stalls(&effects), [5.0]);
    let errors: Vec<&Effect> = effects
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e, Effect::Exited { .. }))
        .collect();
    assert_eq!(
        errors,
        [&Effect::Exited {
            client: 0,
            kind: ErrorKind::Eof
        }]
    );
    let first_media: Vec<_> = effects
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::FirstMedia { after, .. } => Some(*after),
            _ => None,
        })
        .collect();
    // The restart at 6.1 s produced media at 7 s.
    assert_eq!(first_media.len(), 1);
    assert!(
        (first_media[0].as_secs_f64() - 0.9).abs() < 1e-6,
        "{first_media:?}"
    );
    assert_eq!(sup.clients()[0].state, ClientState::Stopped);
    assert!(sup.clients()[0].ever_ran);
}

#[test]
fn the_end_kills_every_live_client_and_stale_events_are_ignored() {
    let mut sup = Supervisor::new(&SwarmConfig {
        duration: secs(3.0),
        ..timing(3, 0)
    });
    let mut script = ticks(0.0, 1.0);
    script.push((1.1, Step::Media(0, 1.0)));
    script.push((1.2, Step::Exit(2, 1)));
    script.extend(ticks(1.3, 3.0));
    let effects = run(&mut sup, &script);
    let kills: Vec<Effect> = effects
        .iter()
        .filter(|(t, _)| *t >= 3.0)
        .map(|(_, e)| *e)
        .collect();
    assert_eq!(
        kills,
        [Effect::Kill { client: 0 }, Effect::Kill { client: 1 }]
    );
    assert!(sup.ended() && !sup.all_exited());
    let states: Vec<ClientState> = sup.clients().iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        [
            ClientState::Stopped,
            ClientState::Stopped,
            ClientState::Failed
        ]
    );
    let mut out = Vec::new();
    // An event of an older process changes nothing.
    sup.event(
        secs(3.1),
        0,
        7,
        &ClientEvent::Exited(ExitStatus::Code(0)),
        &mut out,
    );
    assert!(!sup.all_exited());
    for c in 0..2 {
        sup.event(
            secs(3.2),
            c,
            1,
            &ClientEvent::Exited(ExitStatus::Signal(9)),
            &mut out,
        );
    }
    assert!(sup.all_exited() && out.is_empty(), "{out:?}");
    assert_eq!(sup.next_due(), None);
}

#[rstest]
#[case::keeping_up_after_a_burst(6.0, 2.0, 2.0, Some(1.0))]
#[case::falling_behind(6.0, 2.0, 2.5, Some(0.8))]
#[case::not_yet_half_a_window(0.0, 2.0, 2.0, None)]
fn media_speed_is_measured_between_advances_and_leaves_the_burst_out(
    #[case] burst: f64,
    #[case] step: f64,
    #[case] every: f64,
    #[case] expected: Option<f64>,
) {
    let mut sup = Supervisor::new(&timing(1, 0));
    let mut script = vec![(0.0, Step::Tick), (0.5, Step::Media(0, burst))];
    let advances = if expected.is_some() { 8 } else { 2 };
    for i in 1..=advances {
        let t = 0.5 + f64::from(i) * every;
        script.push((t, Step::Media(0, burst + f64::from(i) * step)));
        script.push((t, Step::Tick));
    }
    run(&mut sup, &script);
    let got = sup.clients()[0].media_speed();
    match (got, expected) {
        (Some(g), Some(e)) => assert!((g - e).abs() < 1e-9, "{g} != {e}"),
        (g, e) => assert_eq!(g, e),
    }
}

#[test]
fn the_next_due_time_covers_ramp_stalls_and_restarts() {
    let mut sup = Supervisor::new(&timing(2, 1));
    assert_eq!(sup.next_due(), Some(Duration::ZERO));
    run(&mut sup, &[(0.0, Step::Tick)]);
    // The second start of the ramp.
    assert_eq!(sup.next_due(), Some(secs(0.5)));
    run(
        &mut sup,
        &[
            (0.5, Step::Tick),
            (1.0, Step::Media(0, 1.0)),
            (1.0, Step::Tick),
        ],
    );
    // Client 1 stalls first (no media since 0.5 s).
    assert_eq!(sup.next_due(), Some(secs(5.5)));
    run(&mut sup, &[(1.2, Step::Exit(0, 1))]);
    // The restart in 1 s comes before that, without a tick.
    assert_eq!(sup.next_due(), Some(secs(2.2)));
}

/// A fixture's output through both parsers.
#[derive(Debug, serde::Serialize)]
struct Parsed {
    progress: Vec<ProgressBlock>,
    stderr: Vec<ClientEvent>,
}

fn parse_fixture(name: &str) -> Parsed {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ffmpeg");
    let read = |ext: &str| {
        let path = dir.join(format!("{name}.{ext}"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut progress = super::progress::ProgressParser::default();
    let mut stderr = super::stderr::StderrParser::default();
    Parsed {
        progress: read("progress")
            .lines()
            .filter_map(|l| progress.line(l))
            .collect(),
        stderr: read("stderr")
            .lines()
            .filter_map(|l| stderr.line(l))
            .collect(),
    }
}

fn errors(parsed: &Parsed) -> Vec<ErrorKind> {
    let mut kinds: Vec<ErrorKind> = parsed
        .stderr
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Error(k) => Some(*k),
            _ => None,
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Recorded with `cargo test --test it -- --ignored record_ffmpeg_fixtures` (FFmpeg 9.0).
#[rstest]
#[case::progress("progress", &[])]
#[case::http_404("http_404", &[ErrorKind::Http(404), ErrorKind::SegmentFailed])]
#[case::http_503("http_503", &[ErrorKind::Http(503), ErrorKind::PlaylistFailed])]
#[case::reconnect("reconnect", &[ErrorKind::Reconnect, ErrorKind::Truncated])]
#[case::truncated("truncated", &[ErrorKind::Truncated, ErrorKind::SegmentFailed])]
#[case::refused("refused", &[ErrorKind::Connect, ErrorKind::Reconnect])]
#[case::eof("eof", &[])]
fn recorded_output_parses_into_events(#[case] name: &str, #[case] kinds: &[ErrorKind]) {
    let parsed = parse_fixture(name);
    let mut expected = kinds.to_vec();
    expected.sort();
    assert_eq!(errors(&parsed), expected);
    insta::assert_yaml_snapshot!(format!("ffmpeg_{name}"), parsed);
}

#[test]
fn a_healthy_client_advances_and_ends_with_an_end_block() {
    let parsed = parse_fixture("progress");
    let times: Vec<u64> = parsed
        .progress
        .iter()
        .filter_map(|b| b.out_time_us)
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(
        parsed
            .progress
            .last()
            .is_some_and(|b| b.end && b.has_media())
    );
    let sizes: Vec<u64> = parsed
        .progress
        .iter()
        .filter_map(|b| b.total_size)
        .collect();
    assert!(sizes.last().is_some_and(|s| *s > 100_000), "{sizes:?}");
    let segments = parsed
        .stderr
        .iter()
        .filter(|e| matches!(e, ClientEvent::Segment { .. }))
        .count();
    assert!(segments >= 6, "{:?}", parsed.stderr);
}

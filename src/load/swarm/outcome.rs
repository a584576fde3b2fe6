//! What a swarm reports: the live snapshot (for dashboards and progress lines) and the
//! serialisable outcome of the whole phase.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::supervisor::{ClientState, STATES};

/// Clients by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    pub pending: u32,
    pub starting: u32,
    pub running: u32,
    pub stalled: u32,
    pub backoff: u32,
    pub stopped: u32,
    pub failed: u32,
}

impl StateCounts {
    /// From counts in `STATES` order.
    pub(crate) fn from_array(c: [u32; 7]) -> Self {
        Self {
            pending: c[0],
            starting: c[1],
            running: c[2],
            stalled: c[3],
            backoff: c[4],
            stopped: c[5],
            failed: c[6],
        }
    }

    pub fn get(&self, state: ClientState) -> u32 {
        match state {
            ClientState::Pending => self.pending,
            ClientState::Starting => self.starting,
            ClientState::Running => self.running,
            ClientState::Stalled => self.stalled,
            ClientState::Backoff => self.backoff,
            ClientState::Stopped => self.stopped,
            ClientState::Failed => self.failed,
        }
    }

    /// `running 96 starting 2 stalled 1` — the non-zero states.
    pub fn line(&self) -> String {
        let parts: Vec<String> = STATES
            .iter()
            .map(|s| (s.label(), self.get(*s)))
            .filter(|(_, n)| *n > 0)
            .map(|(l, n)| format!("{l} {n}"))
            .collect();
        parts.join(" ")
    }
}

/// FFmpeg's reported speed across running clients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeedQuantiles {
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub min: f64,
    /// Clients measured.
    pub clients: u64,
}

/// Time from a process start to its first media, in seconds (every start, restarts included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TtffSummary {
    pub count: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// A live view of a swarm, published about every 200 ms.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SwarmProgress {
    /// Seconds since the swarm started, and its planned length.
    pub elapsed: f64,
    pub duration: f64,
    pub clients: StateCounts,
    /// FFmpeg's speed (a running average since each client's start, so the start-up burst
    /// keeps it above 1 for a while); `None` while no client is running.
    pub speed: Option<SpeedQuantiles>,
    /// Media time gained per wall second over the media window, across running clients: 1.0 for a
    /// client keeping up with a live stream.
    pub media_speed: Option<SpeedQuantiles>,
    /// Bytes received per second over the last 2 s.
    pub bytes_per_second: f64,
    pub bytes: u64,
    pub segments: u64,
    pub playlists: u64,
    /// Errors by kind (`http_404`, `connect`, …).
    pub errors: BTreeMap<String, u64>,
    pub stalls: u64,
    pub restarts: u64,
    pub ttff: Option<TtffSummary>,
}

impl SwarmProgress {
    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// The result of one swarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwarmOutcome {
    pub phase: String,
    pub url: String,
    pub clients: u32,
    /// Client starts per second; `None`: all at once.
    pub ramp: Option<f64>,
    pub decode: bool,
    /// Planned and actual length, in seconds.
    pub duration: f64,
    pub wall_duration: f64,
    /// Clients that produced media at least once.
    pub clients_started: u32,
    /// The most clients running at one snapshot.
    pub peak_running: u32,
    /// Clients left failed (no restart left).
    pub clients_failed: u32,
    /// Processes started, restarts included.
    pub spawns: u64,
    pub restarts: u64,
    pub stalls: u64,
    pub segments: u64,
    /// Same as `segments`; named so the phase table shows it.
    pub completed: u64,
    pub playlists: u64,
    pub bytes: u64,
    pub errors: BTreeMap<String, u64>,
    pub errors_total: u64,
    /// The last speed quantiles measured while clients ran (FFmpeg's and the media speed).
    pub speed: Option<SpeedQuantiles>,
    pub media_speed: Option<SpeedQuantiles>,
    pub ttff: Option<TtffSummary>,
}

/// `12.0s/60s running 96 starting 4 | speed p5 0.99 p50 1.02 | 1.9 MB/s | segs 123 | errors 0`.
pub fn progress_line(p: &SwarmProgress) -> String {
    let speed = p.media_speed.map_or("media speed -".to_owned(), |s| {
        format!(
            "media speed p5 {:.2} p50 {:.2} p99 {:.2}",
            s.p5, s.p50, s.p99
        )
    });
    format!(
        "{:.1}s/{:.0}s {} | {speed} | {} | segments {} | stalls {} restarts {} | errors {}",
        p.elapsed,
        p.duration,
        p.clients.line(),
        rate(p.bytes_per_second),
        p.segments,
        p.stalls,
        p.restarts,
        p.errors_total(),
    )
}

/// `1.9 MB/s`.
pub fn rate(bytes_per_second: f64) -> String {
    match bytes_per_second {
        b if b >= 1e9 => format!("{:.1} GB/s", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB/s", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB/s", b / 1e3),
        b => format!("{b:.0} B/s"),
    }
}

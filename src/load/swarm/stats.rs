//! The stats aggregator: folds client events and supervisor effects into running totals, and
//! every ~200 ms takes a snapshot across clients — clients by state, speed percentiles (HDR
//! histogram over the running clients' last reported speed), bytes/s over a sliding window,
//! time-to-first-frame percentiles.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::events::{ClientEvent, ErrorKind};
use super::outcome::{SpeedQuantiles, StateCounts, SwarmProgress, TtffSummary};
use super::supervisor::{Client, ClientState, Effect};

/// Speeds are recorded in thousandths: 0.001x resolution, up to 10 000x.
const SPEED_SCALE: f64 = 1000.0;
const MAX_SPEED_MILLI: u64 = 10_000_000;
/// Time to first frame in ms, up to an hour.
const MAX_TTFF_MS: u64 = 3_600_000;
/// The window bytes/s is averaged over.
const RATE_WINDOW: Duration = Duration::from_secs(2);

/// Running totals, plus what a snapshot needs.
#[derive(Debug)]
pub(crate) struct Aggregator {
    pub segments: u64,
    pub playlists: u64,
    pub bytes: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub stalls: u64,
    pub restarts: u64,
    pub spawns: u64,
    /// The most clients running at one snapshot.
    pub peak_running: u32,
    ttff: Histogram<u64>,
    speeds: Histogram<u64>,
    media_speeds: Histogram<u64>,
    byte_marks: VecDeque<(Duration, u64)>,
    /// Each client's current process's last `total_size`.
    sizes: Vec<u64>,
    /// The last speed quantiles measured while clients were running.
    pub last_speed: Option<SpeedQuantiles>,
    pub last_media_speed: Option<SpeedQuantiles>,
}

impl Aggregator {
    pub(crate) fn new(clients: u32) -> Result<Self, hdrhistogram::CreationError> {
        Ok(Self {
            segments: 0,
            playlists: 0,
            bytes: 0,
            errors: BTreeMap::new(),
            stalls: 0,
            restarts: 0,
            spawns: 0,
            peak_running: 0,
            ttff: Histogram::new_with_bounds(1, MAX_TTFF_MS, 3)?,
            speeds: Histogram::new_with_bounds(1, MAX_SPEED_MILLI, 3)?,
            media_speeds: Histogram::new_with_bounds(1, MAX_SPEED_MILLI, 3)?,
            byte_marks: VecDeque::new(),
            sizes: vec![0; clients as usize],
            last_speed: None,
            last_media_speed: None,
        })
    }

    /// Counts `client`'s event; returns the bytes it received since its last progress block.
    pub(crate) fn event(&mut self, client: u32, event: &ClientEvent) -> u64 {
        match event {
            ClientEvent::Segment { .. } => self.segments += 1,
            ClientEvent::Playlist { .. } => self.playlists += 1,
            ClientEvent::Error(kind) => *self.errors.entry(*kind).or_default() += 1,
            ClientEvent::Progress(block) => {
                if let (Some(size), Some(last)) =
                    (block.total_size, self.sizes.get_mut(client as usize))
                {
                    let new = size.saturating_sub(*last);
                    *last = size.max(*last);
                    self.bytes += new;
                    return new;
                }
            }
            ClientEvent::Exited(_) => {}
        }
        0
    }

    pub(crate) fn effect(&mut self, effect: &Effect) {
        match effect {
            Effect::Spawn { client, .. } => {
                self.spawns += 1;
                if let Some(size) = self.sizes.get_mut(*client as usize) {
                    *size = 0;
                }
            }
            Effect::Stalled { .. } => self.stalls += 1,
            Effect::Restarted { .. } => self.restarts += 1,
            Effect::FirstMedia { after, .. } => {
                let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX).max(1);
                self.ttff.saturating_record(ms);
            }
            Effect::Exited { kind, .. } => *self.errors.entry(*kind).or_default() += 1,
            Effect::Kill { .. } => {}
        }
    }

    /// A snapshot across `clients` at `elapsed` (of `duration`).
    pub(crate) fn snapshot(
        &mut self,
        elapsed: Duration,
        duration: Duration,
        clients: &[Client],
    ) -> SwarmProgress {
        let mut counts = [0u32; 7];
        self.speeds.reset();
        self.media_speeds.reset();
        for c in clients {
            counts[c.state.index()] += 1;
            if c.state == ClientState::Running {
                record_speed(&mut self.speeds, c.speed);
                record_speed(&mut self.media_speeds, c.media_speed());
            }
        }
        let clients = StateCounts::from_array(counts);
        self.peak_running = self.peak_running.max(clients.running);
        let speed = quantiles(&self.speeds);
        let media_speed = quantiles(&self.media_speeds);
        self.last_speed = speed.or(self.last_speed);
        self.last_media_speed = media_speed.or(self.last_media_speed);
        SwarmProgress {
            elapsed: elapsed.as_secs_f64(),
            duration: duration.as_secs_f64(),
            clients,
            speed,
            media_speed,
            bytes_per_second: self.byte_rate(elapsed),
            bytes: self.bytes,
            segments: self.segments,
            playlists: self.playlists,
            errors: self.error_labels(),
            stalls: self.stalls,
            restarts: self.restarts,
            ttff: self.ttff(),
        }
    }

    /// Errors by their metric label.
    pub(crate) fn error_labels(&self) -> BTreeMap<String, u64> {
        self.errors.iter().map(|(k, n)| (k.label(), *n)).collect()
    }

    pub(crate) fn ttff(&self) -> Option<TtffSummary> {
        let h = &self.ttff;
        (!h.is_empty()).then(|| {
            let s = |ms: u64| ms as f64 / 1000.0;
            TtffSummary {
                count: h.len(),
                p50: s(h.value_at_quantile(0.50)),
                p95: s(h.value_at_quantile(0.95)),
                p99: s(h.value_at_quantile(0.99)),
                max: s(h.max()),
            }
        })
    }

    /// Bytes per second over the last `RATE_WINDOW` (or since the start).
    fn byte_rate(&mut self, now: Duration) -> f64 {
        self.byte_marks.push_back((now, self.bytes));
        while self
            .byte_marks
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > RATE_WINDOW)
            && self.byte_marks.len() > 2
        {
            self.byte_marks.pop_front();
        }
        match (self.byte_marks.front(), self.byte_marks.back()) {
            (Some((t0, b0)), Some((t1, b1))) if t1 > t0 => {
                (b1 - b0) as f64 / (*t1 - *t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

fn record_speed(histogram: &mut Histogram<u64>, speed: Option<f64>) {
    if let Some(speed) = speed {
        histogram.saturating_record((speed.max(0.0) * SPEED_SCALE).round() as u64);
    }
}

fn quantiles(h: &Histogram<u64>) -> Option<SpeedQuantiles> {
    (!h.is_empty()).then(|| {
        let q = |p: f64| h.value_at_quantile(p) as f64 / SPEED_SCALE;
        SpeedQuantiles {
            p5: q(0.05),
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            min: h.min() as f64 / SPEED_SCALE,
            clients: h.len(),
        }
    })
}

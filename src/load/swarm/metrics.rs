//! The swarm's series (`perfgate_swarm_*`), registered next to the other engines' in
//! `EngineMetrics`: an aggregate tier always, and with `per_client_metrics` a
//! `perfgate_swarm_client_*{client="N"}` tier.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::events::ErrorKind;
use super::outcome::SwarmProgress;
use super::supervisor::STATES;
use crate::load::labels::PhaseLabel;

/// Time-to-first-frame buckets, seconds.
pub const TTFF_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0,
];
/// Error kinds whose series exist at zero from the start, so `… == 0` gates have a value.
const KNOWN_KINDS: [ErrorKind; 17] = [
    ErrorKind::Http(403),
    ErrorKind::Http(404),
    ErrorKind::Http(410),
    ErrorKind::Http(500),
    ErrorKind::Http(502),
    ErrorKind::Http(503),
    ErrorKind::Http(504),
    ErrorKind::Connect,
    ErrorKind::Reconnect,
    ErrorKind::Truncated,
    ErrorKind::SegmentFailed,
    ErrorKind::PlaylistFailed,
    ErrorKind::Demux,
    ErrorKind::Other,
    ErrorKind::Exit,
    ErrorKind::Eof,
    ErrorKind::Spawn,
];
const QUANTILES: [&str; 4] = ["0.05", "0.5", "0.95", "0.99"];

/// The phase counters (`_total` is appended): name and help, in `Count` order.
const COUNTERS: [(&str, &str); 5] = [
    ("segments", "Media segments opened"),
    (
        "playlists",
        "Playlist requests FFmpeg logged (reloads over kept-alive connections)",
    ),
    (
        "bytes",
        "Bytes the clients received (as copied into their MPEG-TS output)",
    ),
    ("stalls", "Stalls detected (no media for stall_after)"),
    ("restarts", "Client restarts"),
];
/// The per-client counters, in `Count` order (`bytes` and `playlists` are left out).
const CLIENT_COUNTERS: [(&str, &str); 3] = [
    ("client_segments", "Segments opened, per client"),
    ("client_stalls", "Stalls, per client"),
    ("client_restarts", "Restarts, per client"),
];

/// What a counter counts; the index into `COUNTERS`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Count {
    Segments = 0,
    Playlists = 1,
    Bytes = 2,
    Stalls = 3,
    Restarts = 4,
}

impl Count {
    /// The index into `CLIENT_COUNTERS`, for what is also counted per client.
    fn per_client(self) -> Option<usize> {
        match self {
            Self::Segments => Some(0),
            Self::Stalls => Some(1),
            Self::Restarts => Some(2),
            Self::Playlists | Self::Bytes => None,
        }
    }
}

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StateLabels {
    pub phase: String,
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct QuantileLabels {
    pub phase: String,
    pub quantile: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabels {
    pub phase: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ClientLabels {
    pub phase: String,
    pub client: String,
}

/// The `perfgate_swarm_*` families.
pub struct SwarmMetrics {
    pub(crate) registry: Registry,
    clients: Family<StateLabels, Gauge>,
    speed: Family<QuantileLabels, FloatGauge>,
    media_speed: Family<QuantileLabels, FloatGauge>,
    counters: [Family<PhaseLabel, Counter>; 5],
    errors: Family<KindLabels, Counter>,
    ttff: Family<PhaseLabel, Histogram, fn() -> Histogram>,
    client_speed: Family<ClientLabels, FloatGauge>,
    client_errors: Family<ClientLabels, Counter>,
    client_counters: [Family<ClientLabels, Counter>; 3],
}

impl Default for SwarmMetrics {
    fn default() -> Self {
        Self::new()
    }
}

fn ttff_histogram() -> Histogram {
    Histogram::new(TTFF_BUCKETS)
}

impl SwarmMetrics {
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("perfgate_swarm");
        let m = Self {
            registry: Registry::default(),
            clients: Family::default(),
            speed: Family::default(),
            media_speed: Family::default(),
            counters: Default::default(),
            errors: Family::default(),
            ttff: Family::new_with_constructor(ttff_histogram),
            client_speed: Family::default(),
            client_errors: Family::default(),
            client_counters: Default::default(),
        };
        r.register("clients", "Clients by state", m.clients.clone());
        let speed_help = "FFmpeg's reported speed across running clients, by quantile";
        r.register("speed", speed_help, m.speed.clone());
        let media_help = "Media seconds gained per wall second over the media window (30 s unless set) across running clients, by quantile";
        r.register("media_speed", media_help, m.media_speed.clone());
        for ((name, help), family) in COUNTERS.iter().zip(&m.counters) {
            r.register(*name, *help, family.clone());
        }
        r.register("errors", "Client errors by kind", m.errors.clone());
        let ttff_help = "From a client process's start to its first media";
        r.register("time_to_first_frame_seconds", ttff_help, m.ttff.clone());
        let client_help = "FFmpeg's reported speed, per client";
        r.register("client_speed", client_help, m.client_speed.clone());
        r.register(
            "client_errors",
            "Errors, per client",
            m.client_errors.clone(),
        );
        for ((name, help), family) in CLIENT_COUNTERS.iter().zip(&m.client_counters) {
            r.register(*name, *help, family.clone());
        }
        Self { registry: r, ..m }
    }

    /// Creates one phase's series at zero before it runs (so they exist from the first scrape).
    pub fn create(&self, phase: &str, clients: u32, per_client: bool) {
        self.phase(phase, clients, per_client);
    }

    /// Handles on one phase's series, every aggregate series created at zero so it exists from
    /// the first scrape; the per-client tier only when asked for.
    pub(crate) fn phase(&self, phase: &str, clients: u32, per_client: bool) -> SwarmHandles {
        let label = PhaseLabel {
            phase: phase.to_owned(),
        };
        let per_client = per_client.then(|| {
            (0..clients)
                .map(|id| {
                    let l = ClientLabels {
                        phase: phase.to_owned(),
                        client: id.to_string(),
                    };
                    ClientHandles {
                        speed: self.client_speed.get_or_create_owned(&l),
                        errors: self.client_errors.get_or_create_owned(&l),
                        counters: self
                            .client_counters
                            .each_ref()
                            .map(|f| f.get_or_create_owned(&l)),
                    }
                })
                .collect()
        });
        let mut handles = SwarmHandles {
            phase: phase.to_owned(),
            states: STATES
                .iter()
                .map(|s| {
                    self.clients.get_or_create_owned(&StateLabels {
                        phase: phase.to_owned(),
                        state: s.label().to_owned(),
                    })
                })
                .collect(),
            speed: quantile_gauges(&self.speed, phase),
            media_speed: quantile_gauges(&self.media_speed, phase),
            counters: self
                .counters
                .each_ref()
                .map(|f| f.get_or_create_owned(&label)),
            ttff: self.ttff.get_or_create_owned(&label),
            errors: HashMap::new(),
            family_errors: self.errors.clone(),
            per_client,
        };
        for kind in KNOWN_KINDS {
            handles.error_counter(kind);
        }
        handles
    }
}

fn quantile_gauges(family: &Family<QuantileLabels, FloatGauge>, phase: &str) -> Vec<FloatGauge> {
    QUANTILES
        .iter()
        .map(|q| {
            family.get_or_create_owned(&QuantileLabels {
                phase: phase.to_owned(),
                quantile: (*q).to_owned(),
            })
        })
        .collect()
}

struct ClientHandles {
    speed: FloatGauge,
    errors: Counter,
    counters: [Counter; 3],
}

/// One phase's series, created once so events do no label hashing (error kinds beyond the
/// known ones are created on first sight).
pub(crate) struct SwarmHandles {
    phase: String,
    states: Vec<Gauge>,
    speed: Vec<FloatGauge>,
    media_speed: Vec<FloatGauge>,
    counters: [Counter; 5],
    ttff: Histogram,
    errors: HashMap<ErrorKind, Counter>,
    family_errors: Family<KindLabels, Counter>,
    per_client: Option<Vec<ClientHandles>>,
}

impl SwarmHandles {
    fn client(&self, id: u32) -> Option<&ClientHandles> {
        self.per_client.as_ref()?.get(id as usize)
    }

    /// Adds `n` to counter `what`, and to `client`'s when it is counted per client.
    pub(crate) fn count(&self, what: Count, client: u32, n: u64) {
        self.counters[what as usize].inc_by(n);
        if let (Some(i), Some(c)) = (what.per_client(), self.client(client)) {
            c.counters[i].inc_by(n);
        }
    }

    pub(crate) fn error(&mut self, client: u32, kind: ErrorKind) {
        self.error_counter(kind).inc();
        if let Some(c) = self.client(client) {
            c.errors.inc();
        }
    }

    fn error_counter(&mut self, kind: ErrorKind) -> &Counter {
        let (phase, family) = (&self.phase, &self.family_errors);
        self.errors.entry(kind).or_insert_with(|| {
            family.get_or_create_owned(&KindLabels {
                phase: phase.clone(),
                kind: kind.label(),
            })
        })
    }

    pub(crate) fn first_media(&self, seconds: f64) {
        self.ttff.observe(seconds);
    }

    /// Gauges from a snapshot. Speed quantiles keep their last values while no client runs
    /// (after the end), so a gate evaluated at the end of the phase sees what was measured.
    pub(crate) fn snapshot(&self, p: &SwarmProgress, speeds: impl Iterator<Item = Option<f64>>) {
        for (state, gauge) in STATES.iter().zip(&self.states) {
            gauge.set(i64::from(p.clients.get(*state)));
        }
        for (quantiles, gauges) in [(p.speed, &self.speed), (p.media_speed, &self.media_speed)] {
            if let Some(s) = quantiles {
                for (value, gauge) in [s.p5, s.p50, s.p95, s.p99].into_iter().zip(gauges) {
                    gauge.set(value);
                }
            }
        }
        if let Some(clients) = &self.per_client {
            for (c, speed) in clients.iter().zip(speeds) {
                if let Some(v) = speed {
                    c.speed.set(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_has_its_aggregate_series_at_zero_and_clients_only_when_asked() {
        let metrics = SwarmMetrics::new();
        let mut handles = metrics.phase("viewers", 2, true);
        handles.count(Count::Segments, 1, 3);
        handles.error(1, ErrorKind::Http(418));
        handles.first_media(0.6);
        let _quiet = metrics.phase("quiet", 2, false);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &metrics.registry).expect("encode");
        for needle in [
            r#"perfgate_swarm_clients{phase="viewers",state="stalled"} 0"#,
            r#"perfgate_swarm_segments_total{phase="viewers"} 3"#,
            r#"perfgate_swarm_stalls_total{phase="viewers"} 0"#,
            r#"perfgate_swarm_errors_total{phase="viewers",kind="http_404"} 0"#,
            r#"perfgate_swarm_errors_total{phase="viewers",kind="http_418"} 1"#,
            r#"perfgate_swarm_time_to_first_frame_seconds_bucket{le="0.75",phase="viewers"} 1"#,
            r#"perfgate_swarm_client_segments_total{phase="viewers",client="1"} 3"#,
            r#"perfgate_swarm_client_errors_total{phase="viewers",client="1"} 1"#,
            r#"perfgate_swarm_client_restarts_total{phase="viewers",client="0"} 0"#,
            r#"perfgate_swarm_speed{phase="viewers",quantile="0.05"} 0"#,
        ] {
            assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
        }
        assert!(!text.contains(r#"phase="quiet",client="#), "{text}");
    }
}

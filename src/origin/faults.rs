//! Per-request fault decisions (`faults:` of an `ffmpeg-origin`): an added delay with jitter, a
//! share of requests answered with an error status, and segments that answer 404 from some time
//! after the first segment request on (a CDN losing its content mid-run).

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

use crate::spec::{FaultTarget, OriginFaults};

/// What is asked for, as the `object` label of the origin's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Object {
    Playlist,
    Segment,
    /// Anything else (always 404).
    Other,
}

impl Object {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Object::Playlist => "playlist",
            Object::Segment => "segment",
            Object::Other => "other",
        }
    }
}

/// Why a request was answered with an injected status, as the `kind` label of
/// `perfgate_origin_faults_total`.
pub(crate) const ERROR: &str = "error";
pub(crate) const SEGMENT_404: &str = "segment_404";

/// How one request is to be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Wait this long before answering.
    pub(crate) delay: Duration,
    /// `Some((status, kind))`: answer with this status instead of the object.
    pub(crate) fail: Option<(u16, &'static str)>,
}

pub(crate) struct Faults {
    config: OriginFaults,
    rng: Mutex<SmallRng>,
    first_segment: OnceLock<Instant>,
}

impl Faults {
    pub(crate) fn new(config: OriginFaults) -> Self {
        Self {
            rng: Mutex::new(SmallRng::seed_from_u64(config.seed)),
            config,
            first_segment: OnceLock::new(),
        }
    }

    /// The plan for a request for `object` arriving at `now`.
    pub(crate) fn plan(&self, object: Object, now: Instant) -> Plan {
        let c = &self.config;
        let mut plan = Plan {
            delay: Duration::ZERO,
            fail: None,
        };
        if object == Object::Segment
            && let Some(after) = c.segment_404_after
        {
            let first = *self.first_segment.get_or_init(|| now);
            if now.saturating_duration_since(first) >= after {
                plan.fail = Some((404, SEGMENT_404));
            }
        }
        let affected = match c.applies_to {
            FaultTarget::All => object != Object::Other,
            FaultTarget::Playlist => object == Object::Playlist,
            FaultTarget::Segment => object == Object::Segment,
        };
        if !affected || (c.latency.is_zero() && c.jitter.is_zero() && c.error_rate == 0.0) {
            return plan;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        plan.delay = c.latency
            + if c.jitter.is_zero() {
                Duration::ZERO
            } else {
                c.jitter.mul_f64(rng.random::<f64>())
            };
        if plan.fail.is_none() && c.error_rate > 0.0 && rng.random::<f64>() < c.error_rate {
            plan.fail = Some((c.status, ERROR));
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(f: impl FnOnce(&mut OriginFaults)) -> Faults {
        let mut config = OriginFaults::default();
        f(&mut config);
        Faults::new(config)
    }

    #[test]
    fn no_faults_serve_at_once() {
        let f = faults(|_| {});
        let now = Instant::now();
        for object in [Object::Playlist, Object::Segment, Object::Other] {
            assert_eq!(
                f.plan(object, now),
                Plan {
                    delay: Duration::ZERO,
                    fail: None
                }
            );
        }
    }

    #[test]
    fn delay_stays_within_latency_plus_jitter_and_varies() {
        let f = faults(|c| {
            c.latency = Duration::from_millis(50);
            c.jitter = Duration::from_millis(20);
        });
        let now = Instant::now();
        let delays: Vec<Duration> = (0..200)
            .map(|_| f.plan(Object::Segment, now).delay)
            .collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(50) && *d < Duration::from_millis(70))
        );
        assert!(delays.iter().any(|d| *d != delays[0]), "jitter varies");
    }

    #[test]
    fn error_rate_is_honoured_for_its_target_only() {
        let f = faults(|c| {
            c.error_rate = 0.25;
            c.status = 502;
            c.applies_to = FaultTarget::Segment;
        });
        let now = Instant::now();
        let failed = (0..4000)
            .filter(|_| f.plan(Object::Segment, now).fail == Some((502, ERROR)))
            .count();
        assert!((800..1200).contains(&failed), "{failed} of 4000 at 25%");
        assert!((0..100).all(|_| f.plan(Object::Playlist, now).fail.is_none()));
    }

    #[test]
    fn the_same_seed_draws_the_same_errors() {
        let draw = || {
            let f = faults(|c| c.error_rate = 0.5);
            let now = Instant::now();
            (0..64)
                .map(|_| f.plan(Object::Playlist, now).fail.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(), draw());
    }

    #[test]
    fn segments_answer_404_from_the_set_time_after_the_first_segment_request() {
        let f = faults(|c| c.segment_404_after = Some(Duration::from_secs(20)));
        let t0 = Instant::now();
        // The playlist does not start the clock.
        assert_eq!(f.plan(Object::Playlist, t0).fail, None);
        let first = t0 + Duration::from_secs(5);
        assert_eq!(f.plan(Object::Segment, first).fail, None);
        assert_eq!(
            f.plan(Object::Segment, first + Duration::from_secs(19))
                .fail,
            None
        );
        let late = first + Duration::from_secs(20);
        assert_eq!(f.plan(Object::Segment, late).fail, Some((404, SEGMENT_404)));
        assert_eq!(f.plan(Object::Playlist, late).fail, None);
    }
}

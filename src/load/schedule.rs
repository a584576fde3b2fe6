//! Arrival schedules shared by the load engines: a constant rate with an optional linear ramp,
//! in closed form, bounded by the phase duration; or closed loop (`Rate(f64::INFINITY)`).

use std::time::Duration;

use crate::spec::{Ramp, Rate};

/// Safety bound on closed-loop phases: no engine can send more than this many requests per second
/// of phase, so even a runaway loop stops in count as well as in time.
pub const CLOSED_LOOP_MAX_RATE: f64 = 5_000_000.0;

/// When the n-th arrival of a phase is due, relative to the phase start.
///
/// With a ramp, the rate rises (or falls) linearly from `from` to `rate` over `over`, then stays
/// at `rate`. The cumulative arrival count is the integral of the rate,
/// `A(t) = from·t + (rate − from)·t²/(2·over)` during the ramp, and arrival `n` (0-based) is due
/// at the `t` where `A(t) = n`: arrival 0 is due at the phase start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    kind: Kind,
    duration: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    ClosedLoop,
    Open { rate: f64, ramp: Option<(f64, f64)> },
}

impl Schedule {
    /// Builds a schedule (`Err`: why the rates are invalid); rates must be finite and ≥ 0, except `rate` = ∞ (closed loop, where
    /// any ramp is ignored: there is no rate to ramp).
    pub fn new(rate: Rate, ramp: Option<Ramp>, duration: Duration) -> Result<Self, String> {
        let r = rate.per_second();
        if r == f64::INFINITY {
            return Ok(Self {
                kind: Kind::ClosedLoop,
                duration,
            });
        }
        if !r.is_finite() || r < 0.0 {
            return Err(format!("rate must be ≥ 0/s, got {r}"));
        }
        let ramp = match ramp {
            Some(Ramp { from, over }) if !over.is_zero() => {
                let f = from.per_second();
                if !f.is_finite() || f < 0.0 {
                    return Err(format!("ramp start rate must be finite and ≥ 0/s, got {f}"));
                }
                Some((f, over.as_secs_f64()))
            }
            // A zero-length ramp is no ramp.
            _ => None,
        };
        Ok(Self {
            kind: Kind::Open { rate: r, ramp },
            duration,
        })
    }

    pub fn is_closed_loop(&self) -> bool {
        matches!(self.kind, Kind::ClosedLoop)
    }

    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Arrivals due within the phase (`A(duration)`, rounded up), or the closed-loop safety cap.
    pub fn max_arrivals(&self) -> u64 {
        let d = self.duration.as_secs_f64();
        let count = match self.kind {
            Kind::ClosedLoop => CLOSED_LOOP_MAX_RATE * d,
            Kind::Open { .. } => self.cumulative(d),
        };
        // Arrival n is due at A⁻¹(n), so arrivals 0..ceil(A(d)) fall strictly before d.
        count.ceil().max(0.0) as u64
    }

    /// Offset from the phase start at which arrival `n` (0-based) is due, or `None` when it
    /// falls at or after the end of the phase. Always `None` in closed loop (no schedule).
    pub fn offset_of(&self, n: u64) -> Option<Duration> {
        let Kind::Open { rate, ramp } = self.kind else {
            return None;
        };
        let n = n as f64;
        let t = match ramp {
            Some((from, over)) if n < (from + rate) * over / 2.0 => {
                let a = (rate - from) / (2.0 * over);
                let disc = from * from + 4.0 * a * n;
                // Root of a·t² + from·t − n = 0 in the form that stays exact when a → 0 and for
                // a falling ramp (a < 0), where the textbook form cancels catastrophically.
                let denom = from + disc.max(0.0).sqrt();
                if n == 0.0 {
                    0.0
                } else if denom > 0.0 {
                    2.0 * n / denom
                } else {
                    return None;
                }
            }
            Some((from, over)) => {
                if rate <= 0.0 {
                    return None;
                }
                over + (n - (from + rate) * over / 2.0) / rate
            }
            None => {
                if rate <= 0.0 {
                    return None;
                }
                n / rate
            }
        };
        let offset = Duration::try_from_secs_f64(t).ok()?;
        (offset < self.duration).then_some(offset)
    }

    /// `A(t)`: arrivals due in `[0, t]` as a real number.
    fn cumulative(&self, t: f64) -> f64 {
        match self.kind {
            Kind::ClosedLoop => f64::INFINITY,
            Kind::Open { rate, ramp: None } => rate * t,
            Kind::Open {
                rate,
                ramp: Some((from, over)),
            } => {
                if t <= over {
                    from * t + (rate - from) * t * t / (2.0 * over)
                } else {
                    (from + rate) * over / 2.0 + rate * (t - over)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn schedule(rate: f64, ramp: Option<(f64, f64)>, duration: f64) -> Schedule {
        let ramp = ramp.map(|(from, over)| Ramp {
            from: Rate(from),
            over: secs(over),
        });
        Schedule::new(Rate(rate), ramp, secs(duration)).expect("valid schedule")
    }

    fn count(s: &Schedule) -> u64 {
        (0..10_000_000)
            .take_while(|n| s.offset_of(*n).is_some())
            .count() as u64
    }

    #[rstest]
    #[case::constant(100.0, None, 10.0, 1000)]
    #[case::fractional(2.5, None, 1.0, 3)]
    // Ramp 0 → 100 over 10 s: A(10) = 500.
    #[case::ramp_from_zero(100.0, Some((0.0, 10.0)), 10.0, 500)]
    // Ramp 0 → 100 over 10 s then 10 s at 100: 500 + 1000.
    #[case::ramp_then_steady(100.0, Some((0.0, 10.0)), 20.0, 1500)]
    // Falling ramp 100 → 20 over 4 s: (100 + 20)·4/2 = 240.
    #[case::falling_ramp(20.0, Some((100.0, 4.0)), 4.0, 240)]
    // Equal ends: a ramp that is really a constant rate.
    #[case::flat_ramp(50.0, Some((50.0, 2.0)), 2.0, 100)]
    // Phase shorter than the ramp: A(5) = 0·5 + 100·25/20 = 125.
    #[case::cut_mid_ramp(100.0, Some((0.0, 10.0)), 5.0, 125)]
    #[case::zero_rate(0.0, None, 10.0, 0)]
    fn arrivals_integrate_the_rate(
        #[case] rate: f64,
        #[case] ramp: Option<(f64, f64)>,
        #[case] duration: f64,
        #[case] expected: u64,
    ) {
        let s = schedule(rate, ramp, duration);
        assert_eq!(count(&s), expected);
        assert_eq!(s.max_arrivals(), expected);
    }

    #[rstest]
    #[case(0, 0.0)]
    #[case(1, 0.01)]
    #[case(250, 2.5)]
    fn constant_rate_offsets(#[case] n: u64, #[case] expected: f64) {
        let s = schedule(100.0, None, 10.0);
        let got = s.offset_of(n).expect("due").as_secs_f64();
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    }

    #[test]
    fn ramp_offsets_invert_the_integral() {
        let s = schedule(200.0, Some((10.0, 5.0)), 30.0);
        let mut previous = Duration::ZERO;
        for n in 0..s.max_arrivals() {
            let t = s.offset_of(n).expect("due").as_secs_f64();
            assert!((s.cumulative(t) - n as f64).abs() < 1e-6, "A({t}) != {n}");
            let offset = secs(t);
            assert!(offset >= previous, "arrivals must be monotone");
            previous = offset;
        }
        // Arrival 100 of a 0 → 100/s ramp over 10 s: 5·t² = 100 → t = √20.
        let s = schedule(100.0, Some((0.0, 10.0)), 10.0);
        let t = s.offset_of(100).expect("due").as_secs_f64();
        assert!((t - 20f64.sqrt()).abs() < 1e-9, "{t}");
    }

    #[test]
    fn closed_loop_has_no_offsets_but_a_cap() {
        let s = schedule(f64::INFINITY, Some((1.0, 1.0)), 2.0);
        assert!(s.is_closed_loop());
        assert_eq!(s.offset_of(0), None);
        assert_eq!(s.max_arrivals(), 10_000_000);
    }

    #[rstest]
    #[case(f64::NAN, None)]
    #[case(-1.0, None)]
    #[case(10.0, Some(f64::INFINITY))]
    #[case(10.0, Some(-2.0))]
    fn invalid_rates_are_refused(#[case] rate: f64, #[case] from: Option<f64>) {
        let ramp = from.map(|f| Ramp {
            from: Rate(f),
            over: secs(1.0),
        });
        assert!(Schedule::new(Rate(rate), ramp, secs(1.0)).is_err());
    }
}

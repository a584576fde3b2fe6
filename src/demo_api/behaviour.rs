//! The demo API's simulated behaviour: seeded per-request randomness, latency ranges, error
//! injection, the users cache, order validation and the price table. Pure: no I/O, no clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Probability that a users lookup hits the simulated cache.
const CACHE_HIT_RATIO: f64 = 0.7;
/// Base error probabilities, multiplied by the configured error factor.
const USERS_ERROR_RATE: f64 = 0.05;
const ORDERS_ERROR_RATE: f64 = 0.10;

/// Hands out one independent rng per request: stream `n` is derived from the seed and the
/// request's arrival number, so a seed reproduces the sequence without a shared, locked rng.
#[derive(Debug)]
pub struct RngSource {
    seed: u64,
    counter: AtomicU64,
}

impl RngSource {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: AtomicU64::new(0),
        }
    }

    pub fn next_rng(&self) -> SmallRng {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        SmallRng::seed_from_u64(mix64(self.seed ^ mix64(n)))
    }
}

/// SplitMix64 finaliser: neighbouring counters must give unrelated seeds.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Latency and error knobs, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knobs {
    pub latency_factor: f64,
    pub error_factor: f64,
}

impl Knobs {
    fn latency(&self, rng: &mut SmallRng, min_ms: u64, max_ms: u64) -> Duration {
        let base = rng.random_range(min_ms..=max_ms) as f64 / 1000.0;
        // A negative or NaN factor would panic in Duration; treat it as "no latency".
        let factor = if self.latency_factor.is_finite() {
            self.latency_factor.max(0.0)
        } else {
            0.0
        };
        Duration::try_from_secs_f64(base * factor).unwrap_or(Duration::ZERO)
    }

    fn fails(&self, rng: &mut SmallRng, base: f64) -> bool {
        let p = (base * self.error_factor).clamp(0.0, 1.0);
        // `random_bool` panics outside [0, 1]; NaN clamps to NaN, so guard it explicitly.
        !p.is_nan() && rng.random_bool(p)
    }
}

/// What GET /api/users does for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsersPlan {
    pub cache_hit: bool,
    pub delay: Duration,
    pub fail: bool,
}

/// Users lookups take 50–200 ms: cache hits 50–90 ms, misses 100–200 ms.
pub fn plan_users(knobs: &Knobs, rng: &mut SmallRng) -> UsersPlan {
    let cache_hit = rng.random_bool(CACHE_HIT_RATIO);
    let delay = if cache_hit {
        knobs.latency(rng, 50, 90)
    } else {
        knobs.latency(rng, 100, 200)
    };
    UsersPlan {
        cache_hit,
        delay,
        fail: knobs.fails(rng, USERS_ERROR_RATE),
    }
}

/// What POST /api/orders does for one valid order: 100–300 ms, 10 % failures.
pub fn plan_order(knobs: &Knobs, rng: &mut SmallRng) -> (Duration, bool) {
    (
        knobs.latency(rng, 100, 300),
        knobs.fails(rng, ORDERS_ERROR_RATE),
    )
}

/// GET /api/slow takes 3–5 s.
pub fn plan_slow(knobs: &Knobs, rng: &mut SmallRng) -> Duration {
    knobs.latency(rng, 3000, 5000)
}

/// A validated order body.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub item: String,
    pub qty: u64,
}

impl Order {
    /// Price table by item; unknown items cost a flat 10.
    pub fn value(&self) -> f64 {
        let unit = match self.item.as_str() {
            "book" => 12.5,
            "pen" => 1.5,
            "laptop" => 999.0,
            "coffee" => 3.2,
            _ => 10.0,
        };
        unit * self.qty as f64
    }
}

/// Validates `{item: non-empty string, qty: positive integer}`; the error says what is wrong.
pub fn parse_order(body: &[u8]) -> Result<Order, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let object = value.as_object().ok_or("body must be a JSON object")?;
    let item = match object.get("item") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(_) => return Err("`item` must be a non-empty string".into()),
        None => return Err("missing `item`".into()),
    };
    let qty = match object.get("qty") {
        Some(v) => v
            .as_u64()
            .filter(|q| *q > 0)
            .ok_or("`qty` must be a positive integer")?,
        None => return Err("missing `qty`".into()),
    };
    Ok(Order { item, qty })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(r#"{"item":"book","qty":2}"#, Ok(25.0))]
    #[case(r#"{"item":"","qty":2}"#, Err("`item` must be a non-empty string"))]
    #[case(r#"{"item":"book","qty":0}"#, Err("`qty` must be a positive integer"))]
    #[case(
        r#"{"item":"book","qty":1.5}"#,
        Err("`qty` must be a positive integer")
    )]
    #[case(r#"{"item":"book","qty":-1}"#, Err("`qty` must be a positive integer"))]
    #[case(r#"{"qty":1}"#, Err("missing `item`"))]
    #[case(r#"[1]"#, Err("body must be a JSON object"))]
    fn validates_orders(#[case] body: &str, #[case] expected: Result<f64, &str>) {
        let got = parse_order(body.as_bytes()).map(|o| o.value());
        assert_eq!(got, expected.map_err(str::to_owned));
    }

    #[test]
    fn a_seed_reproduces_the_sequence() {
        let knobs = Knobs {
            latency_factor: 1.0,
            error_factor: 1.0,
        };
        let run = |seed| {
            let source = RngSource::new(seed);
            (0..50)
                .map(|_| plan_users(&knobs, &mut source.next_rng()))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn factors_scale_latency_and_errors() {
        let source = RngSource::new(1);
        let plain = Knobs {
            latency_factor: 1.0,
            error_factor: 0.0,
        };
        let slow = Knobs {
            latency_factor: 2.0,
            error_factor: 0.0,
        };
        for _ in 0..200 {
            let p = plan_users(&plain, &mut source.next_rng());
            assert!(!p.fail);
            assert!(p.delay >= Duration::from_millis(50) && p.delay <= Duration::from_millis(200));
            let s = plan_users(&slow, &mut source.next_rng());
            assert!(s.delay >= Duration::from_millis(100) && s.delay <= Duration::from_millis(400));
        }
        let always = Knobs {
            latency_factor: 0.0,
            error_factor: 100.0,
        };
        assert!(plan_order(&always, &mut source.next_rng()).1);
    }
}

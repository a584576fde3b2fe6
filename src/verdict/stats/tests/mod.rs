//! Tests of the statistics, by topic, against hand-computed values, textbook examples and
//! seeded samples with a known shift. Every sample comes from a fixed seed.

mod bootstrap;
mod judge;
mod mde;
mod normal;
mod summary;

use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

/// `n` draws of a normal(mean, sd) from `seed` (Box–Muller).
fn normal_sample(seed: u64, n: usize, mean: f64, sd: f64) -> Vec<f64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..n)
        .map(|_| mean + sd * standard_normal(&mut rng))
        .collect()
}

/// `n` draws of a lognormal with median `median` and log-scale sd `sigma` from `seed`.
fn lognormal_sample(seed: u64, n: usize, median: f64, sigma: f64) -> Vec<f64> {
    normal_sample(seed, n, median.ln(), sigma)
        .into_iter()
        .map(f64::exp)
        .collect()
}

fn standard_normal(rng: &mut SmallRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Asserts `actual` is within `tolerance` of `expected`, naming both.
#[track_caller]
fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance} of {expected}"
    );
}

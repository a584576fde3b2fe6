//! GET /api/work: CPU-bound requests. Each unit is a deterministic hash chain sized to about
//! 2 ms of CPU; `cpu_factor` multiplies the work, so a regression can be seeded as more work per
//! request rather than a longer sleep. The chain runs on tokio's blocking pool so the runtime
//! keeps answering other requests.

use std::hint::black_box;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::telemetry::Telemetry;

/// Iterations of [`burn`] per unit: about 2 ms of CPU on the 2-core development machine, in a
/// release build and in a debug one alike (the chain's latency, not loop overhead, sets the
/// pace). Measured: a standalone `rustc -O` copy of the loop, 2.00 ms minimum and 2.07 ms median;
/// the debug test build (`measure_one_unit`), 2.43 ms median with another build running.
pub const ITERATIONS_PER_UNIT: u64 = 500_000;
/// Most units one request may ask for (about 2 s of CPU at `cpu_factor` 1).
pub const MAX_UNITS: u64 = 1_000;

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const MULTIPLIER: u64 = 0xBF58_476D_1CE4_E5B9;

/// The `units` of a query string (`units=N`, default 1, 1..=[`MAX_UNITS`]); the error is the
/// message a 400 answer carries.
pub fn parse_units(query: Option<&str>) -> Result<u64, String> {
    let value = query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(key, _)| *key == "units")
        .map(|(_, value)| value)
        .next_back();
    let Some(value) = value else {
        return Ok(1);
    };
    match value.parse::<u64>() {
        Ok(units) if (1..=MAX_UNITS).contains(&units) => Ok(units),
        _ => Err(format!(
            "`units` must be an integer from 1 to {MAX_UNITS}, got `{value}`"
        )),
    }
}

/// Iterations for `units` at `cpu_factor`: `units × ITERATIONS_PER_UNIT × cpu_factor`, rounded.
/// A factor that is not finite or not positive does no work (the spec and the CLI reject it).
pub fn iterations(units: u64, cpu_factor: f64) -> u64 {
    let factor = if cpu_factor.is_finite() {
        cpu_factor.max(0.0)
    } else {
        0.0
    };
    // `as` saturates; units and factor are bounded, so the product fits comfortably.
    (units as f64 * ITERATIONS_PER_UNIT as f64 * factor).round() as u64
}

/// Runs the hash chain for `iterations` rounds and returns its last value. `black_box` keeps
/// the optimiser from folding or vectorising the chain; two dependent multiply/xor-shift steps
/// per round make the chain, not the loop counter, the cost in every build profile.
pub fn burn(iterations: u64) -> u64 {
    let n = black_box(iterations);
    let mut x = SEED;
    let mut i = 0;
    while i < n {
        x = (x ^ (x >> 29)).wrapping_mul(MULTIPLIER) ^ i;
        x = (x ^ (x >> 29)).wrapping_mul(MULTIPLIER) ^ i;
        x = black_box(x);
        i += 1;
    }
    x
}

/// Answers one GET /api/work: parses `units`, burns the CPU on the blocking pool, counts the
/// iterations (even if the client has gone by then: the work was done) and reports them.
pub async fn handle(
    telemetry: Arc<dyn Telemetry>,
    cpu_factor: f64,
    query: Option<String>,
) -> Response {
    let units = match parse_units(query.as_deref()) {
        Ok(units) => units,
        Err(message) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": message})),
            )
                .into_response();
        }
    };
    let iterations = iterations(units, cpu_factor);
    let work = tokio::task::spawn_blocking(move || {
        let checksum = burn(iterations);
        telemetry.work_done(iterations);
        checksum
    });
    match work.await {
        Ok(checksum) => axum::Json(json!({
            "units": units,
            "iterations": iterations,
            "checksum": format!("{checksum:016x}"),
        }))
        .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": "the work task failed"})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(None, Ok(1))]
    #[case(Some(""), Ok(1))]
    #[case(Some("units=7"), Ok(7))]
    #[case(Some("other=x&units=1000"), Ok(1000))]
    #[case(Some("units=1&units=3"), Ok(3))]
    #[case(
        Some("units=0"),
        Err("`units` must be an integer from 1 to 1000, got `0`")
    )]
    #[case(
        Some("units=1001"),
        Err("`units` must be an integer from 1 to 1000, got `1001`")
    )]
    #[case(
        Some("units=-1"),
        Err("`units` must be an integer from 1 to 1000, got `-1`")
    )]
    #[case(
        Some("units=abc"),
        Err("`units` must be an integer from 1 to 1000, got `abc`")
    )]
    #[case(
        Some("units"),
        Err("`units` must be an integer from 1 to 1000, got ``")
    )]
    fn parses_units(#[case] query: Option<&str>, #[case] expected: Result<u64, &str>) {
        assert_eq!(parse_units(query), expected.map_err(str::to_owned));
    }

    #[rstest]
    #[case(1, 1.0, ITERATIONS_PER_UNIT)]
    #[case(3, 2.0, 6 * ITERATIONS_PER_UNIT)]
    #[case(1, 1.2, 600_000)]
    #[case(2, 0.0000001, 0)]
    #[case(1, f64::NAN, 0)]
    #[case(1, -1.0, 0)]
    fn scales_iterations(#[case] units: u64, #[case] factor: f64, #[case] expected: u64) {
        assert_eq!(iterations(units, factor), expected);
    }

    #[test]
    fn the_chain_is_deterministic_and_depends_on_its_length() {
        assert_eq!(burn(1000), burn(1000));
        assert_ne!(burn(1000), burn(1001));
        assert_eq!(burn(0), SEED);
    }

    /// `cargo test --release --lib demo_api::work -- --ignored --nocapture`: prints the CPU
    /// time of one unit on this machine (the median of 50).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn measure_one_unit() {
        let mut times: Vec<f64> = (0..50)
            .map(|_| {
                let started = std::time::Instant::now();
                black_box(burn(ITERATIONS_PER_UNIT));
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("one unit: {:.3} ms (median of 50)", times[25]);
    }
}

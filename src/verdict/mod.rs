//! Judging what a run measured: an assertion's PromQL asked at the end of its window and its
//! expectation applied (`evaluate`), and saved baselines that `within X of baseline`
//! assertions are judged against (`baseline`), and `compare:` claims judged on paired
//! base/candidate values (`versus`); the noise guard that makes a verdict judged on a
//! disturbed phase INCONCLUSIVE (`noise`); every phase's built-in `<phase>::delivered` verdict
//! and the guard that makes a pass on an undelivered phase INCONCLUSIVE (`delivered`). `stats`: bootstrap intervals, rank tests and
//! expectations judged on an interval, for comparisons that separate a regression from noise.

mod baseline;
mod calibrate;
mod client;
mod delivered;
mod distribution;
mod repeated;
mod evaluate;
mod interval;
mod noise;
pub mod stats;
mod versus;

pub use baseline::{
    BaselineChoice, apply_baseline, baseline_path, check_baseline_name, save_baseline,
    unfit_for_baseline,
};
pub use calibrate::{Calibration, calibrate};
pub use client::ask;
pub use delivered::{apply_delivery_guard, judge_deliveries};
pub use repeated::{first_not_passed, judge_repeated};
pub use noise::{apply_noise_guard, disturbances, disturbed_phases};
pub use versus::judge_versus;

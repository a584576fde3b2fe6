//! Judging what a run measured: an assertion's PromQL asked at the end of its window and its
//! expectation applied (`evaluate`), and saved baselines that `within X of baseline`
//! assertions are judged against (`baseline`), and `compare:` claims judged on paired
//! base/candidate values (`versus`); the noise guard that makes a verdict judged on a
//! disturbed phase INCONCLUSIVE (`noise`). `stats`: bootstrap intervals, rank tests and
//! expectations judged on an interval, for comparisons that separate a regression from noise.

mod baseline;
mod calibrate;
mod client;
mod distribution;
mod repeated;
mod evaluate;
mod interval;
mod noise;
pub mod stats;
mod versus;

pub use baseline::{
    BaselineChoice, apply_baseline, baseline_path, check_baseline_name, save_baseline,
};
pub use calibrate::{Calibration, calibrate};
pub use client::ask;
pub use repeated::{first_not_passed, judge_repeated};
pub use noise::{apply_noise_guard, disturbances, disturbed_phases};
pub use versus::judge_versus;

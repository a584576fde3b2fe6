//! Gates: assertions → verdicts (`evaluate`), and specs → libtest cases (`harness`), with each
//! spec's stack run once per test run (`once`).

mod baseline;
mod evaluate;
mod harness;
mod once;

pub use baseline::{
    apply_baseline, baseline_name, baseline_path, check_baseline_name, rejudge, save_baseline,
};
pub use evaluate::{evaluate, judge};
pub use harness::{main, main_for_dir, trials_for_dir};
pub use once::results_for;

//! Gates: assertions → verdicts (`evaluate`), and specs → libtest cases (`harness`), with each
//! spec's stack run once per test run (`once`).

mod evaluate;
mod harness;
mod once;

pub use evaluate::{evaluate, expand_query, judge};
pub use harness::{main, main_for_dir, trials_for_dir};
pub use once::results_for;

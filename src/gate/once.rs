//! Running each spec's stack once per test run, however the test runner slices the run.
//!
//! `cargo test`: one process, many threads; a per-spec `OnceLock`, and one turn at the load
//! for all specs (`RunOptions::load_turns`): a spec's stack comes up while another's loads,
//! but no two loads share the cores. cargo-nextest: one process per test case, the record
//! shared through files (`shared`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use tokio::sync::Semaphore;

use super::shared::shared_across_processes;
use crate::report::RunRecord;
use crate::run::{RunOptions, run_spec};
use crate::spec::Spec;

type Cell = Arc<OnceLock<Result<RunRecord, String>>>;

static CELLS: Mutex<Option<HashMap<String, Cell>>> = Mutex::new(None);
/// One load at a time in this process.
static LOAD_TURNS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(1)));

/// The record of `spec`'s run in this test run, running it if nobody has yet.
pub(super) fn results_for(spec: &Spec) -> Result<RunRecord, String> {
    let cell = {
        let mut cells = CELLS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            cells
                .get_or_insert_with(HashMap::new)
                .entry(spec.name.clone())
                .or_default(),
        )
    };
    cell.get_or_init(|| match std::env::var("NEXTEST_RUN_ID") {
        Ok(run) if !run.is_empty() => {
            shared_across_processes(spec, &run, || run_blocking(spec, None))
        }
        _ => run_blocking(spec, Some(Arc::clone(&LOAD_TURNS))),
    })
    .clone()
}

fn run_blocking(spec: &Spec, load_turns: Option<Arc<Semaphore>>) -> Result<RunRecord, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    let opts = RunOptions {
        load_turns,
        ..RunOptions::default()
    };
    Ok(runtime.block_on(run_spec(spec, &opts)))
}

//! Running each spec's stack once per test run, however the test runner slices the run.
//!
//! `cargo test`: one process, many threads; a per-spec `OnceLock`, and one turn at the load
//! for all specs (`RunOptions::load_turns`): a spec's stack comes up while another's loads,
//! but no two loads share the cores. cargo-nextest: one process per test case; the first process to
//! take a spec's lock file runs the stack and writes the record to a results file keyed by the
//! spec's content hash and `NEXTEST_RUN_ID`; the others wait on the lock and read it.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use tokio::sync::Semaphore;

use crate::report::{RunRecord, read_record};
use crate::run::{RunOptions, default_out_dir, run_spec};
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
        Ok(run) if !run.is_empty() => shared_across_processes(spec, &run),
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

fn shared_dir() -> PathBuf {
    default_out_dir().join("shared")
}

/// Content hash of the spec file (plus its path), so an edited spec is never served stale.
fn spec_key(spec: &Spec) -> String {
    let mut h = std::hash::DefaultHasher::new();
    spec.path.hash(&mut h);
    std::fs::read(&spec.path).unwrap_or_default().hash(&mut h);
    format!("{}-{:016x}", spec.name, h.finish())
}

fn shared_across_processes(spec: &Spec, run: &str) -> Result<RunRecord, String> {
    let dir = shared_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let base = format!("{}-{}", spec_key(spec), sanitize(run));
    let lock_path = dir.join(format!("{base}.lock"));
    let results = dir.join(format!("{base}.json"));
    let lock = File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("{}: {e}", lock_path.display()))?;
    if let Ok(record) = read_record(&results) {
        return Ok(record);
    }
    let stacks_path = dir.join("one-stack-at-a-time.lock");
    let stacks =
        File::create(&stacks_path).map_err(|e| format!("{}: {e}", stacks_path.display()))?;
    stacks
        .lock()
        .map_err(|e| format!("{}: {e}", stacks_path.display()))?;
    let record = run_blocking(spec, None)?;
    let json = serde_json::to_string(&record).map_err(|e| e.to_string())?;
    let tmp = dir.join(format!("{base}.json.tmp"));
    std::fs::write(&tmp, json)
        .and_then(|()| std::fs::rename(&tmp, &results))
        .map_err(|e| format!("{}: {e}", results.display()))?;
    Ok(record)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

//! One stack per spec across the processes of a cargo-nextest run (one process per test case):
//! the first process to take a spec's lock file runs the stack and writes the record to a
//! results file in `<out>/shared/`, keyed by the spec's content hash and `NEXTEST_RUN_ID`; the
//! others wait on the lock and read it. Each run also leaves `runner-<run>.owner`, the nextest
//! runner that started it (the test process's parent, `PID:START`); a later run removes the
//! files of every run whose runner is gone, so the folder does not grow run after run.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::reaper::Owner;
use crate::report::{RunRecord, read_record};
use crate::run::default_out_dir;
use crate::spec::Spec;

/// Files of no known run (written before runs left an owner file) are removed at this age.
const ORPHAN_AGE: Duration = Duration::from_secs(24 * 3600);
/// Held while a stack runs: one stack at a time across the run's processes.
const STACKS_LOCK: &str = "one-stack-at-a-time.lock";

/// The record of `spec`'s run in nextest run `run`, running it (`run_spec`) if no process of
/// the run has yet.
pub(super) fn shared_across_processes(
    spec: &Spec,
    run: &str,
    run_spec: impl FnOnce() -> Result<RunRecord, String>,
) -> Result<RunRecord, String> {
    let dir = default_out_dir().join("shared");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let run = sanitize(run);
    claim(&dir, &run);
    sweep(&dir, &run);
    let base = format!("{}-{run}", spec_key(spec));
    let lock_path = dir.join(format!("{base}.lock"));
    let results = dir.join(format!("{base}.json"));
    let _lock = locked(&lock_path)?;
    if let Ok(record) = read_record(&results) {
        return Ok(record);
    }
    let _stacks = locked(&dir.join(STACKS_LOCK))?;
    let record = run_spec()?;
    let json = serde_json::to_string(&record).map_err(|e| e.to_string())?;
    let tmp = dir.join(format!("{base}.json.tmp"));
    std::fs::write(&tmp, json)
        .and_then(|()| std::fs::rename(&tmp, &results))
        .map_err(|e| format!("{}: {e}", results.display()))?;
    Ok(record)
}

/// `path` created if need be and locked (released when the file is dropped).
fn locked(path: &Path) -> Result<File, String> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.lock()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file)
}

fn owner_file(dir: &Path, run: &str) -> PathBuf {
    dir.join(format!("runner-{run}.owner"))
}

/// Writes who runs `run` (this process's parent, the nextest runner), once.
fn claim(dir: &Path, run: &str) {
    let path = owner_file(dir, run);
    if let (false, Some(runner)) = (path.exists(), Owner::parent()) {
        let _ = std::fs::write(path, runner.to_string());
    }
}

/// Removes the files of every run but `current` whose runner is gone, and files of no known
/// run older than `ORPHAN_AGE`.
fn sweep(dir: &Path, current: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    let runs: Vec<(&str, bool)> = names
        .iter()
        .filter_map(|n| n.strip_prefix("runner-")?.strip_suffix(".owner"))
        .map(|run| {
            let text = std::fs::read_to_string(owner_file(dir, run)).unwrap_or_default();
            let alive = text.trim().parse::<Owner>().is_ok_and(|o| o.alive());
            (run, run == current || alive)
        })
        .collect();
    let of_run = |name: &str, run: &str| {
        name == format!("runner-{run}.owner")
            || name.contains(&format!("-{run}.json"))
            || name.ends_with(&format!("-{run}.lock"))
    };
    for name in &names {
        let owner = runs.iter().find(|(run, _)| of_run(name, run));
        let remove = match owner {
            Some((_, live)) => !live,
            None => name != STACKS_LOCK && older_than(&dir.join(name), ORPHAN_AGE),
        };
        if remove {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
}

fn older_than(path: &Path, age: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|d| d > age))
}

/// Content hash of the spec file (plus its path), so an edited spec is never served stale.
fn spec_key(spec: &Spec) -> String {
    let mut h = std::hash::DefaultHasher::new();
    spec.path.hash(&mut h);
    std::fs::read(&spec.path).unwrap_or_default().hash(&mut h);
    format!("{}-{:016x}", spec.name, h.finish())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_of_runs_whose_runner_is_gone_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        let me = Owner::me().unwrap().to_string();
        // Run `gone`'s runner: this process's pid with another start time (not alive).
        let gone = format!("{}:1", std::process::id());
        put("runner-gone.owner", &gone);
        put("once-00ff-gone.json", "{}");
        put("once-00ff-gone.lock", "");
        put("runner-live.owner", &me);
        put("once-00ff-live.json", "{}");
        put("once-00ff-now.lock", "");
        put("legacy-fresh.json", "{}");
        put(STACKS_LOCK, "");
        sweep(dir.path(), "now");
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "legacy-fresh.json",
                "once-00ff-live.json",
                "once-00ff-now.lock",
                STACKS_LOCK,
                "runner-live.owner"
            ]
        );
    }
}

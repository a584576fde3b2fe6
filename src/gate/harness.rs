//! specs → libtest-mimic trials. A user's crate gets the same harness in three lines:
//! `fn main() -> std::process::ExitCode { perfgate::gate::main() }` in a `harness = false` test.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

use super::once::results_for;
use crate::report::{Outcome, failure_message};
use crate::spec::{self, Spec};

/// Runs every spec under `$PERFGATE_SPECS` (default `specs/`) as tests.
pub fn main() -> ExitCode {
    let dir =
        std::env::var_os("PERFGATE_SPECS").map_or_else(|| PathBuf::from("specs"), PathBuf::from);
    main_for_dir(&dir)
}

fn main_for_dir(dir: &Path) -> ExitCode {
    if let Some(code) = crate::stack::dispatch_from_env() {
        return code;
    }
    let args = Arguments::from_args();
    let trials = trials_for_dir(dir);
    libtest_mimic::run(&args, trials).exit_code()
}

/// One trial per assertion of every `*.yaml` spec in `dir` (files sorted, trials interleaved),
/// named `<spec>::<id>`, and one per phase's built-in delivery verdict, `<spec>::<phase>::delivered`.
/// A spec that does not validate becomes one failing trial `<file stem>::spec_is_valid`.
fn trials_for_dir(dir: &Path) -> Vec<Trial> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect(),
        Err(e) => {
            let message = format!("cannot read the specs folder {}: {e}", dir.display());
            return vec![Trial::test("perfgate::specs_folder", move || {
                Err(message.into())
            })];
        }
    };
    files.sort();
    interleave(files.iter().map(|f| trials_for_file(f)).collect())
}

/// The specs' trials taken in turn (the first of every spec, then the second, …): the test
/// threads then start different specs' stacks, and one comes up while another loads
/// (`gate::once`) instead of every thread waiting on the same spec's run.
fn interleave(per_spec: Vec<Vec<Trial>>) -> Vec<Trial> {
    let mut queues: Vec<std::vec::IntoIter<Trial>> =
        per_spec.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    loop {
        let before = out.len();
        out.extend(queues.iter_mut().filter_map(Iterator::next));
        if out.len() == before {
            return out;
        }
    }
}

fn trials_for_file(path: &Path) -> Vec<Trial> {
    match spec::load(path) {
        Ok(spec) => trials_for_spec(spec),
        Err(err) => {
            let stem = path
                .file_stem()
                .map_or_else(|| "spec".into(), |s| s.to_string_lossy().into_owned());
            let message = err.to_string();
            vec![Trial::test(format!("{stem}::spec_is_valid"), move || {
                Err(message.into())
            })]
        }
    }
}

fn trials_for_spec(spec: Spec) -> Vec<Trial> {
    let spec = std::sync::Arc::new(spec);
    let gates = spec.assertions.iter().map(|a| {
        let spec = std::sync::Arc::clone(&spec);
        let id = a.id.clone();
        Trial::test(format!("{}::{}", spec.name, a.id), move || {
            check(&spec, &id)
        })
    });
    let snapshots = spec.snapshots.iter().map(|s| {
        let spec = std::sync::Arc::clone(&spec);
        let id = s.id.clone();
        Trial::test(format!("{}::snapshot::{}", spec.name, s.id), move || {
            check_snapshot_trial(&spec, &id)
        })
    });
    let deliveries = spec.delivery_ids().map(|id| {
        let spec = std::sync::Arc::clone(&spec);
        Trial::test(format!("{}::{id}", spec.name), move || check(&spec, &id))
    });
    gates.chain(deliveries).chain(snapshots).collect()
}

/// The insta comparison of one snapshot query, bound to this trial.
fn check_snapshot_trial(spec: &Spec, id: &str) -> Result<(), Failed> {
    let record = results_for(spec)?;
    let outcome = record.snapshot(id).ok_or_else(|| match &record.failure {
        Some(f) => format!(
            "the run of `{}` failed before this snapshot was taken: {}\n  report: {}",
            spec.name,
            f.message,
            record.report_json().display()
        ),
        None => format!("no snapshot `{id}` in {}", record.report_json().display()),
    })?;
    crate::snapshot::check_snapshot(&spec.name, outcome).map_err(Failed::from)
}

fn check(spec: &Spec, id: &str) -> Result<(), Failed> {
    let record = results_for(spec)?;
    if let Some(f) = &record.failure {
        return Err(format!(
            "the run of `{}` failed before this gate could be judged: {}\n  report: {}",
            spec.name,
            f.message,
            record.report_json().display()
        )
        .into());
    }
    let verdict = record.verdict(id).ok_or_else(|| {
        format!(
            "no verdict for `{id}` in {}",
            record.report_json().display()
        )
    })?;
    match &verdict.outcome {
        Outcome::Pass => Ok(()),
        _ => Err(failure_message(&record, verdict).unwrap_or_default().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trials_are_taken_from_every_spec_in_turn() {
        let spec = |name: &str, n: usize| -> Vec<Trial> {
            (1..=n)
                .map(|i| Trial::test(format!("{name}::{i}"), || Ok(())))
                .collect()
        };
        let names: Vec<String> = interleave(vec![spec("a", 3), spec("b", 1), spec("c", 2)])
            .iter()
            .map(|t| t.name().to_owned())
            .collect();
        assert_eq!(names, ["a::1", "b::1", "c::1", "a::2", "c::2", "a::3"]);
    }
}

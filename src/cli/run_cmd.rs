//! `perfgate run`: run specs one after another, print phases and verdicts, pick the exit code.

use std::io::IsTerminal;
use std::path::Path;

use super::args::RunArgs;
use super::progress;
use crate::error::Exit;
use crate::report::{
    FailureKind, RunRecord, failure_message, phase_table, snapshot_table, verdict_table,
};
use crate::run::{RunOptions, default_out_dir, run_spec};
use crate::spec::{self, Spec};

/// The multi-threaded runtime a run needs; the exit code when it cannot start.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            Exit::RunFailed
        })
}

/// The options every front end's run starts from: reports under `out` (default:
/// `$PERFGATE_OUT`, else target/perfgate), live progress unless `quiet`.
pub(super) fn options(out: Option<std::path::PathBuf>, quiet: bool) -> RunOptions {
    RunOptions {
        out_dir: out.unwrap_or_else(default_out_dir),
        progress: progress::observer(quiet),
        ..RunOptions::default()
    }
}

pub fn run(args: RunArgs) -> Exit {
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(exit) => return exit,
    };
    let opts = RunOptions {
        baseline: args.baseline.clone(),
        save_baseline: args.save_baseline.clone(),
        ..options(args.out.clone(), args.quiet)
    };
    let color = std::io::stdout().is_terminal();
    let mut exits = Vec::new();
    for path in &args.specs {
        let exit = match load(path, args.filter.as_deref()) {
            Ok(spec) => run_one(&runtime, &spec, path, &opts, &args, color),
            Err(exit) => exit,
        };
        exits.push(exit);
    }
    worst(&exits)
}

/// The spec at `path`, its assertions filtered; the exit code when there is nothing to run.
fn load(path: &Path, filter: Option<&str>) -> Result<Spec, Exit> {
    let mut spec = spec::load(path).map_err(|e| {
        eprintln!("{e}");
        Exit::InvalidSpec
    })?;
    if let Some(f) = filter {
        let name = spec.name.clone();
        spec.assertions
            .retain(|a| format!("{name}::{}", a.id).contains(f));
    }
    if spec.assertions.is_empty() && spec.snapshots.is_empty() {
        eprintln!("{}: no assertion to judge; nothing ran", path.display());
        return Err(Exit::NothingRan);
    }
    Ok(spec)
}

/// Runs one spec, prints what it found and saves a baseline when asked.
fn run_one(
    runtime: &tokio::runtime::Runtime,
    spec: &Spec,
    path: &Path,
    opts: &RunOptions,
    args: &RunArgs,
    color: bool,
) -> Exit {
    // When no backend can run it, the run itself fails with the reason (tools that could
    // not be had are not searched for again) and writes a report.
    let backend = crate::stack::choose_backend(spec).ok();
    match &backend {
        Some(b) => println!(
            "perfgate: running {} ({}) on the {b}",
            spec.name,
            path.display()
        ),
        None => println!("perfgate: running {} ({})", spec.name, path.display()),
    }
    let opts = RunOptions {
        backend,
        ..opts.clone()
    };
    let record = runtime.block_on(run_spec(spec, &opts));
    print_record(&record, color);
    let mut exit = record.exit();
    if !record.snapshots.is_empty() {
        exit = check_snapshots(spec, &record, exit, color);
    }
    if let Some(name) = &args.save_baseline {
        report_saved_baseline(&record, name);
    }
    println!("report: {}", record.report_dir.display());
    if record
        .failure
        .as_ref()
        .is_some_and(|f| f.kind == FailureKind::Interrupted)
    {
        // The signal thread exits with the signal's code (130 for Ctrl-C) once the report is in.
        crate::reaper::exit_as_signalled();
    }
    exit
}

/// Phases, the failure, verdicts and every failed verdict's message.
fn print_record(record: &RunRecord, color: bool) {
    if !record.phases.is_empty() {
        println!("{}", phase_table(record, color));
    }
    if let Some(f) = &record.failure {
        eprintln!("error: {}", f.message);
    }
    if !record.verdicts.is_empty() {
        println!("{}", verdict_table(record, color));
    }
    for v in &record.verdicts {
        if let Some(msg) = failure_message(record, v) {
            eprintln!("\n{msg}");
        }
    }
}

/// The snapshot table and insta's verdict on each snapshot; the run's exit code with them.
fn check_snapshots(spec: &Spec, record: &RunRecord, mut exit: Exit, color: bool) -> Exit {
    println!("{}", snapshot_table(record, color));
    let mut snapshots_ok = true;
    // insta reports a mismatch by panicking; its own diff is the message here, so
    // the default hook's "thread panicked" and backtrace are kept off the terminal.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for s in &record.snapshots {
        if let Err(msg) = crate::snapshot::check_snapshot(&spec.name, s) {
            eprintln!("\n{msg}");
            snapshots_ok = false;
        }
    }
    std::panic::set_hook(hook);
    if exit == Exit::NothingRan && record.verdicts.is_empty() {
        exit = Exit::Success;
    }
    if !snapshots_ok && matches!(exit, Exit::Success | Exit::Inconclusive) {
        exit = Exit::GateFailed;
    }
    exit
}

/// Where `run_spec` saved the baseline, or why it did not.
fn report_saved_baseline(record: &RunRecord, name: &str) {
    let path = crate::verdict::baseline_path(&record.spec_path, name);
    if let Some(why) = crate::verdict::unfit_for_baseline(record) {
        eprintln!("baseline `{name}` not saved: {why}");
    } else if record.saved_as.as_ref() == Some(&path) {
        println!("baseline `{name}` saved: {}", path.display());
        for (phase, limits) in crate::verdict::disturbed_phases(record) {
            eprintln!(
                "warning: baseline `{name}` was saved from a disturbed run: phase `{phase}`: {} (hint: save it again on a quiet machine; later runs are judged against these values)",
                limits.join(", ")
            );
        }
    } else {
        eprintln!(
            "error: baseline `{name}` could not be saved at {}",
            path.display()
        );
    }
}

/// The exit code of several specs: the most serious one.
fn worst(exits: &[Exit]) -> Exit {
    const ORDER: [Exit; 7] = [
        Exit::InvalidSpec,
        Exit::StackFailed,
        Exit::RunFailed,
        Exit::GateFailed,
        Exit::Inconclusive,
        Exit::NothingRan,
        Exit::Success,
    ];
    ORDER
        .into_iter()
        .find(|e| exits.contains(e))
        .unwrap_or(Exit::NothingRan)
}

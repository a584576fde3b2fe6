//! `perfgate run`: run specs one after another, print phases and verdicts, pick the exit code.

use std::io::IsTerminal;

use super::args::RunArgs;
use super::progress;
use crate::error::Exit;
use crate::report::{failure_message, phase_table, verdict_table};
use crate::run::{RunOptions, default_out_dir, run_spec};
use crate::spec;

pub fn run(args: RunArgs) -> Exit {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::RunFailed;
        }
    };
    let opts = RunOptions {
        out_dir: args.out.clone().unwrap_or_else(default_out_dir),
        progress: progress::observer(args.quiet),
        host_executable: None,
    };
    let color = std::io::stdout().is_terminal();
    let mut exits = Vec::new();
    for path in &args.specs {
        let mut spec = match spec::load(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                exits.push(Exit::InvalidSpec);
                continue;
            }
        };
        if let Some(f) = &args.filter {
            let name = spec.name.clone();
            spec.assertions
                .retain(|a| format!("{name}::{}", a.id).contains(f.as_str()));
        }
        if spec.assertions.is_empty() {
            eprintln!("{}: no assertion to judge; nothing ran", path.display());
            exits.push(Exit::NothingRan);
            continue;
        }
        println!("perfgate: running {} ({})", spec.name, path.display());
        let record = runtime.block_on(run_spec(&spec, &opts));
        if !record.phases.is_empty() {
            println!("{}", phase_table(&record, color));
        }
        if let Some(f) = &record.failure {
            eprintln!("error: {}", f.message);
        }
        if !record.verdicts.is_empty() {
            println!("{}", verdict_table(&record, color));
        }
        for v in &record.verdicts {
            if let Some(msg) = failure_message(&record, v) {
                eprintln!("\n{msg}");
            }
        }
        println!("report: {}", record.report_json().display());
        exits.push(record.exit());
    }
    worst(&exits)
}

/// The exit code of several specs: the most serious one.
fn worst(exits: &[Exit]) -> Exit {
    const ORDER: [Exit; 6] = [
        Exit::InvalidSpec,
        Exit::StackFailed,
        Exit::RunFailed,
        Exit::GateFailed,
        Exit::NothingRan,
        Exit::Success,
    ];
    ORDER
        .into_iter()
        .find(|e| exits.contains(e))
        .unwrap_or(Exit::NothingRan)
}

//! The `perfgate` command line: argument parsing and one function per subcommand.

mod args;
mod calibrate_cmd;
mod clean_cmd;
mod diff_cmd;
mod images_cmd;
mod progress;
mod replicate_cmd;
mod run_cmd;
mod swarm_cmd;
mod swarm_view;
mod validate_cmd;

use std::process::ExitCode;

use clap::Parser;

use crate::error::Exit;
use args::{Cli, Command};

/// Parses the command line, runs the subcommand, returns the process exit code.
pub fn run() -> ExitCode {
    if let Some(code) = crate::stack::dispatch_from_env() {
        return code;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Usage as u8 } else { 0 });
        }
    };
    init_tracing(cli.verbose);
    // Whatever a command starts (a stack, `perfgate swarm`'s clients) gets a keeper.
    if let Ok(exe) = std::env::current_exe() {
        crate::reaper::keep_with(exe);
    }
    let exit = match cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Validate(args) => validate_cmd::validate(args),
        Command::List(args) => validate_cmd::list(args),
        Command::Tools(args) => validate_cmd::tools(&args),
        Command::Replicate(args) => replicate_cmd::run(*args),
        Command::Diff(args) => diff_cmd::diff(args),
        Command::Calibrate(args) => calibrate_cmd::run(args),
        Command::Images(command) => images_cmd::run(command),
        Command::Compose(args) => images_cmd::compose(args),
        Command::Swarm(args) => swarm_cmd::run(*args),
        Command::Clean => clean_cmd::clean(),
        Command::DemoApi(args) => match crate::demo_api::run(args.into_config()) {
            Ok(()) => Exit::Success,
            Err(e) => {
                eprintln!("error: {e:#}");
                Exit::StackFailed
            }
        },
    };
    exit.into()
}

/// A subcommand's configuration and an async runtime, or the exit code saying why not (with
/// the error printed): a bad flag is a usage error.
fn config_and_runtime<C>(config: Result<C, String>) -> Result<(C, tokio::runtime::Runtime), Exit> {
    let config = config.map_err(|e| {
        eprintln!("error: {e}");
        Exit::Usage
    })?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        Exit::RunFailed
    })?;
    Ok((config, runtime))
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "perfgate=info",
        _ => "perfgate=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PERFGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

//! The process backend: a planned service as a local child process on the loopback ports the
//! planner allocated. Built-in services are perfgate's own executable (see `builtin`).

use std::path::Path;
use std::process::Command;

use super::builtin::{self, OPTIONAL_VARS};
use super::plan::{Planned, Program};

/// The command that runs `planned` here; `host`: the executable hosting built-ins (default:
/// `builtin::host_executable()`).
pub(crate) fn command(planned: &Planned, host: Option<&Path>) -> std::io::Result<Command> {
    let mut command = match &planned.program {
        Program::Builtin { .. } => {
            let mut command = Command::new(match host {
                Some(h) => h.to_owned(),
                None => builtin::host_executable()?,
            });
            for var in OPTIONAL_VARS {
                if !planned.env.contains_key(*var) {
                    command.env_remove(var);
                }
            }
            command
        }
        Program::Tool(tool) => Command::new(&tool.path),
        Program::External(program) => Command::new(program),
    };
    command.args(&planned.args).envs(&planned.env);
    Ok(command)
}

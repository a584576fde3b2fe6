//! Why a stack could not be started or stopped.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Tool(#[from] crate::tools::ToolError),
    #[error("docker backend, service `{service}`: {message}")]
    Docker { service: String, message: String },
    #[error("service `{service}` could not be started: {source}")]
    Spawn {
        service: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "service `{service}` could not be started: program `{program}` not found (hint: `command:` starts with a program on PATH or a path to an executable file)"
    )]
    ProgramNotFound { service: String, program: String },
    #[error(
        "service `{service}` exited before it was ready ({status})\n  log: {log}\n  last lines:\n{tail}"
    )]
    Died {
        service: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "service `{service}` ({kind}) exited during the run ({status})\n  log: {log}\n  last lines:\n{tail}"
    )]
    DiedDuringRun {
        service: String,
        kind: &'static str,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "service `{service}` was not ready after {waited:?} (waiting for {check})\n  log: {log}\n  last lines:\n{tail}"
    )]
    NotReady {
        service: String,
        waited: Duration,
        check: String,
        log: PathBuf,
        tail: String,
    },
    /// A port the spec fixes is taken by another program: the run would measure that one.
    #[error(
        "service `{service}`: port `{port}` ({number}) is already in use{by}: {source} (hint: stop that program or let perfgate choose the port: `{port}: 0`)",
        by = .holder.as_ref().map(|holder| format!(", by {holder}")).unwrap_or_default()
    )]
    PortTaken {
        service: String,
        port: String,
        number: u16,
        /// `pid N (comm)`, when /proc shows who holds it.
        holder: Option<String>,
        #[source]
        source: std::io::Error,
    },
    /// A process service's readiness port is answered by a program outside its process group:
    /// the run would measure that program.
    #[error(
        "service `{service}` looked ready, but port {port} is held by {holder}, outside the service's process group {group} (hint: stop that program; if the service hands its port to another program on purpose, such as `docker run -p`, make its readiness a log line: `ready: {{ log: \"…\" }}`)"
    )]
    AnsweredByAnother {
        service: String,
        port: u16,
        holder: String,
        group: u32,
    },
    /// No backend can run the spec (`auto` with a tool that neither this machine nor an image
    /// has, or a bad `$PERFGATE_BACKEND`).
    #[error("{0}")]
    NoBackend(String),
    #[error("could not prepare the run directory {path}: {source}")]
    RunDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A `Spawn` error of `service`: what planning and starting it reports for I/O.
pub(crate) fn io(service: &str) -> impl Fn(std::io::Error) -> StackError + '_ {
    move |source| StackError::Spawn {
        service: service.to_owned(),
        source,
    }
}

/// Indents a log tail so it reads as part of an error message.
pub(crate) fn indent_tail(tail: &str) -> String {
    if tail.trim().is_empty() {
        return "    (no output)".into();
    }
    tail.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

//! One client process: spawned leading its own process group (registered with the reaper, so
//! Ctrl-C reaches it), stdout and stderr read line by line through their parsers, every event
//! sent to the engine, the group killed on request, after exit, and when the task is dropped.
//!
//! Clients run as tokio tasks rather than `stack::ChildProcess`es: hundreds of them must not
//! cost two threads and a log file each.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::command::ClientCommand;
use super::events::{ClientEvent, ExitStatus};
use super::progress::ProgressParser;
use super::stderr::StderrParser;
use crate::reaper;

/// Lines longer than this are cut (FFmpeg's are short; this bounds memory on garbage).
const MAX_LINE: usize = 16 * 1024;

/// An event from client `client`'s process number `attempt` (1 for its first).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Report {
    pub client: u32,
    pub attempt: u32,
    pub event: ClientEvent,
}

/// Kills the group when dropped: the task ended, or was aborted with the engine.
struct Group(Pid);

impl Drop for Group {
    fn drop(&mut self) {
        reaper::kill_group(self.0);
    }
}

/// Runs one client process to its end, sending its events and finally `Exited`. Sending on
/// `kill` (or dropping it) kills the process group.
pub(crate) async fn run_client(
    client: u32,
    attempt: u32,
    command: Arc<ClientCommand>,
    events: mpsc::Sender<Report>,
    mut kill: oneshot::Receiver<()>,
) {
    let report = |event| Report {
        client,
        attempt,
        event,
    };
    let mut cmd = tokio::process::Command::new(&command.program);
    cmd.args(&command.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let spawned = reaper::register_spawn(|| cmd.spawn(), tokio::process::Child::id);
    let not_started = report(ClientEvent::Exited(ExitStatus::NotStarted));
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            tracing::debug!(client, "cannot start ffmpeg: {err}");
            let _ = events.send(not_started).await;
            return;
        }
    };
    let (Some(pid), Some(stdout), Some(stderr)) =
        (child.id(), child.stdout.take(), child.stderr.take())
    else {
        // Not reachable with piped output; `kill_on_drop` ends the process.
        let _ = events.send(not_started).await;
        return;
    };
    let pgid = Pid::from_raw(pid as i32);
    let group = Group(pgid);
    let mut progress = ProgressParser::default();
    let mut log = StderrParser::default();
    let reading = async {
        tokio::join!(
            read_lines(
                stdout,
                |l| progress.line(l).map(ClientEvent::Progress),
                &events,
                &report
            ),
            read_lines(stderr, |l| log.line(l), &events, &report),
        )
    };
    tokio::pin!(reading);
    tokio::select! {
        _ = &mut reading => {}
        _ = &mut kill => {
            let _ = killpg(pgid, Signal::SIGKILL);
            reading.await;
        }
    }
    let status = match child.wait().await {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => ExitStatus::Code(code),
            (None, Some(signal)) => ExitStatus::Signal(signal),
            (None, None) => ExitStatus::Code(-1),
        },
        Err(_) => ExitStatus::Code(-1),
    };
    drop(group);
    let _ = events.send(report(ClientEvent::Exited(status))).await;
}

/// Reads `stream` to EOF, sending the events `parse` makes of its lines. Bytes that are not
/// UTF-8 (media metadata) are replaced, never an error that would stop reading.
async fn read_lines(
    stream: impl AsyncRead + Unpin,
    mut parse: impl FnMut(&str) -> Option<ClientEvent>,
    events: &mpsc::Sender<Report>,
    report: &impl Fn(ClientEvent) -> Report,
) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::with_capacity(256);
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        buf.truncate(MAX_LINE);
        let line = String::from_utf8_lossy(&buf);
        if let Some(event) = parse(line.trim_end()) {
            // The engine may be gone; keep draining so the process never blocks on a pipe.
            let _ = events.send(report(event)).await;
        }
    }
}

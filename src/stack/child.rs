//! A supervised child process: its own process group, captured output, and a guaranteed kill.
//!
//! The whole group is signalled (SIGTERM, then SIGKILL after a grace period) so grandchildren
//! die too. Every live group is also registered with `reaper` so Ctrl-C and SIGTERM reach it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::reaper;

/// Lines of output kept in memory for readiness checks and error messages.
const TAIL_LINES: usize = 200;
/// How long a group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(3);
/// How long an exited child's output threads get to reach EOF.
const OUTPUT_SETTLE: Duration = Duration::from_secs(1);

/// The last lines a child printed (stdout and stderr interleaved), plus a full log file.
#[derive(Debug, Default)]
pub(crate) struct OutputTail {
    lines: VecDeque<String>,
    /// Total lines seen, so a log-line readiness check never misses a line that scrolled out.
    seen: u64,
    matched: Vec<String>,
    watch_for: Vec<String>,
}

impl OutputTail {
    fn push(&mut self, line: String) {
        self.seen += 1;
        for needle in &self.watch_for {
            if line.contains(needle.as_str()) && !self.matched.contains(needle) {
                self.matched.push(needle.clone());
            }
        }
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

/// A running child in its own process group. Dropping it kills the group.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    child: Option<Child>,
    /// The threads copying stdout and stderr; they end at EOF.
    pumps: Vec<std::thread::JoinHandle<()>>,
    pgid: Pid,
    output: Arc<Mutex<OutputTail>>,
    log_path: PathBuf,
}

impl ChildProcess {
    /// Spawns `command` in a new process group, teeing stdout and stderr into `log_path`.
    /// `watch_for` are substrings a readiness check may later ask about.
    pub(crate) fn spawn(
        name: &str,
        mut command: Command,
        log_path: &Path,
        watch_for: Vec<String>,
    ) -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = reaper::spawn_registered(&mut command)?;
        let pgid = Pid::from_raw(child.id() as i32);
        let log = Arc::new(Mutex::new(File::create(log_path)?));
        let output = Arc::new(Mutex::new(OutputTail {
            watch_for,
            ..OutputTail::default()
        }));
        let mut pumps = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            pumps.push(pump(stdout, Arc::clone(&output), Arc::clone(&log)));
        }
        if let Some(stderr) = child.stderr.take() {
            pumps.push(pump(stderr, Arc::clone(&output), log));
        }
        Ok(Self {
            name: name.to_owned(),
            child: Some(child),
            pgid,
            pumps,
            output,
            log_path: log_path.to_owned(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.pgid.as_raw() as u32
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// `Some(status)` once the child has exited. Its output threads are then given a moment to
    /// copy its last lines, so an error built from `tail` right after shows them.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        let status = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())?;
        let deadline = Instant::now() + OUTPUT_SETTLE;
        // A grandchild may hold the pipes open: wait for EOF only so long.
        while self.pumps.iter().any(|p| !p.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        Some(status)
    }

    /// Whether a line containing `needle` (registered at spawn) has been printed.
    pub(crate) fn has_printed(&self, needle: &str) -> bool {
        lock(&self.output).matched.iter().any(|m| m == needle)
    }

    /// The last `n` lines of output, for error messages.
    pub fn tail(&self, n: usize) -> String {
        let out = lock(&self.output);
        let skip = out.lines.len().saturating_sub(n);
        out.lines
            .iter()
            .skip(skip)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops the whole group: SIGTERM, wait up to a grace period, then SIGKILL. Idempotent.
    pub fn stop(&mut self) -> std::io::Result<Option<ExitStatus>> {
        let Some(mut child) = self.child.take() else {
            return Ok(None);
        };
        let _ = killpg(self.pgid, Signal::SIGTERM);
        let deadline = Instant::now() + GRACE;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                tracing::warn!(service = %self.name, "did not stop within {GRACE:?}; killing");
                let _ = killpg(self.pgid, Signal::SIGKILL);
                break child.wait()?;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The leader is gone; make sure nothing else in its group survives it.
        reaper::kill_group(self.pgid);
        Ok(Some(status))
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            tracing::warn!(service = %self.name, "stopping failed: {err}");
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn pump(
    stream: impl Read + Send + 'static,
    tail: Arc<Mutex<OutputTail>>,
    log: Arc<Mutex<File>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let _ = lock(&log).write_all(&buf);
                    let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
                    lock(&tail).push(line);
                }
            }
        }
    })
}

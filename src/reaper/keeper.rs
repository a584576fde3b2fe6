//! The keeper: perfgate's own executable re-run in a hidden mode, in a process group of its
//! own, beside every run that starts something. It holds the read end of a pipe whose write
//! end only the run holds (close-on-exec, so no service inherits it); the run writes a line
//! for every process group, container and network it registers or forgets. End of file means
//! the run's process is gone, whatever ended it (SIGKILL too): the keeper then releases what is
//! still registered, and whatever carries the run's owner label, and exits. What it holds is
//! also journalled to a file, so a keeper killed with its run leaves a record for the sweep.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use super::held::{Held, Owner, remove_labelled, start_time};

/// The keeper's environment variable: the owner it keeps (`PID:START`).
const OWNER_VAR: &str = "PERFGATE_KEEPER_OF";
/// How long after the owner is gone the keeper looks again for labelled containers: a
/// create request the owner sent just before it died can still complete in the daemon.
const SETTLE: Duration = Duration::from_secs(2);
/// How long an owner shutting down in order waits for its keeper.
const FINISH_WITHIN: Duration = Duration::from_secs(20);

/// The run's end of the pipe to its keeper.
#[derive(Debug)]
pub(crate) struct Link {
    pipe: std::io::PipeWriter,
    child: Child,
}

impl Link {
    /// Starts a keeper of this process from `exe` (perfgate, or a binary whose `main` calls
    /// `dispatch_from_env` first).
    pub(crate) fn spawn(exe: &Path) -> std::io::Result<Link> {
        use std::os::unix::process::CommandExt;
        let owner = Owner::me().ok_or_else(|| std::io::Error::other("no /proc/self/stat"))?;
        let (reader, pipe) = std::io::pipe()?;
        let child = Command::new(exe)
            .env(OWNER_VAR, owner.to_string())
            .stdin(reader)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Out of the run's group: a Ctrl-C or a group kill of the run does not reach it.
            .process_group(0)
            .spawn()?;
        Ok(Link { pipe, child })
    }

    /// Sends one line (see `Held`); a keeper that is gone is not an error of the run.
    pub(crate) fn tell(&mut self, line: &str) {
        let _ = writeln!(self.pipe, "{line}");
    }

    /// `+g PGID START` for a group perfgate just started.
    pub(crate) fn tell_group(&mut self, pgid: i32) {
        let start = start_time(pgid as u32).unwrap_or(0);
        self.tell(&format!("+g {pgid} {start}"));
    }

    /// Closes the pipe and waits (bounded) for the keeper to finish, as after SIGKILL.
    pub(crate) fn finish(self) {
        let Link { pipe, mut child } = self;
        drop(pipe);
        let deadline = Instant::now() + FINISH_WITHIN;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// If this process was started as a keeper, keeps its owner and returns the exit code.
pub fn keep_from_env() -> Option<ExitCode> {
    let owner = std::env::var(OWNER_VAR).ok()?;
    Some(match owner.parse::<Owner>() {
        Ok(owner) => {
            keep(owner);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("perfgate keeper: {OWNER_VAR}: {err}");
            ExitCode::FAILURE
        }
    })
}

/// Reads lines until the owner's end of the pipe closes, then releases what is left.
fn keep(owner: Owner) {
    let mut journal = Journal::create(owner);
    let mut held = Held::default();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        held.apply(&line);
        journal.append(&line);
    }
    if !held.is_empty() || held.docker {
        held.release(owner);
    }
    if held.docker {
        std::thread::sleep(SETTLE);
        remove_labelled(owner);
    }
    journal.remove();
}

/// Where keepers journal what their owners hold: `$PERFGATE_STATE_DIR`, else
/// `$XDG_RUNTIME_DIR/perfgate`, else `perfgate-UID` in the temporary folder.
pub(crate) fn journal_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PERFGATE_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("perfgate"),
        None => std::env::temp_dir().join(format!("perfgate-{}", nix::unistd::getuid())),
    }
}

/// A keeper's journal: `keeper PID:START` (the keeper), then every line its owner sent. Named
/// `PID-START.journal` after the owner.
struct Journal {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl Journal {
    fn create(owner: Owner) -> Journal {
        let dir = journal_dir();
        let path = dir.join(format!("{}-{}.journal", owner.pid, owner.start));
        let file = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::File::create(&path))
            .ok();
        let mut journal = Journal { path, file };
        if let Some(me) = Owner::me() {
            journal.append(&format!("keeper {me}"));
        }
        journal
    }

    fn append(&mut self, line: &str) {
        if let Some(file) = self.file.as_mut() {
            let _ = writeln!(file, "{line}");
        }
    }

    fn remove(self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A journal read back: its owner, its keeper, and what the owner held.
pub(crate) fn read_journal(path: &Path) -> Option<(Owner, Option<Owner>, Held)> {
    let name = path.file_name()?.to_str()?.strip_suffix(".journal")?;
    let owner = name.replacen('-', ":", 1).parse().ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    let mut keeper = None;
    let mut held = Held::default();
    for line in text.lines() {
        match line.strip_prefix("keeper ") {
            Some(k) => keeper = k.parse().ok(),
            None => held.apply(line),
        }
    }
    Some((owner, keeper, held))
}

//! The `docker` CLI as perfgate uses it: one quiet runner with the command and its stderr in the
//! error, and a fast probe for a reachable daemon.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "no Docker daemon is reachable ({detail}) (hint: start Docker, or use `backend: process`, which runs every service as a local process)"
    )]
    NoDaemon { detail: String },
    #[error("`docker {args}` failed: {stderr}")]
    Command { args: String, stderr: String },
    #[error("cannot run `docker`: {0} (hint: install the Docker CLI, or use `backend: process`)")]
    Spawn(#[source] std::io::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs `docker ARGS`, returning its stdout; a non-zero exit becomes an error naming the command.
pub fn docker(args: &[&str]) -> Result<String, DockerError> {
    let output = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(DockerError::Spawn)?;
    checked(args, output)
}

pub(crate) fn checked(args: &[&str], output: Output) -> Result<String, DockerError> {
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    }
    Err(DockerError::Command {
        args: args.join(" "),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

/// Set once a daemon has answered: a run asks before choosing the engines' address and again
/// before starting the stack, and one `docker version` (~50 ms) is enough.
static ANSWERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether a daemon answers, decided within a few seconds; the error says why not.
pub fn daemon_available() -> Result<(), DockerError> {
    use std::sync::atomic::Ordering;
    if ANSWERED.load(Ordering::Relaxed) {
        return Ok(());
    }
    probe_daemon()?;
    ANSWERED.store(true, Ordering::Relaxed);
    Ok(())
}

fn probe_daemon() -> Result<(), DockerError> {
    let args = ["version", "--format", "{{.Server.Version}}"];
    let Some(output) = output_within(&args, Duration::from_secs(5))? else {
        return Err(DockerError::NoDaemon {
            detail: "`docker version` did not answer within 5 s".into(),
        });
    };
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let detail = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("`docker version` failed")
        .trim()
        .to_owned();
    Err(DockerError::NoDaemon { detail })
}

/// Runs `docker ARGS` for at most `limit`: its output, or `None` when it was killed at the
/// limit (what it started on the daemon is the caller's to remove).
pub(crate) fn output_within(args: &[&str], limit: Duration) -> Result<Option<Output>, DockerError> {
    let mut child = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(DockerError::Spawn)?;
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait()?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Some(child.wait_with_output()?))
}

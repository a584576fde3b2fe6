//! Running a provisioning command quietly: success, or its stderr in the error.

/// Runs `command` capturing its output; `what` names it in errors ("apt-get update").
pub(crate) fn run_quiet(command: duct::Expression, what: &str) -> Result<(), String> {
    let out = command
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

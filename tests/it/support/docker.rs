//! Shared by the tests that need a Docker daemon: whether one answers, and a loud skip (a
//! failure under `CI`, where the docker backend must be tested) when none does.

use std::process::Command;

/// Whether the daemon answers; if not, says SKIPPED and why (or fails when `CI` is set).
pub fn daemon_or_skip(test: &str) -> bool {
    let up = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !up {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: no Docker daemon, and CI is set: the docker backend must be tested here"
        );
        eprintln!("SKIPPED {test}: no Docker daemon is reachable (`docker version` failed)");
    }
    up
}

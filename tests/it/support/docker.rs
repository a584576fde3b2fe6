//! Shared by the tests that need a Docker daemon: whether one answers, and a loud skip (a
//! failure under `CI`, where the docker backend must be tested) when none does; the
//! containers and networks a perfgate process's runs left.

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

/// The run label every container of perfgate's docker backend carries; its value, also the
/// run network's name, is `perfgate-<pid of the perfgate process>-<n>`.
pub const RUN_LABEL: &str = "dev.perfgate.run";

pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Containers (ids, one a line) and run networks of the runs of perfgate process `pid`.
pub fn leftovers(pid: u32) -> (String, String) {
    let run = format!("perfgate-{pid}-");
    let label = format!("{{{{.ID}}}} {{{{.Label \"{RUN_LABEL}\"}}}}");
    let filter = format!("label={RUN_LABEL}");
    let listed = docker(&["ps", "--all", "--format", &label, "--filter", &filter]);
    let containers: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, value)| value.starts_with(&run))
        .map(|(id, _)| id)
        .collect();
    let networks = docker(&["network", "ls", "--format", "{{.Name}}"]);
    let networks: Vec<&str> = networks.lines().filter(|n| n.starts_with(&run)).collect();
    (containers.join("\n"), networks.join("\n"))
}

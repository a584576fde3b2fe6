//! What a run holds outside its own process (process groups, containers, networks) as the
//! keeper and the sweep know it: the lines that register and forget each, who owns them across
//! pid reuse, and their release once the owner is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Docker label naming the process that owns a container or network (`PID:START`).
pub(crate) const OWNER_LABEL: &str = "dev.perfgate.owner";
/// Docker label naming the host of that process (pids mean nothing on another host).
pub(crate) const HOST_LABEL: &str = "dev.perfgate.host";
/// How long one `docker` command may take before it is given up.
const DOCKER_WITHIN: Duration = Duration::from_secs(15);

/// A process, told apart from a later one with the same pid by its start time (clock ticks
/// after boot, field 22 of `/proc/PID/stat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) pid: u32,
    pub(crate) start: u64,
}

impl Owner {
    /// This process.
    pub(crate) fn me() -> Option<Owner> {
        let pid = std::process::id();
        start_time(pid).map(|start| Owner { pid, start })
    }

    /// This process's parent (under cargo-nextest: the test runner).
    pub(crate) fn parent() -> Option<Owner> {
        let pid = nix::unistd::getppid().as_raw() as u32;
        start_time(pid).map(|start| Owner { pid, start })
    }

    /// Whether this very process still runs (a zombie counts as gone).
    pub(crate) fn alive(&self) -> bool {
        stat_fields(self.pid).is_some_and(|f| {
            f.first().is_some_and(|s| s != "Z") && start_of(&f) == Some(self.start)
        })
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.pid, self.start)
    }
}

impl std::str::FromStr for Owner {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (pid, start) = text.split_once(':').ok_or("expected PID:START")?;
        Ok(Owner {
            pid: pid.parse().map_err(|_| format!("bad pid in {text:?}"))?,
            start: start.parse().map_err(|_| format!("bad start in {text:?}"))?,
        })
    }
}

/// The fields of `/proc/PID/stat` after the command name (the state first).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_owned).collect())
}

/// The process group of `pid` (field 5 of `/proc/PID/stat`).
pub(crate) fn process_group(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(2)?.parse().ok()
}

/// When process `pid` started (clock ticks after boot).
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    start_of(&stat_fields(pid)?)
}

/// The start time among `stat_fields` (field 22 of the whole line).
fn start_of(fields: &[String]) -> Option<u64> {
    fields.get(19)?.parse().ok()
}

/// Whether group `pgid`, whose leader started at `start`, is still the group perfgate made:
/// its leader is that process, or the leader is gone and members remain (a pid still naming a
/// group is not given to a new process, so those members are the old group's).
fn group_is_ours(pgid: i32, start: u64) -> bool {
    let Ok(pid) = u32::try_from(pgid) else {
        return false;
    };
    if let Some(leader) = start_time(pid) {
        return leader == start;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .any(|p| stat_fields(p).and_then(|f| f.get(2)?.parse::<i32>().ok()) == Some(pgid))
}

/// The name of this host, for `HOST_LABEL`.
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// What one owner holds: registered by lines `+g PGID START`, `+c CONTAINER`, `+n NETWORK`,
/// forgotten by `-g PGID`, `-c CONTAINER`, `-n NETWORK`; `d` says it uses docker (so its
/// labelled containers and networks are looked for too).
#[derive(Debug, Default)]
pub(crate) struct Held {
    groups: BTreeMap<i32, u64>,
    containers: BTreeSet<String>,
    networks: BTreeSet<String>,
    pub(crate) docker: bool,
}

/// What a release removed.
#[derive(Debug, Default)]
pub(crate) struct Released {
    pub(crate) groups: usize,
    pub(crate) containers: Vec<String>,
    pub(crate) networks: Vec<String>,
}

impl Held {
    /// Applies one line; a malformed line is ignored.
    pub(crate) fn apply(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let (Some(what), arg) = (words.next(), words.next()) else {
            return;
        };
        match (what, arg) {
            ("d", _) => self.docker = true,
            ("+g", Some(pgid)) => {
                if let (Ok(pgid), Some(Ok(start))) = (pgid.parse(), words.next().map(str::parse)) {
                    self.groups.insert(pgid, start);
                }
            }
            ("-g", Some(pgid)) => {
                if let Ok(pgid) = pgid.parse() {
                    self.groups.remove(&pgid);
                }
            }
            ("+c", Some(name)) => {
                self.containers.insert(name.to_owned());
            }
            ("-c", Some(name)) => {
                self.containers.remove(name);
            }
            ("+n", Some(name)) => {
                self.networks.insert(name.to_owned());
            }
            ("-n", Some(name)) => {
                self.networks.remove(name);
            }
            _ => {}
        }
    }

    /// Whether nothing is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.containers.is_empty() && self.networks.is_empty()
    }

    /// Kills every group still ours and removes every container and network (with, when it
    /// used docker, whatever carries `owner`'s label): the owner is gone.
    pub(crate) fn release(&self, owner: Owner) -> Released {
        let mut released = Released::default();
        for (&pgid, &start) in &self.groups {
            if group_is_ours(pgid, start) && killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok() {
                released.groups += 1;
            }
        }
        let mut containers: BTreeSet<String> = self.containers.clone();
        let mut networks: BTreeSet<String> = self.networks.clone();
        if self.docker {
            let (labelled_containers, labelled_networks) = labelled_by(owner);
            containers.extend(labelled_containers);
            networks.extend(labelled_networks);
        }
        remove_all(&containers, &networks);
        released.containers = containers.into_iter().collect();
        released.networks = networks.into_iter().collect();
        released
    }
}

/// Removes every container and network labelled with `owner`, registered or not (a create
/// request still in flight when the owner died is found by its label only).
pub(crate) fn remove_labelled(owner: Owner) {
    let (containers, networks) = labelled_by(owner);
    remove_all(&containers, &networks);
}

/// The containers, then the networks, labelled with `owner`.
fn labelled_by(owner: Owner) -> (BTreeSet<String>, BTreeSet<String>) {
    (
        labelled(&["ps", "--all", "--quiet"], owner).into_iter().collect(),
        labelled(&["network", "ls", "--quiet"], owner).into_iter().collect(),
    )
}

/// Removes `containers` (with their volumes), then `networks` (once nothing is attached).
pub(crate) fn remove_all(containers: &BTreeSet<String>, networks: &BTreeSet<String>) {
    remove(&["rm", "--force", "--volumes"], containers);
    remove(&["network", "rm"], networks);
}

/// Containers or networks (`list`: a `docker … --quiet` listing) labelled with `owner`.
fn labelled(list: &[&str], owner: Owner) -> Vec<String> {
    let filter = format!("label={OWNER_LABEL}={owner}");
    let mut args = list.to_vec();
    args.extend(["--filter", &filter]);
    docker_lines(&args)
}

/// `docker ARGS NAMES…` (nothing when `names` is empty), waited for at most `DOCKER_WITHIN`.
fn remove(args: &[&str], names: &BTreeSet<String>) {
    if !names.is_empty() {
        let mut all = args.to_vec();
        all.extend(names.iter().map(String::as_str));
        docker_lines(&all);
    }
}

/// The lines `docker ARGS` prints, waited for at most `DOCKER_WITHIN` (none on failure).
pub(crate) fn docker_lines(args: &[&str]) -> Vec<String> {
    let Ok(mut child) = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return Vec::new();
    };
    let deadline = Instant::now() + DOCKER_WITHIN;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Vec::new();
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
    }
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_register_and_forget() {
        let mut held = Held::default();
        for line in ["+g 10 5", "+g 11 6", "-g 10", "+c a", "+n net", "-c a", "junk", "+g x"] {
            held.apply(line);
        }
        assert_eq!(held.groups, BTreeMap::from([(11, 6)]));
        assert!(held.containers.is_empty());
        assert_eq!(held.networks, BTreeSet::from(["net".to_owned()]));
        assert!(!held.docker);
        held.apply("d");
        assert!(held.docker);
    }

    #[test]
    fn an_owner_reads_back_and_is_told_apart_from_a_later_process() {
        let me = Owner::me().expect("this process");
        assert_eq!(me.to_string().parse::<Owner>(), Ok(me));
        assert!(me.alive());
        let earlier = Owner {
            start: me.start + 1,
            ..me
        };
        assert!(!earlier.alive());
        assert!("12".parse::<Owner>().is_err());
    }

    #[test]
    fn a_group_is_ours_while_its_leader_or_its_members_remain() {
        use std::os::unix::process::CommandExt;
        // The leader leaves a member behind and exits.
        let mut leader = Command::new("sh")
            .args(["-c", "sleep 30 >/dev/null & echo started"])
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("sh");
        let pgid = leader.id() as i32;
        let start = start_time(leader.id()).expect("the leader runs");
        assert!(group_is_ours(pgid, start));
        assert!(!group_is_ours(pgid, start + 1), "another process with that pid");
        let mut line = String::new();
        let mut stdout = leader.stdout.take().expect("piped");
        std::io::Read::read_to_string(&mut stdout, &mut line).expect("output");
        leader.wait().expect("the leader exits");
        assert!(group_is_ours(pgid, start), "the member keeps the group");
        killpg(Pid::from_raw(pgid), Signal::SIGKILL).expect("kill the member");
        assert!(!group_is_ours(-1, start));
    }
}

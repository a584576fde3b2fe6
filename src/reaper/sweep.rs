//! The sweep of what runs left behind when neither they nor their keepers could clean up (both
//! killed, a crash, a reboot of the daemon's host aside): process groups journalled by a keeper
//! whose owner and keeper are both gone, and containers and networks labelled with an owner on
//! this host that is gone. Run at the start of every run and by `perfgate clean`.

use std::collections::BTreeSet;

use super::held::{HOST_LABEL, OWNER_LABEL, Owner, Released, docker_lines, host_name, remove_all};
use super::keeper::{journal_dir, read_journal};

/// What a sweep removed.
#[derive(Debug, Default)]
pub struct Swept {
    /// Process groups killed.
    pub groups: usize,
    pub containers: Vec<String>,
    pub networks: Vec<String>,
}

impl Swept {
    pub fn is_empty(&self) -> bool {
        self.groups == 0 && self.containers.is_empty() && self.networks.is_empty()
    }

    fn add(&mut self, released: Released) {
        self.groups += released.groups;
        self.containers.extend(released.containers);
        self.networks.extend(released.networks);
    }
}

impl std::fmt::Display for Swept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return write!(f, "nothing left by earlier runs");
        }
        write!(
            f,
            "removed what killed runs left: {} process group(s), {} container(s), {} network(s)",
            self.groups,
            self.containers.len(),
            self.networks.len()
        )?;
        for name in self.containers.iter().chain(&self.networks) {
            write!(f, "\n  {name}")?;
        }
        Ok(())
    }
}

/// Releases what dead runs left: their journals always, and with `docker` the containers and
/// networks labelled with a dead owner of this host.
pub fn sweep(docker: bool) -> Swept {
    let mut swept = Swept::default();
    if let Ok(entries) = std::fs::read_dir(journal_dir()) {
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            let Some((owner, keeper, held)) = read_journal(&path) else {
                continue;
            };
            if owner.alive() || keeper.is_some_and(|k| k.alive()) {
                continue;
            }
            swept.add(held.release(owner));
            let _ = std::fs::remove_file(&path);
        }
    }
    if docker {
        let containers = dead_owners(&["ps", "--all"], "{{.Names}}");
        let networks = dead_owners(&["network", "ls"], "{{.Name}}");
        remove_all(&containers, &networks);
        swept.containers.extend(containers);
        swept.networks.extend(networks);
    }
    swept
}

/// Containers or networks (`list`: `docker ps --all` or `docker network ls`, `name`: the
/// format of their name) labelled with an owner of this host that is gone.
fn dead_owners(list: &[&str], name: &str) -> BTreeSet<String> {
    let format =
        format!("{name} {{{{.Label \"{OWNER_LABEL}\"}}}} {{{{.Label \"{HOST_LABEL}\"}}}}");
    let filter = format!("label={OWNER_LABEL}");
    let mut args = list.to_vec();
    args.extend(["--filter", &filter, "--format", &format]);
    let host = host_name();
    docker_lines(&args)
        .into_iter()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (id, owner, on) = (words.next()?, words.next()?, words.next()?);
            let owner: Owner = owner.parse().ok()?;
            (on == host && !owner.alive()).then(|| id.to_owned())
        })
        .collect()
}

//! Loopback ports: a run's ports reserved together (free ones asked of the kernel, fixed ones
//! checked free, all held until the services start), who holds a busy port (and in which
//! process group), and which of a service's ports is its HTTP one.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// The ports of one run, each held bound until its service starts (`StackPlan` keeps them;
/// `start` releases a service's just before it launches, all of them before a docker pod): a free port is asked of the
/// kernel while the run's earlier ports are still bound, so no two services of a run get the
/// same port (asked and released one at a time, about 2 × 10⁻⁴ of three-port runs did).
#[derive(Debug, Default)]
pub(crate) struct Reserved {
    held: Vec<TcpListener>,
}

impl Reserved {
    /// A free loopback port, held until [`Reserved`] is dropped.
    pub(crate) fn free(&mut self) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(loopback(0))?;
        let addr = listener.local_addr()?;
        self.held.push(listener);
        Ok(addr)
    }

    /// Stops holding `ports` (a service's, just before it starts and binds them); the other
    /// ports stay held, so no other program's `bind(0)` can get them meanwhile.
    pub(crate) fn release(&mut self, ports: &[u16]) {
        self.held
            .retain(|l| l.local_addr().is_ok_and(|a| !ports.contains(&a.port())));
    }

    /// `port` as written in the spec, held like a free one; taken by another program, the
    /// error says so and, where /proc shows it, which process listens there.
    pub(crate) fn fixed(&mut self, port: u16) -> Result<SocketAddr, PortTaken> {
        match TcpListener::bind(loopback(port)) {
            Ok(listener) => {
                self.held.push(listener);
                Ok(loopback(port))
            }
            Err(source) => Err(PortTaken {
                port,
                holder: listener_of(port),
                source,
            }),
        }
    }
}

/// A fixed port another program already holds.
#[derive(Debug)]
pub(crate) struct PortTaken {
    pub(crate) port: u16,
    /// `pid 1234 (python3)`, when /proc shows who listens on it.
    pub(crate) holder: Option<String>,
    pub(crate) source: std::io::Error,
}

/// The process listening on TCP `port` (IPv4 or IPv6), as `pid N (comm)`, when this user can
/// see it in /proc.
pub(crate) fn listener_of(port: u16) -> Option<String> {
    listeners_of(port).first().map(Listener::to_string)
}

/// A process holding a listening socket.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Listener {
    pub(crate) pid: u32,
    pub(crate) comm: String,
    /// Its process group (field 5 of `/proc/PID/stat`).
    pub(crate) group: Option<u32>,
}

impl std::fmt::Display for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} ({})", self.pid, self.comm)
    }
}

/// Every process this user can see in /proc holding a socket listening on TCP `port`.
pub(crate) fn listeners_of(port: u16) -> Vec<Listener> {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| listening_inodes(&text, port))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let fds = std::fs::read_dir(entry.path().join("fd")).ok()?;
            let holds = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path())
                    .is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
            });
            holds.then(|| Listener {
                pid,
                comm: std::fs::read_to_string(entry.path().join("comm"))
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                group: crate::reaper::process_group(pid),
            })
        })
        .collect()
}

/// The inodes of sockets listening on `port` in a /proc/net/tcp table (local address
/// `HEXIP:HEXPORT` in column 2, state `0A` = LISTEN in column 4, inode in column 10).
fn listening_inodes(table: &str, port: u16) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols.get(1)?.rsplit(':').next()?;
            let listening = *cols.get(3)? == "0A";
            (listening && u16::from_str_radix(local_port, 16).ok()? == port)
                .then(|| cols.get(9).map(|inode| (*inode).to_owned()))
                .flatten()
        })
        .collect()
}

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// A service's HTTP address: its `http` port, or its only port.
pub(crate) fn http_port(ports: &BTreeMap<String, SocketAddr>) -> Option<SocketAddr> {
    ports.get("http").copied().or_else(|| {
        (ports.len() == 1)
            .then(|| ports.values().next().copied())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_ports_of_a_run_are_never_the_same() {
        // 10 000 runs of 10 free ports: 100 000 allocations, no duplicate inside a run.
        for _ in 0..10_000 {
            let mut run = Reserved::default();
            let ports: BTreeSet<u16> = (0..10).map(|_| run.free().unwrap().port()).collect();
            assert_eq!(ports.len(), 10, "a run got one port twice: {ports:?}");
        }
    }

    #[test]
    fn a_fixed_port_another_socket_holds_is_refused_with_its_holder() {
        let other = TcpListener::bind(loopback(0)).unwrap();
        let port = other.local_addr().unwrap().port();
        let taken = Reserved::default().fixed(port).unwrap_err();
        assert_eq!(taken.port, port);
        let me = format!("pid {} (", std::process::id());
        assert!(
            taken.holder.as_deref().is_some_and(|h| h.starts_with(&me)),
            "holder {:?}, expected this test process",
            taken.holder
        );
    }

    #[test]
    fn a_release_frees_only_the_ports_named() {
        let mut run = Reserved::default();
        let (a, b) = (run.free().unwrap().port(), run.free().unwrap().port());
        run.release(&[a]);
        assert!(TcpListener::bind(loopback(a)).is_ok(), "{a} still held");
        assert!(TcpListener::bind(loopback(b)).is_err(), "{b} released too");
    }

    #[test]
    fn a_listener_is_found_with_its_process_group() {
        let mine = TcpListener::bind(loopback(0)).unwrap();
        let found = listeners_of(mine.local_addr().unwrap().port());
        let group = nix::unistd::getpgrp().as_raw() as u32;
        assert!(
            found.iter().any(|l| l.pid == std::process::id() && l.group == Some(group)),
            "{found:?}, expected pid {} in group {group}",
            std::process::id()
        );
    }

    #[test]
    fn a_free_fixed_port_is_held_until_the_reservation_ends() {
        let port = TcpListener::bind(loopback(0)).unwrap().local_addr().unwrap().port();
        let mut run = Reserved::default();
        assert_eq!(run.fixed(port).unwrap().port(), port);
        assert!(TcpListener::bind(loopback(port)).is_err(), "not held");
        drop(run);
        assert!(TcpListener::bind(loopback(port)).is_ok(), "not released");
    }

    #[test]
    fn listening_sockets_are_read_from_a_proc_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:B26E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 424242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:B26E 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 515151 1 0000000000000000 20 4 30 10 -1";
        assert_eq!(listening_inodes(table, 0xB26E), vec!["424242"]);
        assert!(listening_inodes(table, 80).is_empty());
    }
}

//! Free loopback ports, allocated by asking the kernel for port 0, and which of a service's
//! ports is its HTTP one.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// A free port on 127.0.0.1. The listener is dropped at once, so a service started right
/// after can bind it; the kernel does not hand the same ephemeral port out again that quickly.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    Ok(listener.local_addr()?.port())
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

//! Free loopback ports, allocated by asking the kernel for port 0.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// Listen backlog of perfgate's own servers: load tests open many connections at once.
const LISTEN_BACKLOG: u32 = 4096;

/// A free port on 127.0.0.1. The listener is dropped at once, so a service started right
/// after can bind it; the kernel does not hand the same ephemeral port out again that quickly.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    Ok(listener.local_addr()?.port())
}

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Binds a server socket for a built-in service with a large listen backlog (must run inside a
/// tokio runtime).
pub(crate) fn bind_listener(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

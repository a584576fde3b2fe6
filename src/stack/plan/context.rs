//! What every kind's planner may look at: the spec, the run folder, the backend, and every
//! address allocated before any service is planned (OTLP receivers, named ports, the gating
//! Prometheus's remote-write URL), so that senders can be configured whatever the spec's order.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use crate::spec::{ServiceKind, Spec};
use crate::stack::backend::Backend;
use crate::stack::error::{StackError, io};
use crate::stack::ports::{PortTaken, Reserved, loopback};

/// The OTLP/HTTP address of every service that receives OTLP, allocated before anything starts
/// so senders can be configured whatever the spec's order.
#[derive(Debug, Default)]
pub(crate) struct Receivers(pub(crate) BTreeMap<String, SocketAddr>);

impl Receivers {
    pub(crate) fn allocate(spec: &Spec, reserved: &mut Reserved) -> std::io::Result<Self> {
        let mut out = BTreeMap::new();
        for (name, service) in &spec.stack.services {
            if service.kind.receives_otlp() {
                out.insert(name.clone(), reserved.free()?);
            }
        }
        Ok(Self(out))
    }

    /// `http://HOST:PORT` of a receiver (the OTLP base URL; senders add `/v1/metrics`).
    pub(crate) fn endpoint(&self, name: &str) -> std::io::Result<String> {
        self.addr(name).map(|addr| format!("http://{addr}"))
    }

    pub(crate) fn addr(&self, name: &str) -> std::io::Result<SocketAddr> {
        self.0
            .get(name)
            .copied()
            .ok_or_else(|| std::io::Error::other(format!("`{name}` does not receive OTLP")))
    }
}

/// Service → port name → address.
pub(crate) type Addresses = BTreeMap<String, BTreeMap<String, SocketAddr>>;

/// The spec and everything allocated for it before planning.
pub(crate) struct PlanContext<'a> {
    pub(crate) spec: &'a Spec,
    pub(crate) run_dir: &'a Path,
    pub(crate) backend: Backend,
    pub(crate) receivers: Receivers,
    pub(crate) addresses: Addresses,
    /// The Prometheus assertions query (the one marked `gates`, else the first).
    pub(crate) gating: Option<&'a str>,
    /// Its remote-write receiver's URL, well formed even without a Prometheus.
    pub(crate) prom_write: String,
    /// Every port of the run, held until its services start.
    pub(crate) reserved: RefCell<Reserved>,
}

impl<'a> PlanContext<'a> {
    /// Allocates every receiver and port of `spec`.
    pub(crate) fn new(
        spec: &'a Spec,
        run_dir: &'a Path,
        backend: Backend,
    ) -> Result<Self, StackError> {
        let mut reserved = Reserved::default();
        let receivers = Receivers::allocate(spec, &mut reserved).map_err(io("stack"))?;
        // Every service's ports up front: adapters writing to Prometheus and `{{SERVICE.PORT}}`
        // placeholders need them whatever the spec's order.
        let addresses = allocate_ports(spec, &receivers, &mut reserved)?;
        let gating = gating_prometheus(spec);
        let gate_addr = match gating {
            Some(name) => port_of(&addresses, name, "http").map_err(io(name))?,
            // No Prometheus: nothing can write to it, but the URL must still be well formed.
            None => loopback(0),
        };
        Ok(Self {
            spec,
            run_dir,
            backend,
            receivers,
            addresses,
            gating,
            prom_write: format!("http://{gate_addr}/api/v1/write"),
            reserved: RefCell::new(reserved),
        })
    }

    /// A free loopback port for a part of `service` no spec names (a collector's gRPC
    /// receiver, rotel's companion adapter), reserved with the run's others.
    pub(crate) fn free_port(&self, service: &str) -> Result<SocketAddr, StackError> {
        self.reserved.borrow_mut().free().map_err(io(service))
    }

    /// The address of `service`'s port `port`, allocated up front.
    pub(crate) fn port(&self, service: &str, port: &str) -> Result<SocketAddr, StackError> {
        port_of(&self.addresses, service, port).map_err(io(service))
    }
}

/// The Prometheus service assertions query: the one the spec marks `gates`, else the first.
fn gating_prometheus(spec: &Spec) -> Option<&str> {
    let proms = || {
        spec.stack
            .services
            .iter()
            .filter_map(|(name, s)| match &s.kind {
                ServiceKind::Prometheus(p) => Some((name.as_str(), p.gates)),
                _ => None,
            })
    };
    proms()
        .find(|(_, gates)| *gates)
        .or_else(|| proms().next())
        .map(|(name, _)| name)
}

/// The address of every named port of every service (`{{SERVICE.PORT}}` placeholders refer to
/// them), as its kind declares them: an OTLP receiver keeps the address `Receivers` gave it, a
/// fixed port is used as written, every other port is a free loopback port.
fn allocate_ports(
    spec: &Spec,
    receivers: &Receivers,
    reserved: &mut Reserved,
) -> Result<Addresses, StackError> {
    let mut out = Addresses::new();
    for (name, service) in &spec.stack.services {
        let mut ports = BTreeMap::new();
        for port in service.kind.ports() {
            let addr = match port.number {
                _ if port.otlp => receivers.addr(name).map_err(io(name))?,
                0 => reserved.free().map_err(io(name))?,
                fixed => reserved.fixed(fixed).map_err(|taken| port_taken(name, port.name, taken))?,
            };
            ports.insert(port.name.to_owned(), addr);
        }
        out.insert(name.clone(), ports);
    }
    Ok(out)
}

fn port_taken(service: &str, port: &str, taken: PortTaken) -> StackError {
    StackError::PortTaken {
        service: service.to_owned(),
        port: port.to_owned(),
        number: taken.port,
        holder: taken.holder,
        source: taken.source,
    }
}

fn port_of(addresses: &Addresses, service: &str, port: &str) -> std::io::Result<SocketAddr> {
    addresses
        .get(service)
        .and_then(|ports| ports.get(port))
        .copied()
        .ok_or_else(|| std::io::Error::other(format!("no port `{port}` allocated for `{service}`")))
}

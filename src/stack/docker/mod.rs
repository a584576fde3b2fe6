//! The docker backend: planned services as containers in one pod (`pod`), each container read
//! from the plan (`container`) and removed on every exit path (`guard`); the address
//! containers reach perfgate's own endpoints at (`host`); compose files rendered from the same
//! reading of the plan (`compose`).

pub(crate) mod compose;
mod container;
mod guard;
mod host;
mod pod;

pub(crate) use container::{compose_image, container_command, published_ports};
pub(crate) use guard::ContainerGuard;
pub use host::host_address_for_containers;
pub(crate) use pod::Pod;

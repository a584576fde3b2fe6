//! Stacks: choosing a backend, bringing a spec's services up (as processes or containers),
//! knowing their endpoints, and tearing them down on every exit path.
//!
//! Layers, bottom up (no module imports one above it; `layers` checks it): `child`,
//! `ports`, `error`, `ready`, `builtin` (built-ins' environment and
//! `dispatch_from_env`), `images/` (the docker CLI and local images); `backend`, `need` (a tool,
//! resolved per backend); `plan/` (the backend-neutral plan, by kind, and the tools each kind
//! needs); `choose` (the backend, from those tools); the backends `process` and `docker/`, and
//! `compose`; `launch` (a planned service on a backend), `running`, `start`.

mod backend;
mod builtin;
mod child;
mod choose;
mod compose;
mod docker;
mod error;
pub(crate) mod images;
mod launch;
#[cfg(test)]
mod layers;
mod need;
mod plan;
mod ports;
mod process;
mod ready;
mod running;
mod start;

pub use backend::{Backend, BackendDecision};
pub use builtin::dispatch_from_env;
pub use choose::choose_backend;
pub use compose::write_compose;
pub use docker::host_address_for_containers;
pub use error::StackError;
pub use plan::prometheus;
pub use ports::loopback;
pub use running::{RunningStack, ServiceRecord};
pub use start::{StackOptions, start};
#[cfg(any(test, feature = "internals"))]
pub use ready::Readiness;

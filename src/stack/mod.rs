//! Stacks: choosing a backend, bringing a spec's services up (as processes or containers),
//! knowing their endpoints, and tearing them down on every exit path.

mod backend;
mod builtin;
mod child;
mod compose;
mod docker_backend;
mod error;
mod origin;
mod otel;
mod otelcol;
mod ports;
mod process_backend;
pub mod prometheus;
mod ready;
pub mod reaper;
pub mod tools;

pub use backend::{Backend, BackendDecision, choose_backend};
pub use builtin::{POD as POD_BUILTIN, dispatch_from_env, host_executable};
pub use child::ChildProcess;
pub use compose::write_compose;
pub use docker_backend::host_address_for_containers;
pub use error::StackError;
pub use ports::{free_port, loopback};
pub use process_backend::{RunningService, RunningStack, ServiceRecord, StackOptions, start};
pub use ready::Readiness;

//! The backend-neutral plan of a stack (`model`): what every service runs, with which
//! arguments, environment, ports and readiness, in start order. Planned by kind (`prometheus`,
//! `demo_api`, `otel` with `otelcol`, `origin`, `external`) against addresses allocated up front
//! (`context`), dispatched in `build`; started by a backend (`stack::process`, `stack::docker`)
//! or written as a compose file (`stack::compose`).

mod build;
mod context;
mod demo_api;
mod external;
mod model;
mod origin;
mod otel;
mod otelcol;
pub mod prometheus;

pub(crate) use build::plan;
pub(crate) use model::{Planned, Program};

//! The backend-neutral plan of a stack (`model`): what every service runs, with which
//! arguments, environment, ports and readiness, in start order. Planned by kind (`kinds/`: one
//! planner per kind, which also says what tools its kind runs) against addresses allocated up
//! front from the ports each kind declares in `spec` (`context`), gathered in `build`; started
//! by a backend (`stack::process`, `stack::docker`) or written as a compose file
//! (`stack::compose`).

mod build;
mod context;
mod kinds;
mod model;

pub(crate) use build::{needed_tools, plan};
pub use kinds::prometheus;
pub(crate) use model::{Planned, Program};

//! The built-in demo API: a real HTTP service with seeded latencies, injected errors, a
//! CPU-bound endpoint (`/api/work`) and Prometheus metrics (and optionally OTLP export),
//! launched by the process backend as `perfgate demo-api`.

mod behaviour;
mod otel;
mod server;
mod telemetry;
mod work;

#[cfg(test)]
mod tests;

pub use otel::OtlpExport;
#[cfg(test)]
pub(crate) use telemetry::exposition;
pub use server::{DemoApiConfig, run};
#[cfg(any(test, feature = "internals"))]
pub use {server::serve, work::{ITERATIONS_PER_UNIT, burn, iterations}};

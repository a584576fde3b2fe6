//! The built-in demo API: a real HTTP service with seeded latencies, injected errors and
//! Prometheus metrics, launched by the process backend as `perfgate demo-api`.

mod behaviour;
mod server;
mod telemetry;

#[cfg(test)]
mod tests;

pub use server::{DemoApiConfig, run, serve};
pub use telemetry::{DURATION_BUCKETS, OrderStatus, PrometheusTelemetry, Telemetry};

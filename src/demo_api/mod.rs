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

pub use otel::{OtelTelemetry, OtlpExport, RuntimeClient};
pub use server::{DemoApiConfig, run, serve};
pub use telemetry::{DURATION_BUCKETS, OrderStatus, PrometheusTelemetry, Telemetry};
pub use work::{ITERATIONS_PER_UNIT, MAX_UNITS, burn, iterations};

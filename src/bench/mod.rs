//! Benchmarks' shared logic; the `benches/` entry points stay thin.

pub mod doc;
pub mod http;
pub mod otel;
mod procfs;
pub mod quickstart;

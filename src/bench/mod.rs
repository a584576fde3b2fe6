//! Benchmarks' shared logic; the `benches/` entry points stay thin.

pub mod doc;
pub mod fidelity;
mod host;
pub mod http;
pub mod origin;
pub mod otel;
pub mod procfs;
pub mod quickstart;
pub mod replicate;
pub mod swarm;

//! Benchmarks' shared logic; the `benches/` entry points stay thin.

pub mod doc;
pub mod http;
mod machine;
pub mod quickstart;
pub mod swarm;

//! Benchmarks' shared logic; the `benches/` entry points stay thin.

pub mod http;
pub mod doc;
pub mod quickstart;

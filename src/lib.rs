//! perfgate: declarative performance gates. A YAML spec describes a stack, load phases and
//! PromQL assertions; perfgate brings the stack up, drives the load, asks Prometheus and turns
//! every assertion into a libtest case. See docs/ARCHITECTURE.md for the map.

pub mod bench;
#[cfg(test)]
mod boundaries;
pub mod cli;
pub mod clock;
pub mod demo_api;
pub mod error;
pub mod gate;
pub mod load;
pub mod origin;
pub mod otlp;
pub mod paths;
pub mod prom;
pub mod reaper;
pub mod report;
pub mod run;
pub mod serve;
pub mod snapshot;
pub mod spec;
pub mod stack;
pub mod tools;
pub mod verdict;

//! Prometheus's HTTP API: instant and range queries, target health, typed errors.

mod client;
pub mod remote_write;
mod response;

pub use client::{PromClient, PromError};
pub use response::{FamilyMetadata, Sample, Series};

//! Prometheus's HTTP API: instant and range queries, target health, typed errors.

pub mod remote_write;
mod client;
mod response;

pub use client::{PromClient, PromError};
pub use response::{Sample, Series, Value};

//! OTLP ingest: perfgate's own OTLP/HTTP → Prometheus adapter (spec kind `otlp-to-prometheus`),
//! for Prometheus builds without the OTLP receiver (Debian's) and collectors that only export
//! OTLP (rotel). Decoding (`server`), Prometheus's naming rules (`naming`), translation into a
//! neutral series form (`translate`) and the write seam (`sink`) are kept apart so the
//! remote-write client can replace the scrape store without touching the rest.

mod naming;
mod remote_sink;
mod server;
mod sink;
mod stats;
mod translate;

#[cfg(test)]
mod tests;

pub use remote_sink::RemoteWriteSink;
#[cfg(test)]
pub(crate) use stats::exposition;
pub use server::{AdapterConfig, run};
#[cfg(any(test, feature = "internals"))]
pub use {server::serve, translate::{Translation, translate}};

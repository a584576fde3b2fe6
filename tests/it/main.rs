//! The integration tests, one binary (linked once) with one module per area. Tests of different
//! modules now share one process: tests that bring up stacks or FFmpeg take a slot from
//! `support::slots` (at most two at once), and the few that look at process-wide or daemon-wide
//! state take it alone (see `support/slots.rs`).

mod support;

mod ci_docs;
mod cli;
mod compare;
mod compose;
mod docker;
mod gates;
mod nextest_once;
mod noise;
mod origin;
mod otel;
mod repeat;
mod replicate;
mod replicate_conformance;
mod reports;
mod sigkill;
mod snapshots_e2e;
mod spec_errors;
mod swarm;

//! The libtest front end: specs → libtest cases (`harness`), each spec's stack run once per
//! test run across threads and nextest processes (`once`). A user's `harness = false` test
//! calls [`main`].

mod harness;
mod once;

pub use harness::main;

//! The libtest front end: specs → libtest cases (`harness`), each spec's stack run once per
//! test run across threads (`once`) and nextest processes (`shared`: the results files, and
//! the sweep of those of finished nextest runs). A user's `harness = false` test
//! calls [`main`].

mod harness;
mod once;
mod shared;

pub use harness::main;

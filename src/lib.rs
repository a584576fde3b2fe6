//! perfgate: declarative performance gates. A YAML spec describes a stack, load phases and
//! PromQL assertions; perfgate brings the stack up, drives the load, asks Prometheus and turns
//! every assertion into a libtest case. See docs/ARCHITECTURE.md for the map.
//!
//! # In `cargo test`
//!
//! A `harness = false` test target whose `main` hands over to [`gate::main`] turns every
//! assertion of every spec under `specs/` into a libtest case:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     perfgate::gate::main()
//! }
//! ```
//!
//! # From code
//!
//! [`load_spec`] reads and checks a spec, [`run_spec`] brings its stack up, drives the load,
//! judges every assertion and tears the stack down; the [`RunRecord`] it returns is what
//! report.json holds.
//!
//! ```no_run
//! # async fn example() -> Result<(), perfgate::SpecError> {
//! let spec = perfgate::load_spec(std::path::Path::new("specs/quickstart.yaml"))?;
//! let record = perfgate::run_spec(&spec, &perfgate::RunOptions::default()).await;
//! for verdict in &record.verdicts {
//!     println!("{}: {:?}", verdict.name, verdict.outcome);
//! }
//! std::process::exit(record.exit() as i32);
//! # }
//! ```

/// Declares modules that are crate-private in the library users get and public with the
/// `internals` feature, which only perfgate's own tests and benches turn on (Cargo.toml).
macro_rules! internal_modules {
    ($($(#[$attr:meta])* mod $name:ident;)*) => {$(
        $(#[$attr])*
        #[cfg(feature = "internals")]
        #[doc(hidden)]
        pub mod $name;
        $(#[$attr])*
        #[cfg(not(feature = "internals"))]
        mod $name;
    )*};
}

internal_modules! {
    mod clock;
    mod demo_api;
    mod error;
    mod host_noise;
    mod load;
    mod origin;
    mod otlp;
    mod paths;
    mod prom;
    mod reaper;
    mod report;
    mod run;
    mod serve;
    mod snapshot;
    mod spec;
    mod stack;
    mod tools;
    mod verdict;
}

#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod bench;
#[cfg(test)]
mod boundaries;
pub mod cli;
pub mod gate;
#[cfg(test)]
mod metrics_doc;

pub use error::Exit;
pub use report::{Outcome, RunRecord, Verdict};
pub use run::{ProgressEvent, RunOptions, run_spec};
pub use spec::{Spec, SpecError, load as load_spec};

//! Spec files: raw serde shapes → validated model, with located diagnostics.
//!
//! [`load`] / [`parse`] are the entry points; [`model`] is what the rest of perfgate consumes.

mod bounded;
mod buckets;
mod compare;
mod decode;
mod delivery;
mod client_stat;
mod diagnostic;
mod expectation;
mod kinds;
mod limits;
mod locate;
mod model;
mod named_query;
mod number;
mod phases;
pub(crate) mod placeholders;
mod query;
mod raw;
mod references;
mod replicate;
mod jwt;
mod secret;
mod sensitive;
mod services;
mod snapshots;
mod stack_info;
mod swarm;
mod tolerance;
pub mod units;
mod validate;
mod versus;

#[cfg(test)]
mod compare_tests;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use client_stat::ClientStat;
pub use jwt::{Jwt, unix_seconds as jwt_unix_seconds};
#[cfg(any(test, feature = "internals"))]
pub use jwt::JwtAlgorithm;
pub use secret::{Auth, HeaderText};
pub use delivery::{DELIVERY_SUFFIX, Delivery, delivery_id};
pub use diagnostic::{Diagnostic, SpecError};
pub use expectation::{CompareOp, Expectation, Side, Versus};
pub use tolerance::{Tolerance, round_significant};
pub use kinds::*;
pub use limits::*;
pub use model::*;
pub(crate) use query::expand_phase;
pub use query::expand_query;
pub use units::{
    parse_duration, parse_duration_range, parse_expectation, parse_rate,
    parse_tolerance,
};
pub use validate::parse;

/// Reads and validates the spec at `path` (shown as given in every diagnostic).
pub fn load(path: &Path) -> Result<Spec, SpecError> {
    parse(&bounded::read(path)?, path)
}

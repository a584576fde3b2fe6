//! Spec files: raw serde shapes → validated model, with located diagnostics.

mod model;

pub use model::*;
mod stub;
pub use stub::*;

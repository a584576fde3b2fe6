//! Helpers shared by the integration-test modules.

pub mod docker;
pub mod hls;
pub mod slots;
pub mod stacks;

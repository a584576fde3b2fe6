//! perfgate's tool cache (see `paths::cache_dir`): one folder per tool version.

use std::path::{Path, PathBuf};

use super::{ToolSpec, Version};
pub use crate::paths::cache_dir;

/// `<cache>/tools/<tool>`: holds `<version>/` trees unpacked from packages.
pub(crate) fn tool_root(tool: &ToolSpec) -> PathBuf {
    cache_dir().join("tools").join(tool.name)
}

/// The newest cached binary of `tool`, if any, with its version taken from the folder name.
pub(crate) fn newest_cached(tool: &ToolSpec) -> Option<(PathBuf, Version)> {
    let entries = std::fs::read_dir(tool_root(tool)).ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = Version::find_in(&e.file_name().to_string_lossy())?;
            let binary = e.path().join(tool.path_in_package);
            binary.is_file().then_some((binary, version))
        })
        .max_by_key(|(_, v)| *v)
}

/// Where a provisioned `version` of `tool` is unpacked.
pub(crate) fn version_dir(tool: &ToolSpec, version: Version) -> PathBuf {
    tool_root(tool).join(version.to_string())
}

pub(crate) fn ensure_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

/// Checks the version of a freshly unpacked tool tree (`from`: "the package", "the wheel") and
/// moves it into its version folder in the cache; returns the binary and its version.
pub(crate) fn install_unpacked(
    tool: &ToolSpec,
    unpacked: &Path,
    from: &str,
) -> Result<(PathBuf, Version), String> {
    let version = Version::of_binary(&unpacked.join(tool.path_in_package))?;
    if version < tool.min_version {
        return Err(format!(
            "{from} has {} {version}, older than {}",
            tool.name, tool.min_version
        ));
    }
    let dest = version_dir(tool, version);
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| e.to_string())?;
    }
    std::fs::rename(unpacked, &dest).map_err(|e| e.to_string())?;
    Ok((dest.join(tool.path_in_package), version))
}

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
            Some((binary_in(tool, &e.path())?, version))
        })
        .max_by_key(|(_, v)| *v)
}

/// `tool`'s binary inside an unpacked package at `dir`: `path_in_package`, whose last component
/// may end in `*` (a name carrying a version); the greatest matching file name wins.
pub(crate) fn binary_in(tool: &ToolSpec, dir: &Path) -> Option<PathBuf> {
    let wanted = dir.join(tool.path_in_package);
    let Some(prefix) = tool.path_in_package.strip_suffix('*') else {
        return wanted.is_file().then_some(wanted);
    };
    let folder = wanted.parent()?;
    let stem = prefix.rsplit('/').next().unwrap_or_default();
    std::fs::read_dir(folder)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(stem))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .max()
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
    let binary = binary_in(tool, unpacked)
        .ok_or_else(|| format!("{from} has no {}", tool.path_in_package))?;
    let version = Version::of_binary(&binary, tool.version_flag)?;
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
    let relative = binary.strip_prefix(unpacked).map_err(|e| e.to_string())?;
    Ok((dest.join(relative), version))
}

/// Where provisioning stands once this process holds the tool's lock.
pub(crate) enum Provisioning {
    /// Another process provisioned it while we waited.
    AlreadyDone((PathBuf, Version)),
    /// Ours to provision; the lock is held until this file is dropped.
    Locked(std::fs::File),
}

/// Takes `tool`'s provisioning lock in the cache (one provisioner at a time, across processes),
/// then looks again: someone else may have finished meanwhile.
pub(crate) fn lock_for_provisioning(tool: &ToolSpec) -> Result<Provisioning, String> {
    let root = tool_root(tool);
    ensure_dir(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let lock = std::fs::File::create(root.join(".provision.lock"))
        .map_err(|e| format!("cannot create the provisioning lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("cannot lock the tool cache: {e}"))?;
    Ok(
        match newest_cached(tool).filter(|(_, v)| *v >= tool.min_version) {
            Some(found) => Provisioning::AlreadyDone(found),
            None => Provisioning::Locked(lock),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{FFMPEG, ROTEL};

    fn touch(dir: &Path, relative: &str) {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x").unwrap();
    }

    #[test]
    fn a_fixed_path_is_taken_as_is() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(binary_in(&ROTEL, dir.path()), None);
        touch(dir.path(), "rotel/rotel-agent");
        assert_eq!(
            binary_in(&ROTEL, dir.path()),
            Some(dir.path().join("rotel/rotel-agent"))
        );
    }

    #[test]
    fn a_wildcard_matches_the_versioned_name_and_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "imageio_ffmpeg/binaries/README.md");
        touch(dir.path(), "imageio_ffmpeg/binaries/__init__.py");
        assert_eq!(binary_in(&FFMPEG, dir.path()), None);
        touch(
            dir.path(),
            "imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v9.0.2",
        );
        assert_eq!(
            binary_in(&FFMPEG, dir.path()),
            Some(
                dir.path()
                    .join("imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v9.0.2")
            )
        );
    }
}

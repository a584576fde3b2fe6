//! Provisioning a standalone binary shipped inside a PyPI wheel (rotel's `rotel/rotel-agent`,
//! imageio-ffmpeg's static `imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v9.0.2`):
//! `pip download --no-deps` into a scratch folder of perfgate's cache, unpack the wheel (a zip)
//! with Python's own `zipfile`, make the binary executable, check its version, then move the
//! tree into `<cache>/tools/<tool>/<version>/`. Nothing is installed into any Python environment.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::cache::{Provisioning, binary_in, install_unpacked, lock_for_provisioning, tool_root};
use super::{ToolSpec, Version};

/// Downloads and unpacks `tool`'s wheel; returns the binary and its version.
pub(crate) fn provision(tool: &ToolSpec) -> Result<(PathBuf, Version), String> {
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| super::apt::which(p).is_some())
        .ok_or("no `python3` on PATH (pip provisioning needs Python with pip)")?;
    let root = tool_root(tool);
    let _lock = match lock_for_provisioning(tool)? {
        Provisioning::AlreadyDone(found) => return Ok(found),
        Provisioning::Locked(lock) => lock,
    };
    let work = tempfile::Builder::new()
        .prefix(".pip-")
        .tempdir_in(&root)
        .map_err(|e| e.to_string())?;
    let w = work.path();
    tracing::info!(package = tool.debian_package, "provisioning from PyPI");
    let download = w.join("download");
    run(
        python,
        &[
            "-m".as_ref(),
            "pip".as_ref(),
            "download".as_ref(),
            "--quiet".as_ref(),
            "--no-deps".as_ref(),
            "--disable-pip-version-check".as_ref(),
            "-d".as_ref(),
            download.as_os_str(),
            tool.debian_package.as_ref(),
        ],
        "pip download",
    )?;
    let wheel = newest_wheel(&download)?;
    let unpacked = w.join("unpacked");
    run(
        python,
        &[
            "-m".as_ref(),
            "zipfile".as_ref(),
            "-e".as_ref(),
            wheel.as_os_str(),
            unpacked.as_os_str(),
        ],
        "unpacking the wheel",
    )?;
    let binary = binary_in(tool, &unpacked)
        .ok_or_else(|| format!("the wheel has no {}", tool.path_in_package))?;
    let mut perms = std::fs::metadata(&binary)
        .map_err(|e| e.to_string())?
        .permissions();
    perms.set_mode(perms.mode() | 0o755);
    std::fs::set_permissions(&binary, perms).map_err(|e| e.to_string())?;
    install_unpacked(tool, &unpacked, "the wheel")
}

fn run(program: &str, args: &[&std::ffi::OsStr], what: &str) -> Result<(), String> {
    super::exec::run_quiet(duct::cmd(program, args), what)
}

fn newest_wheel(dir: &Path) -> Result<PathBuf, String> {
    std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .max()
        .ok_or_else(|| "pip download produced no wheel".to_owned())
}

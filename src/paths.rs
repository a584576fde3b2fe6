//! Where perfgate keeps things: the tool cache and the report folders, each overridable by an
//! environment variable.

use std::path::PathBuf;

fn env_path(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The tool cache: `$PERFGATE_CACHE_DIR`, else `$XDG_CACHE_HOME/perfgate`, else
/// `~/.cache/perfgate`, else `target/perfgate-cache`.
pub fn cache_dir() -> PathBuf {
    env_path("PERFGATE_CACHE_DIR")
        .or_else(|| env_path("XDG_CACHE_HOME").map(|d| d.join("perfgate")))
        .or_else(|| env_path("HOME").map(|d| d.join(".cache").join("perfgate")))
        .unwrap_or_else(|| PathBuf::from("target").join("perfgate-cache"))
}

/// Report folders: `$PERFGATE_OUT`, else `$CARGO_TARGET_DIR/perfgate`, else `target/perfgate`.
pub fn out_dir() -> PathBuf {
    env_path("PERFGATE_OUT")
        .or_else(|| env_path("CARGO_TARGET_DIR").map(|d| d.join("perfgate")))
        .unwrap_or_else(|| PathBuf::from("target").join("perfgate"))
}

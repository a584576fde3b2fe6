//! Provisioning from Debian's archive without touching the host's apt state: a private sources
//! list, lists and cache directories, `apt-get download`, then `dpkg-deb -x` into perfgate's cache.
//!
//! The archive's address is taken from the host's own apt sources, so perfgate uses whatever
//! mirror the machine is configured for. The newer stable suite is tried first (its Prometheus
//! is newer and its static binary runs on older hosts), then the host's own suite.

use std::path::{Path, PathBuf};

use super::cache::{Provisioning, ensure_dir, install_unpacked, lock_for_provisioning, tool_root};
use super::exec::run_quiet;
use super::{ToolSpec, Version};

/// Suites tried before the host's own; newest first.
const PREFERRED_SUITES: &[&str] = &["trixie"];
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// A Debian archive the host already trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Archive {
    pub uri: String,
    pub suite: String,
}

/// Downloads and unpacks `tool`'s package; returns the binary and its version.
pub(crate) fn provision(tool: &ToolSpec) -> Result<(PathBuf, Version), String> {
    for program in ["apt-get", "dpkg-deb"] {
        if which(program).is_none() {
            return Err(format!(
                "`{program}` is not available (provisioning works on Debian-family hosts)"
            ));
        }
    }
    let host = host_archive()?;
    let root = tool_root(tool);
    let _lock = match lock_for_provisioning(tool)? {
        Provisioning::AlreadyDone(found) => return Ok(found),
        Provisioning::Locked(lock) => lock,
    };
    let mut suites: Vec<String> = PREFERRED_SUITES.iter().map(|s| s.to_string()).collect();
    if !suites.contains(&host.suite) {
        suites.push(host.suite.clone());
    }
    let mut failures = Vec::new();
    for suite in suites {
        let archive = Archive {
            uri: host.uri.clone(),
            suite,
        };
        match provision_from(tool, &archive, &root) {
            Ok(found) => return Ok(found),
            Err(e) => failures.push(format!("{} {}: {e}", archive.suite, tool.debian_package)),
        }
    }
    Err(failures.join("; "))
}

fn provision_from(
    tool: &ToolSpec,
    archive: &Archive,
    root: &Path,
) -> Result<(PathBuf, Version), String> {
    let work = tempfile::Builder::new()
        .prefix(".apt-")
        .tempdir_in(root)
        .map_err(|e| e.to_string())?;
    let w = work.path();
    for dir in ["lists/partial", "cache/archives/partial", "unpacked"] {
        ensure_dir(&w.join(dir)).map_err(|e| e.to_string())?;
    }
    let sources = w.join("sources.list");
    let signed_by = if Path::new(KEYRING).exists() {
        format!("[signed-by={KEYRING}] ")
    } else {
        String::new()
    };
    std::fs::write(
        &sources,
        format!("deb {signed_by}{} {} main\n", archive.uri, archive.suite),
    )
    .map_err(|e| e.to_string())?;
    let opts = [
        format!("Dir::Etc::sourcelist={}", sources.display()),
        "Dir::Etc::sourceparts=-".into(),
        format!("Dir::State::Lists={}", w.join("lists").display()),
        format!("Dir::Cache={}", w.join("cache").display()),
        "APT::Sandbox::User=root".into(),
        "Debug::NoLocking=1".into(),
        "Acquire::http::Timeout=30".into(),
        "Acquire::Retries=2".into(),
    ];
    let mut args: Vec<String> = vec!["-q".into()];
    for o in &opts {
        args.push("-o".into());
        args.push(o.clone());
    }
    let apt = |verb: &str| -> Result<(), String> {
        let mut a = args.clone();
        a.push(verb.into());
        if verb == "download" {
            a.push(tool.debian_package.into());
        }
        run_quiet(duct::cmd("apt-get", &a).dir(w), &format!("apt-get {verb}"))
    };
    tracing::info!(suite = %archive.suite, package = tool.debian_package, "provisioning");
    apt("update")?;
    apt("download")?;
    let deb = std::fs::read_dir(w)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("apt-get download produced no .deb")?;
    let unpacked = w.join("unpacked");
    duct::cmd!("dpkg-deb", "-x", &deb, &unpacked)
        .stdout_null()
        .run()
        .map_err(|e| format!("dpkg-deb -x: {e}"))?;
    install_unpacked(tool, &unpacked, "the package")
}

/// The host's main Debian archive: its URI and release suite, from deb822 `.sources` files or
/// one-line `sources.list` entries.
fn host_archive() -> Result<Archive, String> {
    let mut texts = Vec::new();
    if let Ok(t) = std::fs::read_to_string("/etc/apt/sources.list") {
        texts.push(t);
    }
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for entry in dir.filter_map(Result::ok) {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "sources" || e == "list")
                && let Ok(t) = std::fs::read_to_string(&p)
            {
                texts.push(t);
            }
        }
    }
    texts
        .iter()
        .find_map(|t| parse_archive(t))
        .ok_or_else(|| "no Debian archive found in the host's apt sources".into())
}

/// Finds a `…/debian` archive (not `debian-security`) and its base suite in either format.
pub(crate) fn parse_archive(text: &str) -> Option<Archive> {
    let is_main = |uri: &str| uri.trim_end_matches('/').ends_with("/debian");
    let base_suite = |s: &str| (!s.contains('-') && !s.contains('/')).then(|| s.to_owned());
    // deb822 stanzas
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|r| r.strip_prefix(':'))
                    .map(str::trim)
            })
        };
        if let (Some(uris), Some(suites)) = (field("URIs"), field("Suites"))
            && let Some(uri) = uris.split_whitespace().find(|u| is_main(u))
            && let Some(suite) = suites.split_whitespace().find_map(base_suite)
        {
            return Some(Archive {
                uri: uri.into(),
                suite,
            });
        }
    }
    // one-line format: deb [opts] URI SUITE COMPONENTS...
    for line in text.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("deb ") else {
            continue;
        };
        let rest = match rest.trim_start().strip_prefix('[') {
            Some(r) => r.split_once(']').map_or("", |(_, after)| after),
            None => rest,
        };
        let mut words = rest.split_whitespace();
        if let (Some(uri), Some(suite)) = (words.next(), words.next())
            && is_main(uri)
            && let Some(suite) = base_suite(suite)
        {
            return Some(Archive {
                uri: uri.into(),
                suite,
            });
        }
    }
    None
}

pub(crate) fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;

    #[test]
    fn reads_deb822_sources() {
        let text = indoc! {"
            Types: deb
            URIs: http://mirror.invalid/debian
            Suites: bookworm bookworm-updates
            Components: main

            Types: deb
            URIs: http://mirror.invalid/debian-security
            Suites: bookworm-security
            Components: main
        "};
        assert_eq!(
            parse_archive(text),
            Some(Archive {
                uri: "http://mirror.invalid/debian".into(),
                suite: "bookworm".into()
            })
        );
    }

    #[test]
    fn reads_one_line_sources() {
        let text =
            "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.invalid/debian/ trixie main\n";
        assert_eq!(
            parse_archive(text),
            Some(Archive {
                uri: "http://m.invalid/debian/".into(),
                suite: "trixie".into()
            })
        );
    }

    #[test]
    fn ignores_security_only_sources() {
        let text = "deb http://m.invalid/debian-security bookworm-security main\n";
        assert_eq!(parse_archive(text), None);
    }
}

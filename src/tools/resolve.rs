//! Finding a tool: (1) explicit path from the spec, (2) its env var, (3) PATH, (4) the cache,
//! (5) provisioning into the cache. A too-old binary is never used silently: it is skipped and
//! named in the error if nothing better turns up.

use std::path::{Path, PathBuf};

use super::{Provisioner, ToolSpec, Version, apt, cache, pip};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolSource {
    Spec,
    EnvVar,
    Path,
    Cache,
    Provisioned,
    /// Not on this machine: an image the docker backend runs.
    Image,
}

impl std::fmt::Display for ToolSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ToolSource::Spec => "path from the spec",
            ToolSource::EnvVar => "env var",
            ToolSource::Path => "PATH",
            ToolSource::Cache => "perfgate cache",
            ToolSource::Provisioned => "provisioned now",
            ToolSource::Image => "docker image",
        })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedTool {
    pub name: &'static str,
    pub path: PathBuf,
    #[serde(serialize_with = "display")]
    pub version: Version,
    pub source: ToolSource,
    /// The image carrying it, when it is not on this machine (`source` is `Image`; `path` is
    /// then the image's reference and means nothing on the host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl ResolvedTool {
    /// A tool found only as an image, run by the docker backend.
    pub fn in_image(tool: &ToolSpec, image: String, version: Version) -> Self {
        Self {
            name: tool.name,
            path: PathBuf::from(&image),
            version,
            source: ToolSource::Image,
            image: Some(image),
        }
    }

    /// Where it is, for people: its path, or `image REF`.
    pub fn location(&self) -> String {
        match &self.image {
            Some(image) => format!("image {image}"),
            None => self.path.display().to_string(),
        }
    }
}

fn display<S: serde::Serializer>(v: &Version, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{tool} >= {min} (needed for {reason}) is not available:\n{tried}\n  hint: {}",
    hint(.provisioner, .tool, .min, .env_var, .package, .host_needs)
)]
pub struct ToolError {
    pub tool: &'static str,
    pub min: Version,
    pub reason: &'static str,
    pub env_var: &'static str,
    pub package: &'static str,
    /// Where perfgate would have fetched it (decides the hint).
    pub provisioner: Provisioner,
    /// What a provisioned binary needs from the host ("" = nothing).
    pub host_needs: &'static str,
    /// One line per place looked at, with what was wrong there.
    pub tried: String,
}

/// Resolves `tool`, provisioning it if nothing suitable is found. The answer is kept while what
/// decided the search (the explicit path, its variable, PATH, the cache folder, offline or not)
/// is unchanged and a found binary is still there: a run resolves each tool when choosing its
/// backend and again when planning (~70 ms per `prometheus --version`; a failed provisioning
/// can take far longer, and is not tried twice).
pub fn resolve(tool: &ToolSpec, explicit: Option<&Path>) -> Result<ResolvedTool, ToolError> {
    type Key = (&'static str, [Option<std::ffi::OsString>; 5]);
    type Answer = Result<ResolvedTool, ToolError>;
    static ANSWERS: std::sync::Mutex<Vec<(Key, Answer)>> = std::sync::Mutex::new(Vec::new());
    let inputs = [
        explicit.map(|p| p.as_os_str().to_owned()),
        std::env::var_os(tool.env_var),
        std::env::var_os("PATH"),
        Some(cache::tool_root(tool).into_os_string()),
        std::env::var_os("PERFGATE_OFFLINE"),
    ];
    let key: Key = (tool.name, inputs);
    // Held while searching: two threads never provision the same tool at once.
    let mut answers = ANSWERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let still_valid = |a: &Answer| a.as_ref().map_or(true, |t| t.path.exists());
    if let Some((_, known)) = answers.iter().find(|(k, a)| *k == key && still_valid(a)) {
        return known.clone();
    }
    let answer = search(tool, explicit);
    answers.retain(|(k, _)| *k != key);
    answers.push((key, answer.clone()));
    answer
}

fn search(tool: &ToolSpec, explicit: Option<&Path>) -> Result<ResolvedTool, ToolError> {
    let mut tried = Vec::new();
    let found = |path: PathBuf, version, source| ResolvedTool {
        name: tool.name,
        path,
        version,
        source,
        image: None,
    };
    let candidates = [
        (
            explicit.map(Path::to_path_buf),
            ToolSource::Spec,
            "spec `binary:`".to_string(),
        ),
        (
            std::env::var_os(tool.env_var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            ToolSource::EnvVar,
            format!("${}", tool.env_var),
        ),
        (apt::which(tool.name), ToolSource::Path, "PATH".to_string()),
    ];
    for (path, source, label) in candidates {
        let Some(path) = path else {
            tried.push(format!("  - {label}: not set / not found"));
            continue;
        };
        match Version::of_binary(&path, tool.version_flag) {
            Ok(v) if v >= tool.min_version => return Ok(found(path, v, source)),
            Ok(v) => tried.push(format!(
                "  - {label}: {} is {v}, older than {}",
                path.display(),
                tool.min_version
            )),
            Err(e) => tried.push(format!("  - {label}: {e}")),
        }
        if source == ToolSource::Spec || source == ToolSource::EnvVar {
            // An explicit choice that does not work is an error, not a reason to look elsewhere.
            return Err(error(tool, tried));
        }
    }
    match cache::newest_cached(tool) {
        Some((path, v)) if v >= tool.min_version => return Ok(found(path, v, ToolSource::Cache)),
        Some((path, v)) => tried.push(format!("  - cache: {} is {v}, too old", path.display())),
        None => tried.push(format!(
            "  - cache: nothing in {}",
            cache::tool_root(tool).display()
        )),
    }
    let provisioned = match tool.provisioner {
        Provisioner::Apt | Provisioner::Pip if super::offline() => {
            Err("skipped: $PERFGATE_OFFLINE is set".to_owned())
        }
        Provisioner::Apt => apt::provision(tool),
        Provisioner::Pip => pip::provision(tool),
        Provisioner::None => Err("perfgate does not provision it".to_owned()),
    };
    match provisioned {
        Ok((path, v)) => Ok(found(path, v, ToolSource::Provisioned)),
        Err(e) => {
            tried.push(format!("  - provisioning: {e}"));
            Err(error(tool, tried))
        }
    }
}

fn error(tool: &ToolSpec, tried: Vec<String>) -> ToolError {
    ToolError {
        tool: tool.name,
        min: tool.min_version,
        reason: tool.min_reason,
        env_var: tool.env_var,
        package: tool.debian_package,
        provisioner: tool.provisioner,
        host_needs: tool.host_needs,
        tried: tried.join("\n"),
    }
}

fn hint(
    provisioner: &Provisioner,
    name: &str,
    min: &Version,
    var: &str,
    package: &str,
    host_needs: &str,
) -> String {
    let common = format!(
        "install {name} {min} or newer and put it on PATH, set {var}=/path/to/{name}, or set `binary:` on the service"
    );
    match provisioner {
        Provisioner::Apt => format!(
            "{common}; on Debian 12 or newer `apt-get install {package}` works, and perfgate provisions it by itself when apt-get can reach the host's Debian archive"
        ),
        Provisioner::Pip if host_needs.is_empty() => format!(
            "{common}; perfgate provisions it by itself with `pip download --no-deps {package}` when pip can reach PyPI"
        ),
        Provisioner::Pip => format!(
            "{common}; perfgate provisions it by itself with `pip download --no-deps {package}` when pip can reach PyPI ({host_needs})"
        ),
        Provisioner::None => common,
    }
}

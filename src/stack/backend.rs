//! Which backend runs a spec, and why: `$PERFGATE_BACKEND` over the spec's `backend:`. `auto`
//! runs local processes when every tool the spec needs is on this machine or can be provisioned,
//! and containers when one of them can be had only as an image (`docker::find_tool_image`).
//! The planner resolves its tools here too, so that under the docker backend a tool missing
//! locally comes from the same image `auto` found.

use std::path::PathBuf;

use super::docker_backend::require_daemon;
use super::error::StackError;
use super::otel::collector_tool;
use super::tools::{self, ResolvedTool, ToolError, ToolSpec};
use crate::docker;
use crate::spec::{BackendChoice, PhaseKind, PrometheusService, ServiceKind, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Process,
    Docker,
}

/// The backend a run uses, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendDecision {
    pub backend: Backend,
    /// "" when the spec asked for it; otherwise `$PERFGATE_BACKEND` or auto's reason.
    pub reason: String,
}

impl std::fmt::Display for BackendDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.backend {
            Backend::Process => "process",
            Backend::Docker => "docker",
        };
        match self.reason.as_str() {
            "" => write!(f, "{name} backend"),
            why => write!(f, "{name} backend ({why})"),
        }
    }
}

impl BackendDecision {
    fn new(backend: Backend, reason: impl Into<String>) -> Self {
        Self {
            backend,
            reason: reason.into(),
        }
    }
}

/// Decides the backend of `spec`. Asking for docker checks that a daemon answers; `auto`
/// resolves every tool the spec needs (provisioning what it can) before it decides.
pub fn choose_backend(spec: &Spec) -> Result<BackendDecision, StackError> {
    let from_env = std::env::var("PERFGATE_BACKEND")
        .ok()
        .filter(|v| !v.is_empty());
    let (choice, why) = match from_env.as_deref() {
        None => (spec.stack.backend, ""),
        Some("process") => (BackendChoice::Process, "$PERFGATE_BACKEND"),
        Some("docker") => (BackendChoice::Docker, "$PERFGATE_BACKEND"),
        Some("auto") => (BackendChoice::Auto, ""),
        Some(other) => {
            return Err(StackError::NoBackend(format!(
                "PERFGATE_BACKEND={other}: expected `process`, `docker` or `auto`"
            )));
        }
    };
    match choice {
        BackendChoice::Process => Ok(BackendDecision::new(Backend::Process, why)),
        BackendChoice::Docker => {
            require_daemon()?;
            Ok(BackendDecision::new(Backend::Docker, why))
        }
        BackendChoice::Auto => auto(spec),
    }
}

/// A tool a run resolves, with the binary and the image the spec names for it.
#[derive(Debug, Clone)]
pub(crate) struct ToolNeed {
    pub(crate) tool: &'static ToolSpec,
    pub(crate) binary: Option<PathBuf>,
    pub(crate) image: Option<String>,
}

impl ToolNeed {
    pub(crate) fn prometheus(p: &PrometheusService) -> Self {
        Self {
            tool: &tools::PROMETHEUS,
            binary: p.binary.clone(),
            image: p.image.clone(),
        }
    }

    fn ffmpeg(binary: Option<PathBuf>) -> Self {
        Self {
            tool: &tools::FFMPEG,
            binary,
            image: None,
        }
    }

    fn resolve_here(&self) -> Result<ResolvedTool, ToolError> {
        tools::resolve(self.tool, self.binary.as_deref())
    }

    /// An image was named for it (the spec's `image:` or `$PERFGATE_IMAGE_<TOOL>`).
    fn image_named(&self) -> bool {
        self.image.is_some()
            || std::env::var_os(docker::images::override_var(self.tool.image_name))
                .is_some_and(|v| !v.is_empty())
    }
}

/// Processes when every tool can be had here; docker when the missing ones have images.
fn auto(spec: &Spec) -> Result<BackendDecision, StackError> {
    let mut from_images = Vec::new();
    for need in needed_tools(spec) {
        let Err(missing) = need.resolve_here() else {
            continue;
        };
        if let Some((name, _)) = spec
            .stack
            .services
            .iter()
            .find(|(_, s)| matches!(s.kind, ServiceKind::Process(_)))
        {
            return Err(cannot_stand_in(
                &missing,
                &format!("service `{name}` is a program of this machine (`kind: process`)"),
            ));
        }
        let found = image_instead(&need, missing)?;
        from_images.push(format!("{} from {}", found.name, found.location()));
    }
    Ok(match from_images.as_slice() {
        [] => BackendDecision::new(Backend::Process, "auto: every tool is local or provisioned"),
        _ => BackendDecision::new(
            Backend::Docker,
            format!("auto: not on this machine: {}", from_images.join(", ")),
        ),
    })
}

/// Resolves a tool for the planner. Processes: on this machine. Docker: the image named for it,
/// else the local binary (built into an image later), else an image found for it.
pub(crate) fn resolve_tool(need: &ToolNeed, backend: Backend) -> Result<ResolvedTool, StackError> {
    match backend {
        Backend::Process => Ok(need.resolve_here()?),
        Backend::Docker if need.image_named() && !need.tool.image_name.is_empty() => {
            docker::find_tool_image(need.tool, need.image.as_deref()).map_err(|tried| {
                StackError::NoBackend(format!(
                    "the image named for {} cannot be used:\n{}",
                    need.tool.name,
                    tried.join("\n")
                ))
            })
        }
        Backend::Docker => match need.resolve_here() {
            Ok(found) => Ok(found),
            Err(missing) => image_instead(need, missing),
        },
    }
}

/// The image of a tool this machine does not have, or why the docker backend cannot stand in.
fn image_instead(need: &ToolNeed, missing: ToolError) -> Result<ResolvedTool, StackError> {
    let tool = need.tool;
    let named =
        need.binary.is_some() || std::env::var_os(tool.env_var).is_some_and(|v| !v.is_empty());
    if named {
        // A binary named on purpose that does not work is a mistake to show, not to work around.
        return Err(missing.into());
    }
    if tool.image_name.is_empty() {
        return Err(cannot_stand_in(
            &missing,
            &format!(
                "{} runs on this machine (the origin's encoder, the swarm's clients), never in a container of its own",
                tool.name
            ),
        ));
    }
    if let Err(e) = docker::daemon_available() {
        return Err(cannot_stand_in(&missing, &e.to_string()));
    }
    docker::find_tool_image(tool, need.image.as_deref()).map_err(|tried| {
        cannot_stand_in(
            &missing,
            &format!(
                "no image of {} (hint: `perfgate images build` on a machine that has it, then `docker save` / `docker load`):\n{}",
                tool.name,
                tried.join("\n")
            ),
        )
    })
}

fn cannot_stand_in(missing: &ToolError, why: &str) -> StackError {
    StackError::NoBackend(format!(
        "{missing}\n  and the docker backend cannot stand in: {why}"
    ))
}

/// The tools a run of `spec` resolves.
fn needed_tools(spec: &Spec) -> Vec<ToolNeed> {
    let mut needed = Vec::new();
    for service in spec.stack.services.values() {
        match &service.kind {
            ServiceKind::Prometheus(p) => needed.push(ToolNeed::prometheus(p)),
            ServiceKind::OtelCollector(c) => needed.push(collector_tool(c)),
            ServiceKind::FfmpegOrigin(o) => needed.push(ToolNeed::ffmpeg(o.binary.clone())),
            ServiceKind::DemoApi(_) | ServiceKind::OtlpAdapter(_) | ServiceKind::Process(_) => {}
        }
    }
    if spec
        .phases
        .iter()
        .any(|p| matches!(p.kind, PhaseKind::Swarm(_)))
    {
        needed.push(ToolNeed::ffmpeg(None));
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_reads_as_the_backend_and_why() {
        let auto = BackendDecision::new(Backend::Docker, "auto: not on this machine: x");
        assert_eq!(
            auto.to_string(),
            "docker backend (auto: not on this machine: x)"
        );
        assert_eq!(
            BackendDecision::new(Backend::Process, "").to_string(),
            "process backend"
        );
    }

    #[test]
    fn the_tools_a_spec_needs_include_its_phases() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let names = |spec: &str| -> Vec<&str> {
            let spec = crate::spec::load(&root.join(spec)).expect("a valid spec");
            needed_tools(&spec).iter().map(|n| n.tool.name).collect()
        };
        assert_eq!(names("specs/quickstart.yaml"), ["prometheus"]);
        // The origin's encoder and the swarm's clients.
        let mut swarm = names("specs/hls-swarm.yaml");
        swarm.sort_unstable();
        assert_eq!(swarm, ["ffmpeg", "ffmpeg", "prometheus"]);
    }
}

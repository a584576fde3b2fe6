//! The tools a spec needs (Prometheus, the collector each `otel-collector` runs, FFmpeg for
//! the origin and the swarm) and how each resolves for a backend: processes take it from this
//! machine; docker takes the image named for it, else the local binary (built into an image
//! later), else an image found for it. `choose` and the planner share this, so under the docker
//! backend a tool missing locally comes from the same image `auto` found.

use std::path::{Path, PathBuf};

use super::backend::Backend;
use super::error::StackError;
use super::images;
use crate::spec::{
    CollectorImpl, OtelCollectorService, PhaseKind, PrometheusService, ServiceKind, Spec,
};
use crate::tools::{self, ResolvedTool, ToolError, ToolSpec};

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

    pub(crate) fn resolve_here(&self) -> Result<ResolvedTool, ToolError> {
        tools::resolve(self.tool, self.binary.as_deref())
    }

    /// An image was named for it (the spec's `image:` or `$PERFGATE_IMAGE_<TOOL>`).
    fn image_named(&self) -> bool {
        self.image.is_some()
            || std::env::var_os(images::override_var(self.tool.image_name))
                .is_some_and(|v| !v.is_empty())
    }
}

/// Resolves a tool for the planner. Processes: on this machine. Docker: the image named for it,
/// else the local binary (built into an image later), else an image found for it.
pub(crate) fn resolve_tool(need: &ToolNeed, backend: Backend) -> Result<ResolvedTool, StackError> {
    match backend {
        Backend::Process => Ok(need.resolve_here()?),
        Backend::Docker if need.image_named() && !need.tool.image_name.is_empty() => {
            images::find_tool_image(need.tool, need.image.as_deref()).map_err(|tried| {
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
pub(crate) fn image_instead(
    need: &ToolNeed,
    missing: ToolError,
) -> Result<ResolvedTool, StackError> {
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
    if let Err(e) = images::daemon_available() {
        return Err(cannot_stand_in(&missing, &e.to_string()));
    }
    images::find_tool_image(tool, need.image.as_deref()).map_err(|tried| {
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

pub(crate) fn cannot_stand_in(missing: &ToolError, why: &str) -> StackError {
    StackError::NoBackend(format!(
        "{missing}\n  and the docker backend cannot stand in: {why}"
    ))
}

/// The tools a run of `spec` resolves.
pub(crate) fn needed_tools(spec: &Spec) -> Vec<ToolNeed> {
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

/// The collector a service runs, and the binary and image named for it: `otelcol-contrib`/
/// `otelcol` when asked for, found, or named by an image (unless `implementation: rotel`);
/// otherwise rotel (provisioned if needed).
pub(crate) fn collector_tool(c: &OtelCollectorService) -> ToolNeed {
    let binary = c.binary.as_deref();
    let named_rotel = binary.is_some_and(|b| b.file_name().is_some_and(|f| f == "rotel-agent"));
    let otelcol_found = binary.is_some() && !named_rotel
        || c.image.is_some()
        || std::env::var_os(tools::OTELCOL.env_var).is_some_and(|v| !v.is_empty())
        || ["otelcol-contrib", "otelcol"]
            .iter()
            .any(|p| tools::which(p).is_some());
    let (tool, binary) = match c.implementation {
        CollectorImpl::Otelcol => (&tools::OTELCOL, otelcol_binary(binary)),
        CollectorImpl::Auto if otelcol_found => (&tools::OTELCOL, otelcol_binary(binary)),
        CollectorImpl::Rotel | CollectorImpl::Auto => (
            &tools::ROTEL,
            binary
                .filter(|_| named_rotel || c.implementation == CollectorImpl::Rotel)
                .map(Path::to_path_buf),
        ),
    };
    ToolNeed {
        tool,
        binary,
        image: c.image.clone(),
    }
}

/// The spec's binary, else plain `otelcol` when that is on PATH and `otelcol-contrib` is not.
fn otelcol_binary(binary: Option<&Path>) -> Option<PathBuf> {
    match (
        binary,
        tools::which("otelcol-contrib"),
        tools::which("otelcol"),
    ) {
        (None, None, Some(plain)) => Some(plain),
        _ => binary.map(Path::to_path_buf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

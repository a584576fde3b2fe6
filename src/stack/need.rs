//! A tool a spec needs (which ones: each kind's planner says, `plan::needed_tools` gathers them)
//! and how it resolves for a backend: processes take it from this machine; docker takes the
//! image named for it, else the local binary (built into an image later), else an image found
//! for it. `choose` and the planner share this, so under the docker backend a tool missing
//! locally comes from the same image `auto` found.

use std::path::PathBuf;

use super::backend::Backend;
use super::error::StackError;
use super::images;
use crate::tools::{self, ResolvedTool, ToolError, ToolSpec};

/// A tool a run resolves, with the binary and the image the spec names for it.
#[derive(Debug, Clone)]
pub(crate) struct ToolNeed {
    pub(crate) tool: &'static ToolSpec,
    pub(crate) binary: Option<PathBuf>,
    pub(crate) image: Option<String>,
}

impl ToolNeed {
    /// FFmpeg: the origin's encoder, the swarm's clients; never in an image of its own.
    pub(crate) fn ffmpeg(binary: Option<PathBuf>) -> Self {
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

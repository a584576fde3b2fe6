//! Which images the docker backend runs: perfgate itself (every built-in service), and one image
//! per external tool, each built from the binary the process backend would run.

use std::path::Path;

use super::build::ImageRecipe;
use crate::tools::{self, ResolvedTool, ToolSpec};

/// Where every image keeps its one binary.
pub const BINARY_IN_IMAGE: &str = "/usr/local/bin/entrypoint";

/// The host's CA bundle folder: some tools (rotel) refuse to start without root certificates,
/// even when they only talk plain HTTP.
const CA_CERTIFICATES: &str = "/etc/ssl/certs";

/// The image of a resolved external tool.
pub fn tool_recipe(tool: &ResolvedTool) -> ImageRecipe {
    ImageRecipe {
        name: image_name(tool.name),
        binary: tool.path.clone(),
        path_in_image: BINARY_IN_IMAGE,
        version: tool.version.to_string(),
        extra_dirs: [CA_CERTIFICATES]
            .iter()
            .map(std::path::PathBuf::from)
            .filter(|d| d.is_dir())
            .collect(),
    }
}

/// perfgate's own image: the executable hosting built-in services.
pub fn perfgate_recipe(host: Option<&Path>) -> std::io::Result<ImageRecipe> {
    let binary = match host {
        Some(h) => h.to_owned(),
        None => crate::stack::builtin::host_executable()?,
    };
    Ok(ImageRecipe {
        name: "perfgate",
        binary,
        path_in_image: BINARY_IN_IMAGE,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        extra_dirs: Vec::new(),
    })
}

/// perfgate's image plus a tool a built-in runs itself (the origin's FFmpeg), kept at its path
/// on this machine, where the built-in's config names it.
pub fn perfgate_with_tool_recipe(
    host: Option<&Path>,
    tool: &ResolvedTool,
) -> std::io::Result<ImageRecipe> {
    let mut recipe = perfgate_recipe(host)?;
    recipe.name = match tool.name {
        "ffmpeg" => "perfgate-ffmpeg",
        _ => "perfgate-tool",
    };
    recipe
        .extra_dirs
        .extend(tool.path.parent().map(Path::to_path_buf));
    Ok(recipe)
}

/// Image names are the tool names without distribution suffixes (`rotel-agent` → `rotel`).
fn image_name(tool: &str) -> &'static str {
    tools::by_name(tool)
        .map(|t| t.image_name)
        .filter(|name| !name.is_empty())
        .unwrap_or("tool")
}

/// The tools `perfgate images build` turns into images (resolved, provisioned if needed).
pub const IMAGE_TOOLS: &[&ToolSpec] = &[&tools::PROMETHEUS, &tools::ROTEL];

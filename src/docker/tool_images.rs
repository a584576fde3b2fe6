//! A tool this machine cannot run, found as an image for the docker backend instead. Looked for,
//! in order: `$PERFGATE_IMAGE_<NAME>` (an explicit choice: when it does not work, nothing else is
//! tried), `perfgate/<name>:latest` (what `perfgate images build` tags, here or on a machine that
//! has the tool, then `docker save` / `docker load`), and the tool's official image, pulled when
//! the daemon does not hold it (unless `$PERFGATE_OFFLINE` is set). An image's version is checked
//! as a binary's is: by running it with the tool's version flag.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::engine::docker;
use super::images::{latest_tag, override_var};
use crate::stack::tools::{self, ResolvedTool, ToolSpec, Version};

/// The image of `tool`, or one line per place looked at and what was wrong there.
pub fn find_tool_image(tool: &ToolSpec) -> Result<ResolvedTool, Vec<String>> {
    let mut tried = Vec::new();
    if tool.image_name.is_empty() {
        tried.push(format!(
            "  - images: {} never runs in a container of its own",
            tool.name
        ));
        return Err(tried);
    }
    let var = override_var(tool.image_name);
    if let Some(image) = std::env::var(&var).ok().filter(|v| !v.is_empty()) {
        return checked(tool, &image).map_err(|e| vec![format!("  - ${var}: {e}")]);
    }
    tried.push(format!("  - ${var}: not set"));
    let ours = latest_tag(tool.image_name);
    match checked(tool, &ours) {
        Ok(found) => return Ok(found),
        Err(e) => tried.push(format!("  - {ours}: {e}")),
    }
    if tool.official_image.is_empty() {
        return Err(tried);
    }
    let official = format!("{}:latest", tool.official_image);
    if image_id(&official).is_none() {
        if tools::offline() {
            tried.push(format!(
                "  - {official}: not held by the daemon, and not pulled ($PERFGATE_OFFLINE is set)"
            ));
            return Err(tried);
        }
        if let Err(e) = docker(&["pull", "--quiet", &official]) {
            tried.push(format!("  - {official}: {e}"));
            return Err(tried);
        }
    }
    checked(tool, &official).map_err(|e| {
        tried.push(format!("  - {official}: {e}"));
        tried
    })
}

/// `image` exists and runs `tool` at a version perfgate can use.
fn checked(tool: &ToolSpec, image: &str) -> Result<ResolvedTool, String> {
    let id = image_id(image).ok_or("not held by the Docker daemon")?;
    let version = version_of(tool, image, &id)?;
    if version < tool.min_version {
        return Err(format!(
            "holds {} {version}, older than {}",
            tool.name, tool.min_version
        ));
    }
    Ok(ResolvedTool::in_image(tool, image.to_owned(), version))
}

fn image_id(image: &str) -> Option<String> {
    docker(&["image", "inspect", "--format", "{{.Id}}", image]).ok()
}

/// The version `image` prints, asked once per image id and process (a run looks when choosing
/// its backend and again when planning).
fn version_of(tool: &ToolSpec, image: &str, id: &str) -> Result<Version, String> {
    static SEEN: Mutex<Option<HashMap<String, Version>>> = Mutex::new(None);
    if let Some(v) = SEEN.lock().ok().and_then(|s| s.as_ref()?.get(id).copied()) {
        return Ok(v);
    }
    let args = ["run", "--rm", "--network", "none", image, tool.version_flag];
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run `docker`: {e}"))?;
    let version = Version::in_output(&format!("docker {}", args.join(" ")), &out)?;
    if let Ok(mut seen) = SEEN.lock() {
        seen.get_or_insert_with(HashMap::new)
            .insert(id.to_owned(), version);
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffmpeg_is_never_looked_for_as_an_image_of_its_own() {
        let tried = find_tool_image(&tools::FFMPEG).unwrap_err();
        assert!(tried[0].contains("never runs in a container"), "{tried:?}");
    }

    #[test]
    fn override_variables_match_the_ones_images_build_prints() {
        let var = |tool: &ToolSpec| override_var(tool.image_name);
        assert_eq!(var(&tools::PROMETHEUS), "PERFGATE_IMAGE_PROMETHEUS");
        assert_eq!(var(&tools::ROTEL), "PERFGATE_IMAGE_ROTEL");
    }
}

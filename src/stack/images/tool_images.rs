//! A tool's image for the docker backend, when the spec names one or this machine cannot run
//! the tool. Looked for, in order: the service's `image:` and `$PERFGATE_IMAGE_<NAME>` (explicit
//! choices: when the first of them that is set does not work, nothing else is tried),
//! `perfgate/<name>:latest` (what `perfgate images build` tags, here or on a machine that has
//! the tool, then `docker save` / `docker load`), and the tool's official image, pulled when the
//! daemon does not hold it (unless `$PERFGATE_OFFLINE` is set). An image's version is checked as
//! a binary's is: by running it with the tool's version flag.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::build::{latest_tag, override_var};
use super::engine::{docker, output_within};
use crate::reaper;
use crate::tools::{self, ResolvedTool, ToolSpec, Version};

/// How long an image gets to print its version.
const VERSION_LIMIT: Duration = Duration::from_secs(30);

/// The image of `tool` (`named`: the spec's `image:`), or one line per place looked at and what
/// was wrong there.
pub fn find_tool_image(tool: &ToolSpec, named: Option<&str>) -> Result<ResolvedTool, Vec<String>> {
    if tool.image_name.is_empty() {
        return Err(vec![format!(
            "  - images: {} never runs in a container of its own",
            tool.name
        )]);
    }
    if let Some(image) = named {
        return checked(tool, image, Pull::IfMissing)
            .map_err(|e| vec![format!("  - spec `image: {image}`: {e}")]);
    }
    let var = override_var(tool.image_name);
    if let Some(image) = std::env::var(&var).ok().filter(|v| !v.is_empty()) {
        return checked(tool, &image, Pull::IfMissing)
            .map_err(|e| vec![format!("  - ${var}: {e}")]);
    }
    let mut tried = vec![format!("  - ${var}: not set")];
    let ours = latest_tag(tool.image_name);
    match checked(tool, &ours, Pull::Never) {
        Ok(found) => return Ok(found),
        Err(e) => tried.push(format!("  - {ours}: {e}")),
    }
    if tool.official_image.is_empty() {
        return Err(tried);
    }
    let official = format!("{}:latest", tool.official_image);
    checked(tool, &official, Pull::IfMissing).map_err(|e| {
        tried.push(format!("  - {official}: {e}"));
        tried
    })
}

/// Whether an image the daemon does not hold is pulled.
#[derive(Clone, Copy, PartialEq)]
enum Pull {
    /// Images from a registry (named ones, official ones), unless `$PERFGATE_OFFLINE` is set.
    IfMissing,
    /// perfgate's own tags, which only `perfgate images build` or `docker load` make.
    Never,
}

/// `image` exists (pulled first if allowed) and runs `tool` at a version perfgate can use.
fn checked(tool: &ToolSpec, image: &str, pull: Pull) -> Result<ResolvedTool, String> {
    let id = match (image_id(image), pull) {
        (Some(id), _) => id,
        (None, Pull::Never) => return Err("not held by the Docker daemon".into()),
        (None, Pull::IfMissing) if tools::offline() => {
            return Err(
                "not held by the Docker daemon, and not pulled ($PERFGATE_OFFLINE is set)".into(),
            );
        }
        (None, Pull::IfMissing) => {
            docker(&["pull", "--quiet", image]).map_err(|e| e.to_string())?;
            image_id(image).ok_or("pulled, yet not held by the Docker daemon")?
        }
    };
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
    // Named, labelled and registered: a wrong image may serve instead of printing a version,
    // and killing the CLI at the limit (or perfgate on Ctrl-C) does not stop its container.
    static CHECKS: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "perfgate-version-{}-{}",
        std::process::id(),
        CHECKS.fetch_add(1, Ordering::Relaxed)
    );
    reaper::register_docker(Some(&name), None).map_err(|e| e.to_string())?;
    let labels: Vec<String> = reaper::docker_labels()
        .into_iter()
        .map(|(key, value)| format!("--label={key}={value}"))
        .collect();
    let mut args = vec!["run", "--rm", "--name", &name, "--network", "none"];
    args.extend(labels.iter().map(String::as_str));
    args.extend([image, tool.version_flag]);
    let out = output_within(&args, VERSION_LIMIT);
    if !matches!(out, Ok(Some(_))) {
        // Exited by itself, `--rm` has removed it; otherwise it may still run.
        let _ = docker(&["rm", "--force", &name]);
    }
    reaper::unregister_docker(Some(&name), None);
    let command = format!("docker {}", args.join(" "));
    let out = out
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("`{command}` printed no version within {VERSION_LIMIT:?}"))?;
    let version = Version::in_output(&command, &out)?;
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
        let tried = find_tool_image(&tools::FFMPEG, None).unwrap_err();
        assert!(tried[0].contains("never runs in a container"), "{tried:?}");
    }

    #[test]
    fn the_images_looked_for_are_the_ones_images_build_tags() {
        for tool in crate::stack::images::IMAGE_TOOLS {
            let resolved = ResolvedTool::in_image(tool, "x".into(), tool.min_version);
            let built = crate::stack::images::tool_recipe(&resolved);
            assert_eq!(built.name, tool.image_name);
            assert_eq!(built.override_var(), override_var(tool.image_name));
        }
    }
}

//! `perfgate compose`: a spec's stack planned exactly as for a run (into a scratch folder, nothing
//! started), then written as `<out>/<spec>.yaml` plus the generated configs in `<out>/<spec>/`,
//! with stable ports and paths (`stack::docker::compose`), so that the engineer who saw a gate fail can
//! bring the same stack up by hand with `docker compose -f <out>/<spec>.yaml up`.

use std::path::{Path, PathBuf};

use super::backend::Backend;
use super::docker::compose::{ContainerPlan, render, stabilise};
use super::docker::{compose_image, container_command};
use super::error::StackError;
use super::plan::plan;
use crate::spec::Spec;

/// Writes the compose file of `spec` and its configs under `out`; returns the compose file.
pub fn write_compose(spec: &Spec, out: &Path) -> Result<PathBuf, StackError> {
    let io = |source| StackError::Spawn {
        service: "compose".into(),
        source,
    };
    let scratch = tempfile::tempdir().map_err(io)?;
    let run_dir = std::path::absolute(scratch.path().join("run")).map_err(io)?;
    let plan = plan(spec, &[], &run_dir, Backend::Docker)?;
    let allocated: Vec<u16> = plan
        .services
        .iter()
        .flat_map(|p| p.ports.values().map(|a| a.port()))
        .collect();
    let run_dir_text = run_dir.to_string_lossy();
    let fix = |text: &str| stabilise(text, &allocated, &run_dir_text);
    let mut containers = Vec::new();
    for planned in &plan.services {
        let (args, env) = container_command(planned);
        let (image_name, image) = compose_image(planned)?;
        containers.push(ContainerPlan {
            name: planned.name.clone(),
            image_name,
            image,
            args: args.iter().map(|a| fix(a)).collect(),
            env: env.iter().map(|(k, v)| (k.clone(), fix(v))).collect(),
            ports: planned
                .ports
                .values()
                .map(|a| fix(&a.to_string()))
                .filter_map(|a| a.rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
                .collect(),
        });
    }
    let configs = out.join(&spec.name);
    let _ = std::fs::remove_dir_all(&configs);
    copy_configs(&run_dir, &configs, &fix).map_err(io)?;
    let file = out.join(format!("{}.yaml", spec.name));
    std::fs::write(&file, render(&spec.name, &spec.name, &containers)).map_err(io)?;
    Ok(file)
}

/// Copies the generated files (not data folders, which start empty) with `fix` applied.
fn copy_configs(from: &Path, to: &Path, fix: &dyn Fn(&str) -> String) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut entries: Vec<_> = std::fs::read_dir(from)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            if entry.file_name() != "data" {
                copy_configs(&path, &target, fix)?;
            }
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            std::fs::write(&target, fix(&text))?;
        }
    }
    Ok(())
}

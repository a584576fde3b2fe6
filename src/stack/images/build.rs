//! Local images for air-gapped Docker: a root filesystem holding one binary, the shared libraries
//! `ldd` names for it and the dynamic loader, imported with `docker import` (no registry, no
//! builder). Tags carry the tool's version and a fingerprint of the binary, so a rebuilt
//! perfgate or another Prometheus gets a new image; `PERFGATE_IMAGE_<NAME>` names an image to use
//! instead.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::engine::{DockerError, checked, docker};

/// The label every image perfgate builds carries (its value: the recipe's name).
pub const IMAGE_LABEL: &str = "dev.perfgate.image";
/// Multiarch library folders of Debian-family hosts, searched by the loader inside the image.
const LIBRARY_PATH: &str = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib:/usr/lib";

/// What goes into one image.
#[derive(Debug, Clone)]
pub struct ImageRecipe {
    /// Short name: `prometheus`, `perfgate`, `rotel`, `ffmpeg`.
    pub name: &'static str,
    /// The binary on this machine.
    pub binary: PathBuf,
    /// Where it lives inside the image (also the entrypoint).
    pub path_in_image: &'static str,
    /// The tool's version, the first part of the tag.
    pub version: String,
    /// Host folders copied to the same path inside the image (e.g. a runtime's library).
    pub extra_dirs: Vec<PathBuf>,
}

impl ImageRecipe {
    /// `perfgate/<name>:<version>-<fingerprint>`.
    pub fn tag(&self) -> String {
        format!(
            "perfgate/{}:{}-{}",
            self.name,
            self.version,
            fingerprint(&self.binary, &self.extra_dirs)
        )
    }

    /// `PERFGATE_IMAGE_PROMETHEUS` and so on.
    pub fn override_var(&self) -> String {
        override_var(self.name)
    }
}

/// `perfgate/<name>:latest`, the tag `perfgate images build` gives an image besides its own,
/// which compose files name and the docker backend looks for when a tool is not on this machine.
pub fn latest_tag(name: &str) -> String {
    format!("perfgate/{name}:latest")
}

/// The variable naming an image to use instead of `perfgate/<name>`: `PERFGATE_IMAGE_<NAME>`.
pub fn override_var(name: &str) -> String {
    format!(
        "PERFGATE_IMAGE_{}",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

/// Size and modification time of the binary, and what else goes in, hashed: cheap, and changes
/// with every rebuild.
fn fingerprint(binary: &Path, extra_dirs: &[PathBuf]) -> String {
    let mut h = std::hash::DefaultHasher::new();
    extra_dirs.hash(&mut h);
    if let Ok(meta) = std::fs::metadata(binary) {
        meta.len().hash(&mut h);
        meta.modified().ok().hash(&mut h);
    }
    binary.hash(&mut h);
    format!("{:08x}", h.finish() as u32)
}

/// The image to run for `recipe`: the override, else the tag if the daemon has it, else built
/// now. Returns the image reference and whether it was built by this call.
pub fn ensure_image(recipe: &ImageRecipe) -> Result<(String, bool), DockerError> {
    if let Some(image) = std::env::var(recipe.override_var())
        .ok()
        .filter(|v| !v.is_empty())
    {
        return Ok((image, false));
    }
    let tag = recipe.tag();
    if docker(&["image", "inspect", "--format", "{{.Id}}", &tag]).is_ok() {
        return Ok((tag, false));
    }
    build(recipe, &tag)?;
    prune_other_tags(recipe.name, &tag);
    Ok((tag, true))
}

/// Also tags `image` as `perfgate/<name>:latest`, the name compose files use.
pub fn tag_latest(recipe: &ImageRecipe, image: &str) -> Result<String, DockerError> {
    let latest = latest_tag(recipe.name);
    docker(&["tag", image, &latest])?;
    Ok(latest)
}

/// Older builds of the same recipe (a rebuilt perfgate is a new image each time) are removed,
/// unless a container still uses them.
fn prune_other_tags(name: &str, keep: &str) {
    let Ok(images) = built_images() else { return };
    let repository = format!("perfgate/{name}:");
    for image in images {
        if image.starts_with(&repository) && image != keep && !image.ends_with(":latest") {
            let _ = docker(&["image", "rm", &image]);
        }
    }
}

/// Assembles the root filesystem in a temporary folder and imports it as `tag`.
fn build(recipe: &ImageRecipe, tag: &str) -> Result<(), DockerError> {
    let work = tempfile::tempdir()?;
    let root = work.path().join("rootfs");
    copy_into(&root, &recipe.binary, Path::new(recipe.path_in_image))?;
    for lib in shared_libraries(&recipe.binary)? {
        copy_into(&root, &lib, &lib)?;
    }
    for dir in &recipe.extra_dirs {
        copy_tree(dir, &root.join(dir.strip_prefix("/").unwrap_or(dir)))?;
        // Executables in there bring their own libraries.
        for program in executables(dir) {
            for lib in shared_libraries(&program)? {
                copy_into(&root, &lib, &lib)?;
            }
        }
    }
    let tmp = root.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    set_mode(&tmp, 0o1777)?;
    std::fs::create_dir_all(root.join("etc"))?;
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
    )?;
    let tar = work.path().join("rootfs.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("tar of {} failed", root.display())).into());
    }
    let entrypoint = format!(r#"ENTRYPOINT ["{}"]"#, recipe.path_in_image);
    let env = format!("ENV LD_LIBRARY_PATH={LIBRARY_PATH}");
    let label = format!("LABEL {IMAGE_LABEL}={}", recipe.name);
    let tar = tar.to_string_lossy();
    let args = [
        "import",
        "--change",
        &entrypoint,
        "--change",
        &env,
        "--change",
        &label,
        &tar,
        tag,
    ];
    let output = Command::new("docker")
        .args(args)
        .output()
        .map_err(DockerError::Spawn)?;
    checked(&args, output).map(drop)
}

/// The absolute paths of the libraries (and loader) `ldd` resolves for `binary`; none for a
/// static binary.
pub fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, DockerError> {
    let output = Command::new("ldd").arg(binary).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // ldd answers "not a dynamic executable" with a non-zero status.
        return Ok(Vec::new());
    }
    let mut libs = Vec::new();
    for line in text.lines() {
        if line.contains("=> not found") {
            return Err(std::io::Error::other(format!(
                "{}: a shared library is missing on this machine: {}",
                binary.display(),
                line.trim()
            ))
            .into());
        }
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(path) = path.filter(|p| p.starts_with('/')) {
            libs.push(PathBuf::from(path));
        }
    }
    Ok(libs)
}

/// Copies `from` (following symlinks) to `root/at`, keeping its permissions.
fn copy_into(root: &Path, from: &Path, at: &Path) -> Result<(), DockerError> {
    let dest = root.join(at.strip_prefix("/").unwrap_or(at));
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, &dest).map_err(|e| {
        std::io::Error::other(format!("copying {} into the image: {e}", from.display()))
    })?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), DockerError> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if entry.path().exists() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Files with an execute bit directly in `dir`.
fn executables(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
        })
        .collect()
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Images perfgate built that the daemon holds (`repository:tag`).
pub fn built_images() -> Result<Vec<String>, DockerError> {
    let filter = format!("label={IMAGE_LABEL}");
    let out = docker(&[
        "image",
        "ls",
        "--filter",
        &filter,
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ])?;
    Ok(out.lines().map(str::to_owned).collect())
}

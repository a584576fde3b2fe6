//! The docker backend: planned services, each run in a container of a local image (perfgate's
//! own for built-ins, one per external tool: see `stack::images`), started through
//! testcontainers.
//!
//! A run's containers share the network namespace of one *pod* container on a per-run network,
//! as in a Kubernetes pod: the loopback addresses the planner allocated stay valid between
//! services, and the pod publishes each of those ports on the host's 127.0.0.1 under the same
//! number, so readiness checks, load and queries reach them unchanged. Inside, servers listen on
//! 0.0.0.0 (a published port forwards to the pod's interface, not to its loopback). The run
//! folder is bind-mounted at its own path, so generated configs are found where the planner
//! wrote them. Each container's output is followed by a `docker logs -f` child, which gives the
//! log file, log readiness and "it died" exactly as for a process. Services run as the user
//! running perfgate.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use testcontainers::bollard::models::PortBinding;
use testcontainers::core::{ContainerPort, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt};

use super::container::{ServiceImage, container_command, docker_error, service_image};
use super::guard::{ContainerGuard, create_network, register_container, remove_network};
use crate::stack::builtin;
use crate::stack::error::StackError;
use crate::stack::images::{self, ImageRecipe};
use crate::stack::plan::Planned;

/// Label on every container of a run (value: the network's name), for finding leftovers.
const RUN_LABEL: &str = "dev.perfgate.run";

/// The container holding a run's network namespace, and the images its services run.
pub(crate) struct Pod {
    /// Taken on removal: the container goes before the network it is attached to.
    container: Option<ContainerGuard>,
    /// Its id, for `network_mode: container:<id>`.
    id: String,
    network: String,
    perfgate_image: String,
    /// The executable hosting built-ins (default: this one).
    host: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Pod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pod {} on {}", self.id, self.network)
    }
}

async fn ensure(recipe: ImageRecipe, service: &str) -> Result<String, StackError> {
    let name = service.to_owned();
    tokio::task::spawn_blocking(move || images::ensure_image(&recipe))
        .await
        .map_err(|e| docker_error(&name)(e.to_string()))?
        .map(|(image, built)| {
            if built {
                tracing::info!(%image, "built image");
            }
            image
        })
        .map_err(|e| docker_error(service)(e.to_string()))
}

fn generic(image: &str) -> GenericImage {
    match image.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
        Some((name, tag)) => GenericImage::new(name, tag),
        None => GenericImage::new(image, "latest"),
    }
}

/// `request` with the run's label and its owner's (`reaper::docker_labels`).
fn labelled(
    request: GenericImage,
    network: &str,
) -> testcontainers::core::ContainerRequest<GenericImage> {
    let mut request = request.with_label(RUN_LABEL, network);
    for (key, value) in crate::reaper::docker_labels() {
        request = request.with_label(key, value);
    }
    request
}

impl Pod {
    /// Starts the pod on a new network, publishing `ports` on 127.0.0.1 under the same numbers.
    pub(crate) async fn start(ports: Vec<u16>, host: Option<&Path>) -> Result<Pod, StackError> {
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let network = format!(
            "perfgate-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        );
        let recipe =
            images::perfgate_recipe(host).map_err(|e| docker_error("pod")(e.to_string()))?;
        let perfgate_image = ensure(recipe, "pod").await?;
        create_network(&network).map_err(docker_error("pod"))?;
        let name = format!("{network}-pod");
        register_container(&name).map_err(docker_error("pod"))?;
        let (key, value) = builtin::builtin_env(builtin::POD);
        let mut request = labelled(generic(&perfgate_image), &network)
            .with_network(&network)
            .with_container_name(&name)
            .with_env_var(key, value);
        for &port in &ports {
            request = request.with_mapped_port(port, ContainerPort::Tcp(port));
        }
        let request = request.with_host_config_modifier(|config| {
            // Published on loopback only, as the process backend listens.
            if let Some(bindings) = config.port_bindings.as_mut() {
                for binding in bindings.values_mut().flatten().flatten() {
                    *binding = PortBinding {
                        host_ip: Some(Ipv4Addr::LOCALHOST.to_string()),
                        ..binding.clone()
                    };
                }
            }
        });
        let container = request
            .start()
            .await
            .map_err(|e| docker_error("pod")(e.to_string()))?;
        let container = ContainerGuard::new(container, &name);
        Ok(Pod {
            id: container.id.clone(),
            container: Some(container),
            network,
            perfgate_image,
            host: host.map(Path::to_path_buf),
        })
    }

    /// Starts `planned` in a container sharing the pod's network namespace. Returns the
    /// container and the command that follows its output (`docker logs --follow`), for the
    /// caller to supervise and wait for exactly as it would the process.
    pub(crate) async fn start_container(
        &self,
        planned: &Planned,
        run_dir: &Path,
    ) -> Result<(ContainerGuard, Command), StackError> {
        let name = &planned.name;
        let image = self.image(planned).await?;
        let (args, env) = container_command(planned);
        // As the user running perfgate: what it writes into the run folder stays theirs, and an
        // image with a user of its own (an official one) can still write there.
        let user = format!("{}:{}", nix::unistd::getuid(), nix::unistd::getgid());
        let container_name = format!("{}-{name}", self.network);
        register_container(&container_name).map_err(docker_error(name))?;
        let mut request = labelled(generic(&image), &self.network)
            .with_container_name(&container_name)
            .with_cmd(args)
            .with_user(user)
            .with_mount(Mount::bind_mount(
                run_dir.to_string_lossy(),
                run_dir.to_string_lossy(),
            ));
        for (key, value) in env {
            request = request.with_env_var(key, value);
        }
        let pod = format!("container:{}", self.id);
        let request = request.with_host_config_modifier(move |config| {
            config.network_mode = Some(pod.clone());
            config.publish_all_ports = Some(false);
            config.port_bindings = None;
        });
        let container = request
            .start()
            .await
            .map_err(|e| docker_error(name)(e.to_string()))?;
        let guard = ContainerGuard::new(container, &container_name);
        tracing::info!(service = %name, image, container = %guard.id, "container started");
        let mut follow = Command::new("docker");
        follow.args(["logs", "--follow", &guard.id]);
        Ok((guard, follow))
    }

    /// The image `planned` runs, built when needed.
    async fn image(&self, planned: &Planned) -> Result<String, StackError> {
        let name = &planned.name;
        match service_image(planned)? {
            ServiceImage::Perfgate => Ok(self.perfgate_image.clone()),
            ServiceImage::PerfgateWith(t) => {
                let recipe = images::perfgate_with_tool_recipe(self.host.as_deref(), t)
                    .map_err(|e| docker_error(name)(e.to_string()))?;
                ensure(recipe, name).await
            }
            ServiceImage::Tool(t) => match &t.image {
                Some(image) => Ok(image.clone()),
                None => ensure(images::tool_recipe(t), name).await,
            },
        }
    }

    /// Removes the pod (and with it the run's network).
    pub(crate) async fn remove(mut self) -> Result<(), StackError> {
        if let Some(container) = self.container.take() {
            container.remove().await.map_err(docker_error("pod"))?;
        }
        remove_network(&self.network);
        Ok(())
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        if let Some(container) = self.container.take() {
            drop(container);
            remove_network(&self.network);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testcontainers::Image;

    #[test]
    fn image_references_split_into_name_and_tag() {
        let image = generic("perfgate/prometheus:2.53.3-abc");
        assert_eq!(image.name(), "perfgate/prometheus");
        assert_eq!(image.tag(), "2.53.3-abc");
        let local = generic("registry:5000/prom");
        assert_eq!(local.tag(), "latest");
    }
}

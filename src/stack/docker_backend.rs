//! The docker backend: the process backend's planned services, each run in a container of a
//! local image (perfgate's own for built-ins, one per external tool: see `crate::docker`),
//! started through testcontainers.
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

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use testcontainers::bollard::models::PortBinding;
use testcontainers::core::{ContainerPort, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::error::StackError;
use super::process_backend::Planned;
use super::reaper;
use crate::docker::{self, ImageRecipe};

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

/// A service's container; removed on `remove` or drop.
pub(crate) struct ContainerGuard {
    container: Option<ContainerAsync<GenericImage>>,
    id: String,
}

impl std::fmt::Debug for ContainerGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "container {}", self.id)
    }
}

impl std::fmt::Debug for Pod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pod {} on {}", self.id, self.network)
    }
}

fn docker_error(service: &str) -> impl Fn(String) -> StackError + '_ {
    move |message| StackError::Docker {
        service: service.to_owned(),
        message,
    }
}

/// The daemon answers, or the error says so (and that the process backend exists).
pub(crate) fn require_daemon() -> Result<(), StackError> {
    docker::daemon_available().map_err(|e| StackError::Docker {
        service: "stack".into(),
        message: e.to_string(),
    })
}

/// The address perfgate's own endpoints listen on so that containers reach them: the default
/// bridge's gateway (the host's side of Docker's network), or the subnet's first address when
/// the daemon does not record a gateway.
pub fn host_address_for_containers() -> Result<IpAddr, StackError> {
    require_daemon()?;
    let out = docker::docker(&[
        "network",
        "inspect",
        "bridge",
        "--format",
        "{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}",
    ])
    .map_err(|e| docker_error("stack")(e.to_string()))?;
    gateway_of(&out).ok_or_else(|| {
        docker_error("stack")(format!("no gateway for the default bridge in `{out}`"))
    })
}

fn gateway_of(inspected: &str) -> Option<IpAddr> {
    let mut words = inspected.split_whitespace();
    let first = words.next()?;
    if let Ok(ip) = first.parse() {
        return Some(ip);
    }
    let (network, _) = first.split_once('/')?;
    let network: Ipv4Addr = network.parse().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(u32::from(network) + 1)))
}

async fn ensure(recipe: ImageRecipe, service: &str) -> Result<String, StackError> {
    let name = service.to_owned();
    tokio::task::spawn_blocking(move || docker::ensure_image(&recipe))
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
            docker::perfgate_recipe(host).map_err(|e| docker_error("pod")(e.to_string()))?;
        let perfgate_image = ensure(recipe, "pod").await?;
        reaper::register_docker(None, Some(&network))
            .map_err(|e| docker_error("pod")(e.to_string()))?;
        let (key, value) = super::builtin::builtin_env(super::builtin::POD);
        let mut request = generic(&perfgate_image)
            .with_network(&network)
            .with_label(RUN_LABEL, &network)
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
        let container = ContainerGuard::new(container).map_err(docker_error("pod"))?;
        Ok(Pod {
            id: container.id.clone(),
            container: Some(container),
            network,
            perfgate_image,
            host: host.map(Path::to_path_buf),
        })
    }

    /// Starts `planned` in a container sharing the pod's network namespace. Returns the plan
    /// whose command now follows the container's output (`docker logs --follow`), for the
    /// caller to supervise and wait for exactly as it would the process, and the container.
    pub(crate) async fn start_container(
        &self,
        mut planned: Planned,
        run_dir: &Path,
    ) -> Result<(Planned, ContainerGuard), StackError> {
        let name = planned.name.clone();
        let builtin = is_builtin(&planned.command);
        let image = match &planned.tool {
            // A built-in running a tool of its own (the origin's FFmpeg): perfgate's image
            // with the tool at the same path.
            Some(t) if builtin => {
                let recipe = docker::perfgate_with_tool_recipe(self.host.as_deref(), t)
                    .map_err(|e| docker_error(&name)(e.to_string()))?;
                ensure(recipe, &name).await?
            }
            Some(t) => match &t.image {
                Some(image) => image.clone(),
                None => ensure(docker::tool_recipe(t), &name).await?,
            },
            None if builtin => self.perfgate_image.clone(),
            None => return Err(not_containable(&planned)),
        };
        let (args, env) = container_command(&planned);
        // As the user running perfgate: what it writes into the run folder stays theirs, and an
        // image with a user of its own (an official one) can still write there.
        let user = format!("{}:{}", nix::unistd::getuid(), nix::unistd::getgid());
        let mut request = generic(&image)
            .with_cmd(args)
            .with_user(user)
            .with_label(RUN_LABEL, &self.network)
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
            .map_err(|e| docker_error(&name)(e.to_string()))?;
        let guard = ContainerGuard::new(container).map_err(docker_error(&name))?;
        tracing::info!(service = %name, image, container = %guard.id, "container started");
        let mut follow = Command::new("docker");
        follow.args(["logs", "--follow", &guard.id]);
        planned.command = follow;
        Ok((planned, guard))
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

/// Removal on drop, through the CLI: testcontainers' own drop needs a tokio runtime in context,
/// which a drop during a panic's unwinding may not have (a second panic would abort).
fn force_remove(container: ContainerAsync<GenericImage>, id: &str) {
    std::mem::forget(container);
    let _ = docker::docker(&["rm", "--force", "--volumes", id]);
    reaper::unregister_docker(Some(id), None);
}

/// testcontainers removes a network it created when its last container goes; this makes sure
/// (and says so to the reaper) in case that has not happened yet. "No such network" is fine.
fn remove_network(network: &str) {
    let _ = docker::docker(&["network", "rm", network]);
    reaper::unregister_docker(None, Some(network));
}

impl ContainerGuard {
    fn new(container: ContainerAsync<GenericImage>) -> Result<Self, String> {
        let id = container.id().to_owned();
        reaper::register_docker(Some(&id), None).map_err(|e| e.to_string())?;
        Ok(Self {
            container: Some(container),
            id,
        })
    }

    /// How the container ended, for "it died" messages.
    pub(crate) fn exit_description(&self) -> String {
        let state = docker::docker(&[
            "inspect",
            "--format",
            "exit code {{.State.ExitCode}}{{if .State.OOMKilled}} (out of memory){{end}}",
            &self.id,
        ]);
        state.unwrap_or_else(|_| "container gone".into())
    }

    pub(crate) async fn remove(mut self) -> Result<(), String> {
        let removed = match self.container.take() {
            Some(c) => c.rm().await.map_err(|e| e.to_string()),
            None => Ok(()),
        };
        reaper::unregister_docker(Some(&self.id), None);
        removed
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if let Some(c) = self.container.take() {
            force_remove(c, &self.id);
        }
    }
}

/// The arguments and environment of `planned`'s container: its command's, with its own
/// listen addresses opened to the pod's interface.
pub(crate) fn container_command(planned: &Planned) -> (Vec<String>, Vec<(String, String)>) {
    let own_ports: Vec<u16> = planned.ports.values().map(|a| a.port()).collect();
    let listen_any =
        |text: &std::ffi::OsStr| listen_on_all_interfaces(&text.to_string_lossy(), &own_ports);
    let args = planned.command.get_args().map(listen_any).collect();
    let env = planned
        .command
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_string_lossy().into_owned(), listen_any(v?))))
        .collect();
    (args, env)
}

/// The image a planned service runs, for compose files: its name (which names the override
/// variable) and the reference used without one: `perfgate/<name>:latest` of its recipe, or
/// the image a tool missing on this machine was found as.
pub(crate) fn compose_image(planned: &Planned) -> Result<(&'static str, String), StackError> {
    let builtin = is_builtin(&planned.command);
    let name = match &planned.tool {
        Some(t) if builtin => docker::perfgate_with_tool_recipe(None, t)
            .map(|r| r.name)
            .map_err(|e| docker_error(&planned.name)(e.to_string()))?,
        Some(t) => {
            let recipe = docker::tool_recipe(t);
            if let Some(image) = &t.image {
                return Ok((recipe.name, image.clone()));
            }
            recipe.name
        }
        None if builtin => "perfgate",
        None => return Err(not_containable(planned)),
    };
    Ok((name, docker::images::latest_tag(name)))
}

fn not_containable(planned: &Planned) -> StackError {
    docker_error(&planned.name)(format!(
        "a `{}` service runs a program of this machine ({}), which the docker backend cannot put in an image (hint: use `backend: process` for this spec)",
        planned.kind,
        planned.command.get_program().to_string_lossy()
    ))
}

/// Built-in services are perfgate's own executable told which built-in to be.
fn is_builtin(command: &Command) -> bool {
    command
        .get_envs()
        .any(|(k, v)| k == "PERFGATE_BUILTIN" && v.is_some())
}

/// `127.0.0.1:PORT` → `0.0.0.0:PORT` for the service's own ports (its listen addresses).
fn listen_on_all_interfaces(text: &str, own_ports: &[u16]) -> String {
    docker::rewrite_local_addresses(text, |host, port| {
        (host == "127.0.0.1" && own_ports.contains(&port)).then(|| format!("0.0.0.0:{port}"))
    })
}

/// Ports to publish for a set of planned services and extra addresses.
pub(crate) fn published_ports(planned: &[Planned]) -> Vec<u16> {
    let mut ports: Vec<u16> = planned
        .iter()
        .flat_map(|p| p.ports.values().map(|a| a.port()))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;
    use testcontainers::Image;

    #[test]
    fn only_own_ports_listen_on_all_interfaces() {
        let text = "127.0.0.1:9090 http://127.0.0.1:4318/v1 127.0.0.1:90901";
        assert_eq!(
            listen_on_all_interfaces(text, &[9090]),
            "0.0.0.0:9090 http://127.0.0.1:4318/v1 127.0.0.1:90901"
        );
    }

    #[test]
    fn the_gateway_is_recorded_or_the_subnets_first_address() {
        assert_eq!(
            gateway_of("172.18.0.1 172.18.0.0/16"),
            "172.18.0.1".parse().ok()
        );
        assert_eq!(gateway_of(" 172.17.0.0/16"), "172.17.0.1".parse().ok());
        assert_eq!(gateway_of(""), None);
    }

    #[test]
    fn compose_names_the_image_a_missing_tool_was_found_as() {
        use crate::stack::tools::{PROMETHEUS, ResolvedTool, ToolSource, Version};
        let planned = |tool| Planned {
            name: "prometheus".into(),
            kind: "prometheus",
            ports: Default::default(),
            command: Command::new("prometheus"),
            ready: crate::stack::Readiness::Log("ready".into()),
            timeout: std::time::Duration::from_secs(1),
            tool: Some(tool),
        };
        let version = Version(2, 53, 3);
        let image = ResolvedTool::in_image(&PROMETHEUS, "prom/prometheus:latest".into(), version);
        assert_eq!(
            compose_image(&planned(image)).unwrap(),
            ("prometheus", "prom/prometheus:latest".to_owned())
        );
        let local = ResolvedTool {
            image: None,
            source: ToolSource::Path,
            ..ResolvedTool::in_image(&PROMETHEUS, "/usr/bin/prometheus".into(), version)
        };
        assert_eq!(
            compose_image(&planned(local)).unwrap(),
            ("prometheus", "perfgate/prometheus:latest".to_owned())
        );
    }

    #[test]
    fn image_references_split_into_name_and_tag() {
        let image = generic("perfgate/prometheus:2.53.3-abc");
        assert_eq!(image.name(), "perfgate/prometheus");
        assert_eq!(image.tag(), "2.53.3-abc");
        let local = generic("registry:5000/prom");
        assert_eq!(local.tag(), "latest");
    }
}

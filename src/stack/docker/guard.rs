//! A container (a service's, or the pod) registered with the reaper by name before it is
//! created and removed on `remove` or drop; the run's network, created labelled with the run's
//! owner and removed with the pod.

use testcontainers::{ContainerAsync, GenericImage};

use crate::reaper;
use crate::stack::images;

/// A service's container; removed on `remove` or drop.
pub(crate) struct ContainerGuard {
    container: Option<ContainerAsync<GenericImage>>,
    pub(crate) id: String,
    /// The name it was registered under before it was created.
    name: String,
}

impl std::fmt::Debug for ContainerGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "container {}", self.id)
    }
}

/// Removal on drop, through the CLI: testcontainers' own drop needs a tokio runtime in context,
/// which a drop during a panic's unwinding may not have (a second panic would abort).
fn force_remove(container: ContainerAsync<GenericImage>, id: &str, name: &str) {
    std::mem::forget(container);
    let _ = images::docker(&["rm", "--force", "--volumes", id]);
    reaper::unregister_docker(Some(name), None);
}

/// Registers container `name` for removal before it is created (so an interrupt while it is
/// being created still removes it); refused once perfgate is shutting down.
pub(crate) fn register_container(name: &str) -> Result<(), String> {
    reaper::register_docker(Some(name), None).map_err(|e| e.to_string())
}

/// Creates the run's network, labelled with the run's owner (registered first).
pub(crate) fn create_network(network: &str) -> Result<(), String> {
    reaper::register_docker(None, Some(network)).map_err(|e| e.to_string())?;
    let mut args = vec!["network".to_owned(), "create".to_owned()];
    for (key, value) in reaper::docker_labels() {
        args.extend(["--label".to_owned(), format!("{key}={value}")]);
    }
    args.push(network.to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    images::docker(&args).map(drop).map_err(|e| e.to_string())
}

/// testcontainers removes a network it created when its last container goes; this makes sure
/// (and says so to the reaper) in case that has not happened yet. "No such network" is fine.
pub(crate) fn remove_network(network: &str) {
    let _ = images::docker(&["network", "rm", network]);
    reaper::unregister_docker(None, Some(network));
}

impl ContainerGuard {
    /// Guards `container`, registered as `name` (`register_container`) before it was created.
    pub(crate) fn new(container: ContainerAsync<GenericImage>, name: &str) -> Self {
        Self {
            id: container.id().to_owned(),
            container: Some(container),
            name: name.to_owned(),
        }
    }

    /// How the container ended, for "it died" messages.
    pub(crate) fn exit_description(&self) -> String {
        let state = images::docker(&[
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
        reaper::unregister_docker(Some(&self.name), None);
        removed
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if let Some(c) = self.container.take() {
            force_remove(c, &self.id, &self.name);
        }
    }
}

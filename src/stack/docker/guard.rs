//! A container (a service's, or the pod) registered with the reaper and removed on `remove` or
//! drop; the run's network removed with the pod.

use testcontainers::{ContainerAsync, GenericImage};

use crate::reaper;
use crate::stack::images;

/// A service's container; removed on `remove` or drop.
pub(crate) struct ContainerGuard {
    container: Option<ContainerAsync<GenericImage>>,
    pub(crate) id: String,
}

impl std::fmt::Debug for ContainerGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "container {}", self.id)
    }
}

/// Removal on drop, through the CLI: testcontainers' own drop needs a tokio runtime in context,
/// which a drop during a panic's unwinding may not have (a second panic would abort).
fn force_remove(container: ContainerAsync<GenericImage>, id: &str) {
    std::mem::forget(container);
    let _ = images::docker(&["rm", "--force", "--volumes", id]);
    reaper::unregister_docker(Some(id), None);
}

/// testcontainers removes a network it created when its last container goes; this makes sure
/// (and says so to the reaper) in case that has not happened yet. "No such network" is fine.
pub(crate) fn remove_network(network: &str) {
    let _ = images::docker(&["network", "rm", network]);
    reaper::unregister_docker(None, Some(network));
}

impl ContainerGuard {
    pub(crate) fn new(container: ContainerAsync<GenericImage>) -> Result<Self, String> {
        let id = container.id().to_owned();
        reaper::register_docker(Some(&id), None).map_err(|e| e.to_string())?;
        Ok(Self {
            container: Some(container),
            id,
        })
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

//! Which backend runs a spec, and why: `$PERFGATE_BACKEND` over the spec's `backend:`. `auto`
//! runs local processes when every tool the spec needs is on this machine or can be provisioned,
//! and containers when one of them can be had only as an image (`need::image_instead`).

use super::backend::{Backend, BackendDecision};
use super::error::StackError;
use super::images;
use super::need::{cannot_stand_in, image_instead};
use super::plan::needed_tools;
use crate::spec::{BackendChoice, ServiceKind, Spec};

/// Decides the backend of `spec`. Asking for docker checks that a daemon answers; `auto`
/// resolves every tool the spec needs (provisioning what it can) before it decides.
pub fn choose_backend(spec: &Spec) -> Result<BackendDecision, StackError> {
    let from_env = std::env::var("PERFGATE_BACKEND")
        .ok()
        .filter(|v| !v.is_empty());
    let (choice, why) = match from_env.as_deref() {
        None => (spec.stack.backend, ""),
        Some("process") => (BackendChoice::Process, "$PERFGATE_BACKEND"),
        Some("docker") => (BackendChoice::Docker, "$PERFGATE_BACKEND"),
        Some("auto") => (BackendChoice::Auto, ""),
        Some(other) => {
            return Err(StackError::NoBackend(format!(
                "PERFGATE_BACKEND={other}: expected `process`, `docker` or `auto`"
            )));
        }
    };
    match choice {
        BackendChoice::Process => Ok(BackendDecision::new(Backend::Process, why)),
        BackendChoice::Docker => {
            require_daemon()?;
            Ok(BackendDecision::new(Backend::Docker, why))
        }
        BackendChoice::Auto => auto(spec),
    }
}

/// Processes when every tool can be had here; docker when the missing ones have images.
/// The daemon answers, or the error says so (and that the process backend exists).
pub(crate) fn require_daemon() -> Result<(), StackError> {
    images::daemon_available().map_err(|e| StackError::Docker {
        service: "stack".into(),
        message: e.to_string(),
    })
}

fn auto(spec: &Spec) -> Result<BackendDecision, StackError> {
    let mut from_images = Vec::new();
    for need in needed_tools(spec) {
        let Err(missing) = need.resolve_here() else {
            continue;
        };
        if let Some((name, _)) = spec
            .stack
            .services
            .iter()
            .find(|(_, s)| matches!(s.kind, ServiceKind::Process(_)))
        {
            return Err(cannot_stand_in(
                &missing,
                &format!("service `{name}` is a program of this machine (`kind: process`)"),
            ));
        }
        let found = image_instead(&need, missing)?;
        from_images.push(format!("{} from {}", found.name, found.location()));
    }
    Ok(match from_images.as_slice() {
        [] => BackendDecision::new(Backend::Process, "auto: every tool is local or provisioned"),
        _ => BackendDecision::new(
            Backend::Docker,
            format!("auto: not on this machine: {}", from_images.join(", ")),
        ),
    })
}

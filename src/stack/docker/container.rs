//! A planned service as a container, read from the plan the same way by the docker backend and
//! by compose files: its arguments and environment (its own listen addresses opened to the
//! pod's interface) and which image it runs.

use crate::stack::error::StackError;
use crate::stack::images;
use crate::stack::plan::{Planned, Program};
use crate::tools::ResolvedTool;

/// A `Docker` error of `service`.
pub(crate) fn docker_error(service: &str) -> impl Fn(String) -> StackError + '_ {
    move |message| StackError::Docker {
        service: service.to_owned(),
        message,
    }
}

/// The arguments and environment of `planned`'s container: its own, with its own listen
/// addresses opened to the pod's interface.
pub(crate) fn container_command(planned: &Planned) -> (Vec<String>, Vec<(String, String)>) {
    let own_ports: Vec<u16> = planned.ports.values().map(|a| a.port()).collect();
    let listen_any = |text: &str| listen_on_all_interfaces(text, &own_ports);
    let args = planned.args.iter().map(|a| listen_any(a)).collect();
    let env = planned
        .env
        .iter()
        .map(|(k, v)| (k.clone(), listen_any(v)))
        .collect();
    (args, env)
}

/// The image a planned service runs.
pub(crate) enum ServiceImage<'a> {
    /// perfgate's own (every built-in).
    Perfgate,
    /// perfgate's own plus a tool the built-in runs itself (the origin's FFmpeg).
    PerfgateWith(&'a ResolvedTool),
    /// The image of a tool: the one it was found as, else built from the local binary.
    Tool(&'a ResolvedTool),
}

/// The image of `planned`, or why a container cannot run it (a program of this machine).
pub(crate) fn service_image(planned: &Planned) -> Result<ServiceImage<'_>, StackError> {
    match &planned.program {
        Program::Builtin { tool: None, .. } => Ok(ServiceImage::Perfgate),
        Program::Builtin { tool: Some(t), .. } => Ok(ServiceImage::PerfgateWith(t)),
        Program::Tool(t) => Ok(ServiceImage::Tool(t)),
        Program::External(program) => Err(docker_error(&planned.name)(format!(
            "a `{}` service runs a program of this machine ({program}), which the docker backend cannot put in an image (hint: use `backend: process` for this spec)",
            planned.kind,
        ))),
    }
}

/// The image a planned service runs, for compose files: its name (which names the override
/// variable) and the reference used without one: `perfgate/<name>:latest` of its recipe, or
/// the image a tool missing on this machine was found as.
pub(crate) fn compose_image(planned: &Planned) -> Result<(&'static str, String), StackError> {
    let name = match service_image(planned)? {
        ServiceImage::Perfgate => "perfgate",
        ServiceImage::PerfgateWith(t) => images::perfgate_with_tool_recipe(None, t)
            .map(|r| r.name)
            .map_err(|e| docker_error(&planned.name)(e.to_string()))?,
        ServiceImage::Tool(t) => {
            let recipe = images::tool_recipe(t);
            if let Some(image) = &t.image {
                return Ok((recipe.name, image.clone()));
            }
            recipe.name
        }
    };
    Ok((name, images::latest_tag(name)))
}

/// `127.0.0.1:PORT` → `0.0.0.0:PORT` for the service's own ports (its listen addresses).
fn listen_on_all_interfaces(text: &str, own_ports: &[u16]) -> String {
    images::rewrite_local_addresses(text, |host, port| {
        (host == "127.0.0.1" && own_ports.contains(&port)).then(|| format!("0.0.0.0:{port}"))
    })
}

/// Ports to publish for a set of planned services.
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
    use std::collections::BTreeMap;

    #[test]
    fn only_own_ports_listen_on_all_interfaces() {
        let text = "127.0.0.1:9090 http://127.0.0.1:4318/v1 127.0.0.1:90901";
        assert_eq!(
            listen_on_all_interfaces(text, &[9090]),
            "0.0.0.0:9090 http://127.0.0.1:4318/v1 127.0.0.1:90901"
        );
    }

    #[test]
    fn compose_names_the_image_a_missing_tool_was_found_as() {
        use crate::tools::{PROMETHEUS, ToolSource, Version};
        let planned = |tool| Planned {
            name: "prometheus".into(),
            kind: "prometheus",
            program: Program::Tool(tool),
            args: Vec::new(),
            env: BTreeMap::new(),
            ports: Default::default(),
            ready: crate::stack::Readiness::Log("ready".into()),
            timeout: std::time::Duration::from_secs(1),
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
}

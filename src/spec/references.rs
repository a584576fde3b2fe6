//! The references between services of `stack:`: `otlp:` names an OTLP receiver (an
//! `otel-collector` or `otlp-to-prometheus` service), `export_to:` a `prometheus` service.

use super::decode::Ctx;
use super::diagnostic::backticked;
use super::kinds::ServiceKind;
use super::locate::YamlPath;
use super::model::Stack;

/// `otlp:` must name a collector or adapter; `export_to:` a `prometheus` service.
pub(crate) fn check_references(
    ctx: &mut Ctx,
    stack: &Stack,
    names: &[String],
    services_at: &YamlPath,
) {
    let receivers = names_of(stack, ServiceKind::receives_otlp);
    let prometheus = names_of(stack, |k| matches!(k, ServiceKind::Prometheus(_)));
    for (name, service) in &stack.services {
        let Some((key, target, wanted, what)) = reference(&service.kind, &receivers, &prometheus)
        else {
            continue;
        };
        if wanted.contains(&target.as_str()) {
            continue;
        }
        let path = services_at.key(name).key(key);
        match stack.services.get(target) {
            Some(other) => misnamed(
                ctx,
                &path,
                format!(
                    "`{key}` names `{target}`, a `{}` service; it must name {what}",
                    other.kind.name()
                ),
                wanted,
            ),
            // A service that exists but failed validation was reported already.
            None if names.contains(target) => {}
            None if target.is_empty() => misnamed(
                ctx,
                &path,
                format!("`{key}` names unknown service `{target}`"),
                wanted,
            ),
            None => ctx.unknown_name(&path, "service", target, wanted),
        }
    }
}

/// The names of the stack's services of the kinds `keep` accepts.
fn names_of(stack: &Stack, keep: impl Fn(&ServiceKind) -> bool) -> Vec<&str> {
    stack
        .services
        .values()
        .filter(|s| keep(&s.kind))
        .map(|s| s.name.as_str())
        .collect()
}

/// A service's reference to another: (its key, the service named, the services it may name,
/// what those are called); `None` when it refers to none.
fn reference<'a>(
    kind: &'a ServiceKind,
    receivers: &'a [&'a str],
    prometheus: &'a [&'a str],
) -> Option<(&'static str, &'a String, &'a [&'a str], &'static str)> {
    const RECEIVER: &str = "an `otel-collector` or `otlp-to-prometheus` service";
    match kind {
        ServiceKind::DemoApi(d) => d.otlp.as_ref().map(|t| ("otlp", t, receivers, RECEIVER)),
        ServiceKind::Process(p) => p.otlp.as_ref().map(|t| ("otlp", t, receivers, RECEIVER)),
        ServiceKind::OtelCollector(c) => Some((
            "export_to",
            &c.export_to,
            prometheus,
            "a `prometheus` service",
        )),
        _ => None,
    }
}

/// A reference to a service of the wrong kind, with the services it may name as a hint.
fn misnamed(ctx: &mut Ctx, path: &YamlPath, message: String, wanted: &[&str]) {
    let hint = if wanted.is_empty() {
        "declare one, e.g. `collector: { kind: otel-collector, export_to: prometheus }`".to_owned()
    } else {
        format!("expected one of {}", backticked(wanted.iter().copied()))
    };
    ctx.at_value(path, message).hint = Some(hint);
}

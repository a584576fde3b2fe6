//! Validation of `stack:`: backend choice, every service by its kind's own code (`kinds`), the
//! gating Prometheus, then what crosses services (`placeholders`, `references`).

use indexmap::IndexMap;
use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::diagnostic::backticked;
use super::locate::YamlPath;
use super::kinds::{KINDS, ServiceKind};
use super::model::{BackendChoice, Service, Stack};
use super::raw::{RawBackend, RawKind, RawStack};
pub(crate) use super::stack_info::{StackInfo, http_ports};
use super::units::is_identifier;

/// Kinds that are planned but not built yet: a clearer error than "unknown kind".
const FUTURE_KINDS: [&str; 1] = ["container"];

pub(crate) fn stack(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> StackInfo {
    let names: Vec<String> = match value {
        Value::Mapping(m) => match m.get("services") {
            Some(Value::Mapping(services)) => services
                .keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let empty = StackInfo {
        stack: Stack {
            backend: BackendChoice::Auto,
            services: IndexMap::new(),
        },
        names: names.clone(),
    };
    let Some(raw) = ctx.de::<RawStack>(value, at) else {
        return empty;
    };
    let backend = match raw.backend {
        RawBackend::Auto => BackendChoice::Auto,
        RawBackend::Process => BackendChoice::Process,
        RawBackend::Docker => BackendChoice::Docker,
    };
    let services_at = at.key("services");
    let mut services = IndexMap::new();
    let mut written_gates = Vec::new();
    for (name, value) in &raw.services {
        let path = services_at.key(name);
        if !is_identifier(name) {
            ctx.at_key(
                &path,
                format!(
                    "invalid service name `{name}` (hint: use letters, digits, `_` and `-`, starting with a letter or digit)"
                ),
            );
        }
        if let Some(kind) = service(ctx, value, &path) {
            if matches!(kind, ServiceKind::Prometheus(_)) {
                written_gates.push((name.clone(), value.get("gates").and_then(Value::as_bool)));
            }
            services.insert(
                name.clone(),
                Service {
                    name: name.clone(),
                    kind,
                },
            );
        }
    }
    choose_gating(ctx, &mut services, &written_gates, &services_at);
    check_fixed_ports(ctx, &services, &services_at);
    let stack = Stack { backend, services };
    super::placeholders::check(ctx, &stack, &services_at);
    super::references::check_references(ctx, &stack, &names, &services_at);
    StackInfo { stack, names }
}

/// A service validated by its kind's own code (`kinds::KINDS`).
fn service(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<ServiceKind> {
    let names = KINDS.map(|(name, _)| name);
    let kind = match ctx.de::<RawKind>(value, at) {
        Some(k) => k.kind,
        None => {
            if let Some(d) = ctx.diagnostics.last_mut()
                && d.message == "missing field `kind`"
                && d.hint.is_none()
            {
                d.hint = Some(format!("expected one of {}", backticked(names)));
            }
            return None;
        }
    };
    let kind_at = at.key("kind");
    if let Some((_, validate)) = KINDS.iter().find(|(name, _)| *name == kind) {
        return validate(ctx, value, at);
    }
    if FUTURE_KINDS.contains(&kind.as_str()) {
        ctx.at_value(
            &kind_at,
            format!(
                "service kind `{kind}` is not supported yet (hint: supported kinds are {})",
                backticked(names)
            ),
        );
    } else {
        ctx.unknown_name(&kind_at, "service kind", &kind, &names);
    }
    None
}

/// Two services cannot listen on one fixed port: the second would fail to bind (or, if it
/// survives that, the run would measure the first). A port written once and copied (a
/// `compare:` candidate) is reported by `compare`.
fn check_fixed_ports(ctx: &mut Ctx, services: &IndexMap<String, Service>, services_at: &YamlPath) {
    let mut first_at: Vec<(u16, &str, &str, YamlPath)> = Vec::new();
    for (name, service) in services {
        for port in service.kind.ports().into_iter().filter(|p| p.number != 0) {
            let at = services_at.key(name).key("ports").key(port.name);
            let written = |path: &YamlPath| ctx.index.value_or_key(path).location;
            match first_at.iter().find(|(number, ..)| *number == port.number) {
                Some((_, _, _, other_at)) if written(other_at) == written(&at) => {}
                Some((number, other, other_port, _)) => {
                    ctx.at_value(&at, format!("port {number} is also `{other}`'s `{other_port}` port"))
                        .hint = Some("give each service its own port, or `0` to let perfgate choose".into());
                }
                None => first_at.push((port.number, name, port.name, at)),
            }
        }
    }
}

/// Chooses the Prometheus that assertions and snapshots query: the one written `gates: true`
/// (two are an error), else the first one not written `gates: false`. `written`: every valid
/// Prometheus service and its `gates:` as written, in spec order.
fn choose_gating(
    ctx: &mut Ctx,
    services: &mut IndexMap<String, Service>,
    written: &[(String, Option<bool>)],
    services_at: &YamlPath,
) {
    let flagged: Vec<&str> = written
        .iter()
        .filter(|(_, gates)| *gates == Some(true))
        .map(|(n, _)| n.as_str())
        .collect();
    if let [first, rest @ ..] = flagged.as_slice() {
        for name in rest {
            ctx.at_value(
                &services_at.key(name).key("gates"),
                "only one `prometheus` service can have `gates: true`",
            )
            .hint = Some(format!(
                "assertions and snapshots query `{first}`; remove `gates: true` from `{name}`"
            ));
        }
    }
    let chosen = match flagged.first() {
        Some(name) => Some(*name),
        None => written
            .iter()
            .find(|(_, gates)| gates.is_none())
            .map(|(n, _)| n.as_str()),
    };
    if let Some(Service {
        kind: ServiceKind::Prometheus(p),
        ..
    }) = chosen.and_then(|n| services.get_mut(n))
    {
        p.gates = true;
    }
}

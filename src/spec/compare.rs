//! `compare:`: one service of the stack in two variants. Before the stack is validated, the
//! compared service's raw mapping is written twice: under its own name with `base:`'s keys
//! merged over its own, and right after it as `<service>-candidate` with `candidate:`'s. Every
//! kind is then validated by its own code, and the source index is pointed so that a problem
//! with a key is reported where that key is written (under `compare.candidate`, say).

use serde_yaml_ng::{Mapping, Value};

use super::decode::Ctx;
use super::diagnostic::backticked;
use super::limits::{DEFAULT_REPEAT, check_repeat};
use super::locate::YamlPath;
use super::model::Comparison;
use super::raw::RawCompare;
use super::versus::versus_expectation;

/// The kinds whose two variants perfgate knows how to load and tell apart.
const COMPARABLE_KINDS: [&str; 2] = ["demo-api", "process"];

/// Reads `compare:` (at `at`) and rewrites `stack` (the raw `stack:`) to hold both variants.
/// `None` when `compare:` is invalid (reported); `stack` is then left as written.
pub(crate) fn expand(
    ctx: &mut Ctx,
    value: &Value,
    stack: &mut Value,
    at: &YamlPath,
) -> Option<Comparison> {
    let raw = ctx.de::<RawCompare>(value, at)?;
    let services = stack.get_mut("services").and_then(Value::as_mapping_mut);
    if !comparable(ctx, services.as_deref(), &raw.service, at) {
        return None;
    }
    let candidate = overlay(ctx, Some(&raw.candidate), &at.key("candidate"));
    let base = overlay(ctx, raw.base.as_ref(), &at.key("base"));
    let repeat = ctx.check(
        &at.key("repeat"),
        check_repeat(raw.repeat.unwrap_or(DEFAULT_REPEAT)),
    );
    let (candidate, base) = (candidate?, base?);
    let candidate_service = format!("{}-candidate", raw.service);
    let services = services?;
    // Expanded even when `repeat` is wrong, so the variants' own problems are reported too.
    *services = with_variants(services, &raw.service, &candidate_service, &base, &candidate);
    point_index(ctx, &raw.service, &candidate_service, &base, &candidate, at);
    check_fixed_ports(ctx, services, &raw.service, &candidate_service);
    Some(Comparison {
        service: raw.service,
        candidate_service,
        repeat: repeat?,
        seed: raw.seed.unwrap_or(0),
    })
}

/// Whether `name` is a service of the stack of a comparable kind whose candidate's name is
/// free (what is not is reported).
fn comparable(ctx: &mut Ctx, services: Option<&Mapping>, name: &str, at: &YamlPath) -> bool {
    let names: Vec<&str> = services
        .map(|m| m.keys().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let service_at = at.key("service");
    let Some(own) = services.and_then(|m| m.get(name)) else {
        ctx.unknown_name(&service_at, "service", name, &names);
        return false;
    };
    // A service that is not a mapping, or has no kind, is reported by the stack's validation.
    let Some(kind) = own.get("kind").and_then(Value::as_str) else {
        return false;
    };
    if !COMPARABLE_KINDS.contains(&kind) {
        ctx.at_value(
            &service_at,
            format!("service `{name}` is a `{kind}`, which cannot be compared"),
        )
        .hint = Some(format!(
            "compare a service of kind {}",
            backticked(COMPARABLE_KINDS)
        ));
        return false;
    }
    let candidate = format!("{name}-candidate");
    if names.contains(&candidate.as_str()) {
        ctx.at_value(
            &service_at,
            format!("the candidate of `{name}` is named `{candidate}`, but the stack already has a service of that name"),
        )
        .hint = Some(format!("rename the service `{candidate}`"));
        return false;
    }
    true
}

/// `base:` or `candidate:`: a mapping of keys that does not change `kind:` (absent: empty).
fn overlay(ctx: &mut Ctx, value: Option<&Value>, at: &YamlPath) -> Option<Mapping> {
    let section = super::decode::key_name(at);
    let mapping = match value {
        None | Some(Value::Null) => return Some(Mapping::new()),
        Some(Value::Mapping(m)) => m,
        Some(_) => {
            ctx.at_value(
                at,
                format!("`{section}` must be a mapping of the service's keys that it changes"),
            )
            .hint = Some(format!("e.g. `{section}: {{ cpu_factor: 1.2 }}`"));
            return None;
        }
    };
    if mapping.contains_key("kind") {
        ctx.at_key(
            &at.key("kind"),
            format!("`{section}` cannot change the service's `kind`"),
        )
        .hint = Some("both variants are the compared service's kind; remove `kind`".to_owned());
        return None;
    }
    Some(mapping.clone())
}

/// `own` with `over`'s keys replacing or joining its own (one level: a key's whole value).
fn merged(own: &Mapping, over: &Mapping) -> Value {
    let mut out = own.clone();
    for (key, value) in over {
        out.insert(key.clone(), value.clone());
    }
    Value::Mapping(out)
}

/// The services in their order, the compared one as the base, followed by the candidate.
fn with_variants(
    services: &Mapping,
    name: &str,
    candidate_name: &str,
    base: &Mapping,
    candidate: &Mapping,
) -> Mapping {
    let mut out = Mapping::new();
    for (key, value) in services {
        match (key.as_str(), value.as_mapping()) {
            (Some(k), Some(own)) if k == name => {
                out.insert(key.clone(), merged(own, base));
                out.insert(candidate_name.into(), merged(own, candidate));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out
}

/// Problems with the variants' keys are shown where the keys are written: under
/// `compare.base`/`compare.candidate` for the ones they set, else in the service itself.
fn point_index(
    ctx: &mut Ctx,
    name: &str,
    candidate_name: &str,
    base: &Mapping,
    candidate: &Mapping,
    at: &YamlPath,
) {
    let services_at = YamlPath::root().key("stack").key("services");
    let (base_at, candidate_at) = (services_at.key(name), services_at.key(candidate_name));
    // The candidate starts from the service's own keys, not from `base:`'s.
    ctx.index.alias(&base_at, &candidate_at);
    for (variant_at, keys, written_at) in [
        (&candidate_at, candidate, at.key("candidate")),
        (&base_at, base, at.key("base")),
    ] {
        for key in keys.keys().filter_map(Value::as_str) {
            ctx.index
                .alias(&written_at.key(key), &variant_at.key(key));
        }
    }
}

/// Both variants run at once, so they cannot both listen on one fixed (non-zero) port.
fn check_fixed_ports(ctx: &mut Ctx, services: &Mapping, name: &str, candidate_name: &str) {
    let ports = |service: &str| -> Vec<(String, u64)> {
        let Some(Value::Mapping(ports)) = services.get(service).and_then(|s| s.get("ports")) else {
            return Vec::new();
        };
        ports
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_u64()?)))
            .filter(|(_, port)| *port != 0)
            .collect()
    };
    let base = ports(name);
    let candidate_at = YamlPath::root()
        .key("stack")
        .key("services")
        .key(candidate_name);
    for (port_name, port) in ports(candidate_name) {
        if base.iter().any(|(_, p)| *p == port) {
            ctx.at_value(
                &candidate_at.key("ports").key(&port_name),
                format!("port {port} is fixed for both the base and the candidate, which run at once"),
            )
            .hint = Some(format!(
                "let perfgate choose it (`{port_name}: 0`), or give the candidate another one in `candidate: {{ ports: ... }}`"
            ));
        }
    }
}

/// A `candidate …` claim needs `compare:`, and `compare:` needs a claim. `assert` is the raw
/// `assert:` list at `assert_at`; `compare_at` is where `compare:` is, when written.
pub(crate) fn check_claims(
    ctx: &mut Ctx,
    assert: &[Value],
    assert_at: &YamlPath,
    compare_at: Option<&YamlPath>,
) {
    let mut claims = 0;
    for (i, item) in assert.iter().enumerate() {
        let Some(parsed) = item
            .get("expect")
            .and_then(Value::as_str)
            .and_then(|text| versus_expectation(text.trim()))
        else {
            continue;
        };
        claims += 1;
        if compare_at.is_none() && parsed.is_ok() {
            ctx.at_value(
                &assert_at.index(i).key("expect"),
                "a `candidate …` expectation needs a `compare:` section",
            )
            .hint = Some(
                "declare the two variants, e.g. `compare: { service: api, candidate: { cpu_factor: 1.2 } }`"
                    .to_owned(),
            );
        }
    }
    if let Some(compare_at) = compare_at
        && claims == 0
    {
        ctx.at_key(compare_at, "nothing compares the two variants").hint = Some(
            "add an assertion with `expect: candidate at most 10% above base`".to_owned(),
        );
    }
}

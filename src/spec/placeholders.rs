//! `{{port.NAME}}` and `{{SERVICE.PORT}}` placeholders in a process's `command` and `env`:
//! validated against the stack here (located diagnostics), expanded by the process backend
//! through [`expand`] once every port is allocated.

use super::decode::Ctx;
use super::diagnostic::backticked;
use super::locate::YamlPath;
use super::model::{ServiceKind, Stack};
use super::services::http_ports;

/// `{{port.NAME}}` must name a port of the same process; `{{service.PORT}}` a port of another.
pub(crate) fn check(ctx: &mut Ctx, stack: &Stack, services_at: &YamlPath) {
    let mut problems = Vec::new();
    for (name, service) in &stack.services {
        let ServiceKind::Process(p) = &service.kind else {
            continue;
        };
        let own: Vec<&str> = p.ports.keys().map(String::as_str).collect();
        let at = services_at.key(name);
        let texts = p
            .command
            .iter()
            .enumerate()
            .map(|(i, arg)| (at.key("command").index(i), arg))
            .chain(p.env.iter().map(|(k, v)| (at.key("env").key(k), v)));
        for (path, text) in texts {
            for (offset, inner) in placeholders(text) {
                let problem = match inner.split_once('.') {
                    Some(("port", port)) if !own.contains(&port) => Some((
                        format!("placeholder names undeclared port `{port}`"),
                        if own.is_empty() {
                            format!("declare it under `ports:`, e.g. `ports: {{ {port}: 0 }}`")
                        } else {
                            format!("ports of `{name}` are {}", backticked(own.iter().copied()))
                        },
                    )),
                    Some(("port", _)) => None,
                    Some((other, port)) => match stack.services.get(other) {
                        None => Some((
                            format!("placeholder names unknown service `{other}`"),
                            format!(
                                "services are {}",
                                backticked(stack.services.keys().map(String::as_str))
                            ),
                        )),
                        Some(s) if !http_ports(s).contains(&port) => Some((
                            format!("placeholder names unknown port `{port}` of service `{other}`"),
                            format!("its ports are {}", backticked(http_ports(s))),
                        )),
                        Some(_) => None,
                    },
                    None => Some((
                        format!("invalid placeholder `{{{{{inner}}}}}`"),
                        "write `{{port.NAME}}` or `{{SERVICE.PORT}}`".to_owned(),
                    )),
                };
                if let Some((message, hint)) = problem {
                    problems.push((
                        path.clone(),
                        offset,
                        inner.chars().count() + 4,
                        message,
                        hint,
                    ));
                }
            }
        }
    }
    for (path, offset, len, message, hint) in problems {
        let start = ctx.index.content_start(&path);
        let d = ctx.at_value(&path, message);
        d.location.line = start.line;
        d.location.column = start.column + offset;
        d.len = len;
        d.hint = Some(hint);
    }
}

/// Every `{{…}}` in `text`: (byte range of the whole placeholder, inner text trimmed).
fn scan(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("{{").map(|i| from + i) {
        let Some(len) = text[start..].find("}}") else {
            break;
        };
        let end = start + len + 2;
        out.push((start..end, text[start + 2..start + len].trim()));
        from = end;
    }
    out
}

/// `{{…}}` placeholders in `text`: (character offset, inner text trimmed).
fn placeholders(text: &str) -> Vec<(usize, &str)> {
    scan(text)
        .into_iter()
        .map(|(range, inner)| (text[..range.start].chars().count(), inner))
        .collect()
}

/// `text` with every placeholder replaced by what `lookup` gives for its inner text
/// (`port.http`, `api.http`); placeholders `lookup` does not know are kept as written.
pub(crate) fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, inner) in scan(text) {
        out.push_str(&text[last..range.start]);
        match lookup(inner) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&text[range.clone()]),
        }
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders() {
        assert_eq!(
            placeholders("--port={{port.http}} x {{ api.http }}"),
            [(7, "port.http"), (23, "api.http")]
        );
        assert_eq!(placeholders("é{{a.b}}"), [(1, "a.b")]);
        assert!(placeholders("no {{ end").is_empty());
    }

    #[test]
    fn expands_known_placeholders_and_keeps_the_rest() {
        let lookup = |inner: &str| match inner {
            "port.http" => Some("8080".to_owned()),
            "api.http" => Some("9000".to_owned()),
            _ => None,
        };
        assert_eq!(
            expand("é:{{port.http}}/{{ api.http }}/{{x.y}}/{{ open", lookup),
            "é:8080/9000/{{x.y}}/{{ open"
        );
    }
}

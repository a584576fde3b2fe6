//! `{{port.NAME}}` and `{{SERVICE.PORT}}` placeholders in a process's `command` and `env`:
//! validated against the stack here (located diagnostics), expanded by the process backend
//! through [`expand`] once every port is allocated.

use super::decode::Ctx;
use super::diagnostic::backticked;
use super::locate::YamlPath;
use super::kinds::ServiceKind;
use super::model::Stack;
use super::stack_info::{StackInfo, http_ports};

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
        at_placeholder(ctx, &path, offset, len, message, hint);
    }
}

/// An error pointing at the placeholder `offset` characters into the string value at `path`.
fn at_placeholder(
    ctx: &mut Ctx,
    path: &YamlPath,
    offset: usize,
    len: usize,
    message: String,
    hint: String,
) {
    let start = ctx.index.content_start(path);
    let d = ctx.at_value(path, message);
    d.location.line = start.line;
    d.location.column = start.column + offset;
    d.len = len;
    d.hint = Some(hint);
}

/// `{{SERVICE}}` placeholders in a URL (a swarm's `url: "{{origin}}/live.m3u8"`) must name a
/// service that answers HTTP; the stack expands them to `http://127.0.0.1:PORT`
/// (`RunningStack::expand_urls`). Returns whether all were valid.
pub(crate) fn check_url_placeholders(
    ctx: &mut Ctx,
    stack: &StackInfo,
    path: &YamlPath,
    text: &str,
) -> bool {
    let mut ok = true;
    let web: Vec<&str> = stack
        .stack
        .services
        .values()
        .filter(|s| !http_ports(s).is_empty())
        .map(|s| s.name.as_str())
        .collect();
    for (offset, inner) in placeholders(text) {
        let len = inner.chars().count() + 4;
        let problem = match stack.stack.services.get(inner) {
            Some(_) if web.contains(&inner) => None,
            Some(_) => Some((
                format!("placeholder names service `{inner}`, which has no HTTP port"),
                format!("services with one are {}", backticked(web.iter().copied())),
            )),
            // Written but invalid: reported already.
            None if stack.names.iter().any(|n| n == inner) => {
                ok = false;
                None
            }
            None => Some((
                format!("placeholder names unknown service `{inner}`"),
                match super::diagnostic::did_you_mean(inner, web.iter().copied()) {
                    Some(best) => format!("did you mean `{{{{{best}}}}}`?"),
                    None => format!(
                        "write `{{{{SERVICE}}}}` with one of {}",
                        backticked(web.iter().copied())
                    ),
                },
            )),
        };
        if let Some((message, hint)) = problem {
            ok = false;
            at_placeholder(ctx, path, offset, len, message, hint);
        }
    }
    ok
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

    use super::super::services::stack;
    use serde_yaml_ng::Value;

    /// Problems of `url` (written at `url:` under the stack) as `line:column message (hint)`.
    fn url_problems(url: &str) -> Vec<String> {
        let source = format!(
            "stack:\n  services:\n    prometheus: {{ kind: prometheus }}\n    origin: {{ kind: ffmpeg-origin }}\n    worker: {{ kind: process, command: [x] }}\nurl: \"{url}\"\n"
        );
        let index = super::super::locate::SourceIndex::build(&source).unwrap();
        let mut ctx = Ctx::new(index);
        let root: Value = serde_yaml_ng::from_str(&source).unwrap();
        let info = stack(&mut ctx, &root["stack"], &YamlPath::root().key("stack"));
        assert!(ctx.diagnostics.is_empty(), "the stack is valid");
        let ok = check_url_placeholders(&mut ctx, &info, &YamlPath::root().key("url"), url);
        assert_eq!(ok, ctx.diagnostics.is_empty());
        ctx.diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{}:{} {} ({})",
                    d.location.line,
                    d.location.column,
                    d.message,
                    d.hint.as_deref().unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn url_placeholders_name_services_that_answer_http() {
        assert!(url_problems("{{origin}}/live.m3u8").is_empty());
        assert!(url_problems("{{ origin }}/live.m3u8").is_empty());
        assert_eq!(
            url_problems("{{origni}}/live.m3u8"),
            ["6:7 placeholder names unknown service `origni` (did you mean `{{origin}}`?)"]
        );
        assert_eq!(
            url_problems("x{{worker}}/a"),
            [
                "6:8 placeholder names service `worker`, which has no HTTP port (services with one are `prometheus`, `origin`)"
            ]
        );
    }
}

//! Values a spec takes from outside itself: a header value or credential written as
//! `{ env: NAME }` (an environment variable) or `{ file: PATH }` (a file's content, relative to
//! the spec's folder, trailing newline dropped) instead of literally. They are read when the
//! spec is validated, so a missing variable or file is a located spec error that names it and
//! never shows a value; such a value's `Debug` shows where it came from, never what it is, so no
//! record, log or message of a run can carry it. `auth:` (bearer or basic) builds the
//! `Authorization` header from such values.

use std::path::PathBuf;

use base64::Engine as _;
use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::locate::YamlPath;

/// Where a secret came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
    /// The `Authorization` header built from `auth:`, whatever its parts' sources.
    Auth,
}

/// A header value: written in the spec, or read from outside it (then kept out of every
/// `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderText {
    text: String,
    secret: Option<SecretSource>,
}

impl HeaderText {
    /// A value written in the spec.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            secret: None,
        }
    }

    /// The value itself, for the request that carries it and nothing else.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The value of environment variable `name`, kept secret (`--bearer-token-env`).
    pub fn from_env(name: &str) -> Result<Self, String> {
        Ok(Self {
            text: read_env(name)?,
            secret: Some(SecretSource::Env(name.to_owned())),
        })
    }

    /// Whether it came from outside the spec (or is a credential): never to be shown.
    pub fn is_secret(&self) -> bool {
        self.secret.is_some()
    }
}

impl std::fmt::Debug for HeaderText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.secret {
            None => write!(f, "{:?}", self.text),
            Some(SecretSource::Env(name)) => write!(f, "<secret from env {name}>"),
            Some(SecretSource::File(path)) => write!(f, "<secret from file {}>", path.display()),
            Some(SecretSource::Auth) => write!(f, "<secret from auth:>"),
        }
    }
}

/// `auth:` of a phase: the `Authorization` header every request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer TOKEN`.
    Bearer(HeaderText),
    /// `Authorization: Basic base64(USER:PASSWORD)`.
    Basic { user: HeaderText, password: HeaderText },
}

impl Auth {
    /// The `Authorization` header's value (secret even when its parts are written in the spec).
    pub fn header(&self) -> HeaderText {
        let text = match self {
            Self::Bearer(token) => format!("Bearer {}", token.text),
            Self::Basic { user, password } => {
                let pair = format!("{}:{}", user.text, password.text);
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
            }
        };
        HeaderText {
            text,
            secret: Some(SecretSource::Auth),
        }
    }
}

/// `auth:` at `at`: `{ bearer: VALUE }` or `{ basic: { user: VALUE, password: VALUE } }`, each
/// VALUE a string, `{ env: NAME }` or `{ file: PATH }`.
pub(crate) fn auth(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<Auth> {
    let one = value.as_mapping().filter(|m| m.len() == 1);
    if let Some(token) = one.and_then(|_| value.get("bearer")) {
        return header_text(ctx, token, &at.key("bearer")).map(Auth::Bearer);
    }
    if let Some(basic) = one.and_then(|_| value.get("basic")) {
        let at = at.key("basic");
        let part = |ctx: &mut Ctx, key: &str| match basic.get(key) {
            Some(v) => header_text(ctx, v, &at.key(key)),
            None => {
                ctx.at_key(&at, format!("`basic` needs `{key}`"));
                None
            }
        };
        let (user, password) = (part(ctx, "user"), part(ctx, "password"));
        return Some(Auth::Basic { user: user?, password: password? });
    }
    ctx.at_value(at, "`auth` is `{ bearer: TOKEN }` or `{ basic: { user: U, password: P } }`").hint =
        Some("each value a string, `{ env: NAME }` or `{ file: PATH }`".to_owned());
    None
}

/// Every header of `written` (at `at`) read by [`header_text`]; `None` when any is invalid
/// (each reported).
pub(crate) fn header_map(
    ctx: &mut Ctx,
    written: &std::collections::BTreeMap<String, Value>,
    at: &YamlPath,
) -> Option<std::collections::BTreeMap<String, HeaderText>> {
    let mut headers = std::collections::BTreeMap::new();
    let mut ok = true;
    for (name, value) in written {
        match header_text(ctx, value, &at.key(name)) {
            Some(text) => {
                headers.insert(name.clone(), text);
            }
            None => ok = false,
        }
    }
    ok.then_some(headers)
}

/// A header value or credential at `at`: a string, or `{ env: NAME }` / `{ file: PATH }` read
/// now (a relative file against the spec's folder).
pub(crate) fn header_text(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<HeaderText> {
    match value {
        Value::String(s) => return Some(HeaderText::plain(s.clone())),
        Value::Number(n) => return Some(HeaderText::plain(n.to_string())),
        Value::Bool(b) => return Some(HeaderText::plain(b.to_string())),
        _ => {}
    }
    let single = value.as_mapping().is_some_and(|m| m.len() == 1);
    let env = value.get("env").and_then(Value::as_str).filter(|_| single);
    let file = value.get("file").and_then(Value::as_str).filter(|_| single);
    let (source, text) = match (env, file) {
        (Some(name), None) => (SecretSource::Env(name.to_owned()), read_env(name)),
        (None, Some(path)) => {
            let path = ctx.spec_dir.join(path);
            let text = read_file(&path);
            (SecretSource::File(path), text)
        }
        _ => {
            ctx.at_value(at, "expected a string, `{ env: NAME }` or `{ file: PATH }`").hint = Some(
                "take a secret from the environment (`{ env: API_TOKEN }`) or a file (`{ file: secrets/token }`)"
                    .to_owned(),
            );
            return None;
        }
    };
    let text = ctx.check(at, text)?;
    Some(HeaderText {
        text,
        secret: Some(source),
    })
}

fn read_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| {
        format!("environment variable `{name}` is not set (hint: export it before the run; its value is never shown)")
    })
}

/// The file's content without its trailing newline.
fn read_file(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|t| t.trim_end_matches(['\n', '\r']).to_owned())
        .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::{PhaseKind, parse};

    /// A spec in `dir` whose one request carries `headers` and whose phase has `auth`.
    fn spec(dir: &Path, headers: &str, auth: &str) -> Result<crate::spec::Spec, Vec<String>> {
        let source = format!(
            "stack:\n  services:\n    api: {{ kind: demo-api }}\nload:\n  - phase: p\n    http:\n      target: api\n      rate: 1/s\n      duration: 1s\n      mix: [ {{ get: /, headers: {headers} }} ]\n{auth}"
        );
        parse(&source, &dir.join("s.yaml"))
            .map_err(|e| e.diagnostics().iter().map(|d| format!("{}:{} {}", d.location.line, d.location.column, d.message)).collect())
    }

    fn first(spec: &crate::spec::Spec) -> &crate::spec::HttpPhase {
        match &spec.phases[0].kind {
            PhaseKind::Http(h) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_are_read_from_the_environment_and_files_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "s3cr3t-from-file\n").unwrap();
        let spec = spec(
            dir.path(),
            "{ X-Path: { env: PATH }, X-Token: { file: token }, X-Org: tenant-a }",
            "      auth: { basic: { user: alice, password: { file: token } } }\n",
        )
        .expect("valid");
        let http = first(&spec);
        let headers = &http.mix[0].headers;
        assert_eq!(headers["X-Path"].expose(), std::env::var("PATH").unwrap());
        assert_eq!(headers["X-Token"].expose(), "s3cr3t-from-file");
        assert_eq!(headers["X-Org"].expose(), "tenant-a");
        let auth = http.auth.as_ref().unwrap().header();
        // base64("alice:s3cr3t-from-file")
        assert_eq!(auth.expose(), "Basic YWxpY2U6czNjcjN0LWZyb20tZmlsZQ==");
        let shown = format!("{spec:?}{auth:?}");
        for secret in ["s3cr3t-from-file", "YWxpY2U6", &std::env::var("PATH").unwrap()] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("<secret from env PATH>") && shown.contains("\"tenant-a\""), "{shown}");
    }

    #[test]
    fn a_missing_variable_or_file_is_named_and_a_wrong_shape_explained() {
        let dir = tempfile::tempdir().unwrap();
        let errors = spec(
            dir.path(),
            "{ A: { env: PERFGATE_TEST_NEVER_SET_42 }, B: { file: nope }, C: { vault: x } }",
            "      auth: { token: x }\n",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].ends_with("environment variable `PERFGATE_TEST_NEVER_SET_42` is not set"), "{errors:?}");
        assert!(errors[1].contains("cannot read the secret file") && errors[1].contains("nope"), "{errors:?}");
        assert!(errors[2].ends_with("expected a string, `{ env: NAME }` or `{ file: PATH }`"), "{errors:?}");
        assert!(errors[3].ends_with("`auth` is `{ bearer: TOKEN }` or `{ basic: { user: U, password: P } }`"), "{errors:?}");
    }
}

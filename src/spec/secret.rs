//! Values a spec takes from outside itself: a header value or credential written as
//! `{ env: NAME }` (an environment variable) or `{ file: PATH }` (a file's content, relative to
//! the spec's folder, trailing newline dropped) instead of literally. They are read when the
//! spec is validated, so a missing variable or file is a located spec error that names it and
//! never shows a value; such a value's `Debug` shows where it came from, never what it is, so no
//! record, log or message of a run can carry it. `auth:` (bearer or basic) builds the
//! `Authorization` header from such values.

use base64::Engine as _;
use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::locate::YamlPath;
pub use super::sensitive::{HeaderText, SecretSource};
use super::sensitive::read_env;

/// `auth:` of a phase: the `Authorization` header every request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `Authorization: Bearer TOKEN`.
    Bearer(HeaderText),
    /// `Authorization: Basic base64(USER:PASSWORD)`.
    Basic { user: HeaderText, password: HeaderText },
    /// `Authorization: Bearer JWT`, minted from the spec's claims and renewed before it
    /// expires.
    Jwt(super::jwt::Jwt),
}

impl Auth {
    /// The `Authorization` header's value now (secret even when its parts are written in the
    /// spec); a JWT is minted for it.
    pub fn header(&self) -> Result<HeaderText, String> {
        let text = match self {
            Self::Bearer(token) => format!("Bearer {}", token.expose()),
            Self::Basic { user, password } => {
                let pair = format!("{}:{}", user.expose(), password.expose());
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
            }
            Self::Jwt(jwt) => {
                let now = super::jwt::unix_seconds(std::time::SystemTime::now());
                format!("Bearer {}", jwt.mint(now)?)
            }
        };
        Ok(HeaderText::secret(text, SecretSource::Auth))
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
    if let Some(jwt) = one.and_then(|_| value.get("jwt")) {
        return jwt_auth(ctx, jwt, &at.key("jwt")).map(Auth::Jwt);
    }
    ctx.at_value(at, "`auth` is `{ bearer: TOKEN }`, `{ basic: { user: U, password: P } }` or `{ jwt: { key: K, claims: { … } } }`").hint =
        Some("each value a string, `{ env: NAME }` or `{ file: PATH }`".to_owned());
    None
}

/// `jwt:` of `auth:`: `key` (a value, usually `{ env: … }` or `{ file: … }`), `algorithm`
/// (`HS256`, default, or `RS256`), `claims` (a map), `expires_in` (default `5m`); the key is
/// checked now.
fn jwt_auth(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<super::jwt::Jwt> {
    use super::jwt::{Jwt, JwtAlgorithm};
    let raw = ctx.de::<RawJwt>(value, at)?;
    let key = header_text(ctx, &raw.key, &at.key("key"));
    let algorithm = match raw.algorithm.as_deref() {
        None | Some("HS256") => Some(JwtAlgorithm::Hs256),
        Some("RS256") => Some(JwtAlgorithm::Rs256),
        Some(other) => {
            ctx.unknown_name(&at.key("algorithm"), "JWT algorithm", other, &["HS256", "RS256"]);
            None
        }
    };
    let expires_in = ctx.optional_duration(
        &at.key("expires_in"),
        raw.expires_in.as_ref().map(|t| t.0.as_str()),
        std::time::Duration::from_secs(300),
    );
    let jwt = Jwt {
        key: key?,
        algorithm: algorithm?,
        claims: raw.claims,
        expires_in: expires_in?,
    };
    ctx.check(&at.key("key"), jwt.check_key())?;
    Some(jwt)
}

/// `jwt:` as written.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJwt {
    key: Value,
    algorithm: Option<String>,
    #[serde(default)]
    claims: serde_json::Map<String, serde_json::Value>,
    expires_in: Option<super::raw::Text>,
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
    Some(HeaderText::secret(text, source))
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

    use base64::Engine as _;

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
        let auth = http.auth.as_ref().unwrap().header().unwrap();
        // base64("alice:s3cr3t-from-file")
        assert_eq!(auth.expose(), "Basic YWxpY2U6czNjcjN0LWZyb20tZmlsZQ==");
        let shown = format!("{spec:?}{auth:?}");
        for secret in ["s3cr3t-from-file", "YWxpY2U6", &std::env::var("PATH").unwrap()] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("<secret from env PATH>") && shown.contains("\"tenant-a\""), "{shown}");
    }

    #[test]
    fn a_jwt_is_minted_with_the_written_claims_and_a_key_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("jwt.key"), "hs-secret\n").unwrap();
        let parsed = spec(
            dir.path(),
            "{}",
            "      auth: { jwt: { key: { file: jwt.key }, claims: { tenant: b, scope: [read] }, expires_in: 1m } }\n",
        )
        .expect("valid");
        let header = first(&parsed).auth.as_ref().unwrap().header().unwrap();
        let token = header.expose().strip_prefix("Bearer ").unwrap();
        let claims = token.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap(),
        )
        .unwrap();
        assert_eq!((claims["tenant"].as_str(), claims["scope"][0].as_str()), (Some("b"), Some("read")));
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 60);
        assert!(!format!("{parsed:?}").contains("hs-secret"));
        let bad = spec(dir.path(), "{}", "      auth: { jwt: { key: k, algorithm: ES256 } }\n").unwrap_err();
        assert!(bad[0].ends_with("unknown JWT algorithm `ES256`"), "{bad:?}");
        let rs = spec(dir.path(), "{}", "      auth: { jwt: { key: { file: jwt.key }, algorithm: RS256 } }\n").unwrap_err();
        assert!(rs[0].contains("not a PEM `PRIVATE KEY`") && !rs[0].contains("hs-secret"), "{rs:?}");
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
        assert!(errors[3].contains("`auth` is `{ bearer: TOKEN }`"), "{errors:?}");
    }
}

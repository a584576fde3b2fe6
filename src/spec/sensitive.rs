//! A header value that may be a secret: written in the spec, or read from outside it (then
//! its `Debug` shows only where it came from). `secret` reads such values and builds
//! credentials from them.

use std::path::PathBuf;

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

    /// A value read from `source`, never to be shown.
    pub(crate) fn secret(text: String, source: SecretSource) -> Self {
        Self {
            text,
            secret: Some(source),
        }
    }

    /// The value of environment variable `name`, kept secret (`--bearer-token-env`).
    pub fn from_env(name: &str) -> Result<Self, String> {
        Ok(Self::secret(read_env(name)?, SecretSource::Env(name.to_owned())))
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

/// The value of environment variable `name`; the error names it, never a value.
pub(crate) fn read_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| {
        format!("environment variable `{name}` is not set (hint: export it before the run; its value is never shown)")
    })
}

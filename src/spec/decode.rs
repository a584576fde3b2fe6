//! Deserializing one spec item at a time and turning serde's errors into located diagnostics.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use serde_yaml_ng::Value;

use super::diagnostic::{Diagnostic, backticked, did_you_mean};
use super::locate::{Seg, SourceIndex, Span, YamlPath};
use super::units::Rate;
use super::units;

/// Most serde errors reported for one item before giving up on it.
const MAX_ERRORS_PER_ITEM: usize = 16;

/// Collects the diagnostics of one spec while it is validated.
pub(crate) struct Ctx {
    pub(crate) index: SourceIndex,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The spec file's folder: what relative paths in it (secret files) are read against.
    pub(crate) spec_dir: std::path::PathBuf,
}

enum Pointer {
    Key,
    Value,
}

impl Ctx {
    pub(crate) fn new(index: SourceIndex) -> Self {
        Self {
            index,
            diagnostics: Vec::new(),
            spec_dir: std::path::PathBuf::from("."),
        }
    }

    /// Deserializes the item at `at`. On an error that names a key, the key is dropped and the
    /// item read again, so every unknown or mistyped key of the item is reported. The value is
    /// returned only when the sole problems were unknown keys (which change nothing).
    pub(crate) fn de<T: DeserializeOwned>(&mut self, value: &Value, at: &YamlPath) -> Option<T> {
        let mut working = value.clone();
        let mut pruned: Vec<YamlPath> = Vec::new();
        // Fields that a dropped unknown key was probably a typo of (`rtae` → `rate`).
        let mut meant: Vec<YamlPath> = Vec::new();
        let mut only_unknown = true;
        for _ in 0..MAX_ERRORS_PER_ITEM {
            let err = match serde_path_to_error::deserialize::<_, T>(working.clone()) {
                Ok(item) => return only_unknown.then_some(item),
                Err(err) => err,
            };
            let rel = relative_path(err.path());
            let message = tidy(&err.inner().to_string());
            if let Some(field) = backticked_word(&message, "missing field ") {
                // Dropping a mistyped required key makes it "missing": already reported.
                if pruned.contains(&rel.key(field)) || meant.contains(&rel.key(field)) {
                    return None;
                }
            }
            let unknown = message.starts_with("unknown field ");
            only_unknown &= unknown;
            self.serde_error(&at.join(&rel), &message);
            if let (true, Some((Seg::Key(key), parent))) = (unknown, rel.0.split_last()) {
                let candidates = backticked_words(&message).into_iter().skip(1);
                if let Some(best) = did_you_mean(key, candidates) {
                    meant.push(YamlPath(parent.to_vec()).key(best));
                }
            }
            match rel.0.last() {
                Some(Seg::Key(_)) if remove(&mut working, &rel) => pruned.push(rel),
                _ => return None,
            }
        }
        None
    }

    fn serde_error(&mut self, path: &YamlPath, message: &str) {
        let (pointer, word) = if let Some(w) = backticked_word(message, "unknown field ") {
            (Pointer::Key, Some(w))
        } else if let Some(w) = backticked_word(message, "unknown variant ") {
            (Pointer::Value, Some(w))
        } else if message.starts_with("missing field ") {
            (Pointer::Key, None)
        } else {
            (Pointer::Value, None)
        };
        let span = match pointer {
            Pointer::Key => self.index.key(path),
            Pointer::Value => self.index.value_or_key(path),
        };
        let mut d = Diagnostic::new(span.location, span.len, message);
        if let Some(word) = word {
            let candidates = backticked_words(message).into_iter().skip(1);
            if let Some(best) = did_you_mean(word, candidates) {
                d = d.with_hint(format!("did you mean `{best}`?"));
            }
        }
        self.diagnostics.push(d);
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// An error pointing at the value at `path` (a scalar, or the key owning a collection).
    pub(crate) fn at_value(
        &mut self,
        path: &YamlPath,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let span = self.index.value_or_key(path);
        self.at(span, message)
    }

    /// An error pointing at the key naming `path`.
    pub(crate) fn at_key(
        &mut self,
        path: &YamlPath,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let span = self.index.key(path);
        self.at(span, message)
    }

    fn at(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let message = message.into();
        self.diagnostics
            .push(Diagnostic::split_hint(span.location, span.len, &message));
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }

    /// A unit-parsing result, reported at `path` when it failed.
    pub(crate) fn check<T>(&mut self, path: &YamlPath, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.at_value(path, e)).ok()
    }

    /// A duration that must be greater than zero.
    pub(crate) fn duration(&mut self, path: &YamlPath, text: &str) -> Option<Duration> {
        let d = self.check(path, units::parse_duration(text))?;
        if d.is_zero() {
            self.at_value(
                path,
                format!("`{}` must be longer than zero", key_name(path)),
            );
            return None;
        }
        Some(d)
    }

    pub(crate) fn optional_duration(
        &mut self,
        path: &YamlPath,
        text: Option<&str>,
        default: Duration,
    ) -> Option<Duration> {
        match text {
            Some(text) => self.duration(path, text),
            None => Some(default),
        }
    }

    pub(crate) fn rate(&mut self, path: &YamlPath, text: &str) -> Option<Rate> {
        self.check(path, units::parse_rate(text))
    }

    /// Reports `word` as not one of `known` at `path`, with a did-you-mean or the full list.
    pub(crate) fn unknown_name(&mut self, path: &YamlPath, what: &str, word: &str, known: &[&str]) {
        let hint = match did_you_mean(word, known.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None if known.is_empty() => format!("no {what} is defined"),
            None => format!("expected one of {}", backticked(known.iter().copied())),
        };
        self.at_value(path, format!("unknown {what} `{word}`")).hint = Some(hint);
    }
}

pub(crate) fn key_name(path: &YamlPath) -> String {
    match path.0.last() {
        Some(Seg::Key(k)) => k.clone(),
        _ => path.to_string(),
    }
}

fn relative_path(path: &serde_path_to_error::Path) -> YamlPath {
    let segs = path
        .iter()
        .filter_map(|seg| match seg {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect();
    YamlPath(segs)
}

/// Removes the entry at `path` from `value`; false when there is no such entry.
fn remove(value: &mut Value, path: &YamlPath) -> bool {
    let Some((Seg::Key(last), parents)) = path.0.split_last() else {
        return false;
    };
    let mut current = value;
    for seg in parents {
        let next = match (seg, current) {
            (Seg::Key(k), Value::Mapping(m)) => m.get_mut(k.as_str()),
            (Seg::Index(i), Value::Sequence(s)) => s.get_mut(*i),
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => return false,
        }
    }
    match current {
        Value::Mapping(m) => m.shift_remove(last.as_str()).is_some(),
        _ => false,
    }
}

/// Serde's messages with the raw shapes' Rust names replaced by what a user wrote.
fn tidy(message: &str) -> String {
    let mut out = message.to_owned();
    while let Some(start) = out.find("struct Raw") {
        let name_start = start + "struct ".len();
        let len = out[name_start..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .count();
        out.replace_range(start..name_start + len, "a mapping");
    }
    for (from, to) in [
        ("expected u16", "expected a port number from 0 to 65535"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("enum RawSeriesMode", "`aggregate` or `each series`"),
        ("enum RawEvalMode", "`at end` or `throughout`"),
        ("enum RawBackend", "`auto`, `process` or `docker`"),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// The word in backticks right after `prefix`, if `message` starts with it.
fn backticked_word<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(word, _)| word)
}

fn backticked_words(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case(
        "invalid type: string \"x\", expected struct RawPhase",
        "invalid type: string \"x\", expected a mapping"
    )]
    #[case(
        "invalid type: map, expected enum RawEvalMode",
        "invalid type: map, expected `at end` or `throughout`"
    )]
    #[case("unknown field `a`", "unknown field `a`")]
    fn tidies(#[case] message: &str, #[case] expected: &str) {
        assert_eq!(tidy(message), expected);
    }

    #[test]
    fn words() {
        let m = "unknown field `rtae`, expected one of `target`, `rate`";
        assert_eq!(backticked_word(m, "unknown field "), Some("rtae"));
        assert_eq!(backticked_words(m), ["rtae", "target", "rate"]);
    }
}

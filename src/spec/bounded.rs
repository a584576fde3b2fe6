//! What a spec may be before it is parsed: at most [`MAX_SPEC_BYTES`] read (a wrong path such
//! as `/dev/zero` is refused, not read until memory runs out) and flow collections nested at
//! most [`MAX_NESTING`] deep (the YAML parser is quadratic in nesting: a 200 KB `[[[…]]]` took
//! a minute to reject).

use std::io::Read;
use std::path::Path;

use super::diagnostic::{Diagnostic, SpecError};
use super::model::Location;

/// A spec is a short YAML file; a longer file is not read.
pub const MAX_SPEC_BYTES: u64 = 1 << 20;
/// `[…]` and `{…}` nested deeper than this are refused before parsing.
pub const MAX_NESTING: usize = 64;

/// The text of the spec at `path`, read up to [`MAX_SPEC_BYTES`].
pub(crate) fn read(path: &Path) -> Result<String, SpecError> {
    let refuse = |message: String, hint: Option<String>| {
        let mut d = Diagnostic::new(Location::default(), 1, message);
        d.hint = hint;
        SpecError::new(path, "", vec![d])
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| refuse(format!("cannot read spec: {e}"), None))?;
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(refuse(
            format!(
                "cannot read spec: it is larger than {} MiB",
                MAX_SPEC_BYTES >> 20
            ),
            Some(format!(
                "a spec is a short YAML file; is `{}` the right path?",
                path.display()
            )),
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        refuse(
            "cannot read spec: stream did not contain valid UTF-8".into(),
            None,
        )
    })
}

/// Where `[`/`{` first nest deeper than [`MAX_NESTING`] outside quoted strings and comments, as
/// a located problem.
pub(crate) fn too_deep(source: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (index, line) in source.lines().enumerate() {
        let mut quote = None;
        for (column, c) in line.chars().enumerate() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                let at = Location {
                    line: index + 1,
                    column: column + 1,
                };
                return Some(
                    Diagnostic::new(
                        at,
                        1,
                        format!("collections nested deeper than {MAX_NESTING} levels"),
                    )
                    .with_hint("a spec nests a few levels; is this a generated file?"),
                );
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_end_is_refused_after_the_limit() {
        let err = read(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(err.contains("larger than 1 MiB"), "{err}");
        assert!(err.contains("is `/dev/zero` the right path?"), "{err}");
    }

    #[test]
    fn deep_flow_nesting_is_located_where_it_goes_too_deep() {
        let deep = format!("load: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let d = too_deep(&deep).expect("refused");
        assert_eq!(d.location.line, 1);
        assert_eq!(d.location.column, "load: ".len() + MAX_NESTING + 1);
    }

    #[test]
    fn brackets_in_quotes_comments_and_queries_do_not_count() {
        let spec = format!(
            "query: rate(x{{a=\"b\"}}[5m])\nname: \"{}\"\n# {}\nv: '{}'\n",
            "[".repeat(200),
            "{".repeat(200),
            "[".repeat(200)
        );
        assert!(too_deep(&spec).is_none());
    }
}

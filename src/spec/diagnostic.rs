//! Located spec problems and their rustc-like rendering (`error:`, `-->`, source line, caret, hint).

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A 1-based position in a spec file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One problem in a spec file, pointing at the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based position of the first offending character; line 0 means "the file as a whole".
    pub location: Location,
    /// Caret width in characters (at least 1).
    pub len: usize,
    /// Lowercase, names the thing: ``unknown service `apii` ``.
    pub message: String,
    /// A fix, rendered as `= hint: …`.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(location: Location, len: usize, message: impl Into<String>) -> Self {
        Self {
            location,
            len: len.max(1),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Like [`Diagnostic::new`], moving a trailing `(hint: …)` of `message` into the hint.
    pub(crate) fn split_hint(location: Location, len: usize, message: &str) -> Self {
        match message
            .strip_suffix(')')
            .and_then(|m| m.rsplit_once(" (hint: "))
        {
            Some((message, hint)) => Self::new(location, len, message).with_hint(hint),
            None => Self::new(location, len, message),
        }
    }
}

/// A spec that could not be loaded: every problem found, with the text they point into.
#[derive(Debug, Clone, Error)]
#[error("{}", render(.path, .text, .diagnostics))]
pub struct SpecError {
    path: PathBuf,
    text: String,
    diagnostics: Vec<Diagnostic>,
}

impl SpecError {
    /// `path` is shown as given; `text` is the file's content (empty when it could not be read).
    pub fn new(
        path: impl Into<PathBuf>,
        text: impl Into<String>,
        diagnostics: Vec<Diagnostic>,
    ) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            diagnostics,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn source_text(&self) -> &str {
        &self.text
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

fn render(path: &Path, text: &str, diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let width = diagnostics
        .iter()
        .map(|d| d.location.line.to_string().len())
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(
            out,
            "{}",
            DiagnosticView {
                path,
                lines: &lines,
                width,
                d
            }
        );
    }
    if diagnostics.len() > 1 {
        let _ = write!(
            out,
            "\n{} problems in {}",
            diagnostics.len(),
            path.display()
        );
    }
    out
}

struct DiagnosticView<'a> {
    path: &'a Path,
    lines: &'a [&'a str],
    width: usize,
    d: &'a Diagnostic,
}

impl fmt::Display for DiagnosticView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            path,
            lines,
            width,
            d,
        } = self;
        let Location { line, column } = d.location;
        writeln!(f, "error: {}", d.message)?;
        let pad = " ".repeat(*width);
        let source_line = line.checked_sub(1).and_then(|i| lines.get(i));
        match source_line {
            Some(whole) => {
                writeln!(f, "{pad}--> {}:{line}:{column}", path.display())?;
                writeln!(f, "{pad} |")?;
                let (text, start) = clip(whole, column.saturating_sub(1));
                writeln!(f, "{line:>width$} | {text}")?;
                let chars = text.chars().count();
                let start = start.min(chars);
                let len = d.len.min(chars.saturating_sub(start)).max(1);
                let indent: String = text
                    .chars()
                    .take(start)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                writeln!(f, "{pad} | {indent}{}", "^".repeat(len))?;
            }
            None => writeln!(f, "{pad}--> {}", path.display())?,
        }
        if let Some(hint) = &d.hint {
            writeln!(f, "{pad} = hint: {hint}")?;
        }
        Ok(())
    }
}

/// Characters of a source line shown around the caret: a line longer than this (a minified or
/// generated spec) is cut to a window, marked `…` where cut.
const SHOWN_CHARS: usize = 120;

/// `line` cut to [`SHOWN_CHARS`] around the character at `at`, and where `at` is in the cut.
fn clip(line: &str, at: usize) -> (String, usize) {
    let chars = line.chars().count();
    if chars <= SHOWN_CHARS {
        return (line.to_owned(), at);
    }
    let first = at.saturating_sub(SHOWN_CHARS / 2).min(chars - SHOWN_CHARS);
    let mut shown: String = line.chars().skip(first).take(SHOWN_CHARS).collect();
    if first + SHOWN_CHARS < chars {
        shown.push('…');
    }
    if first == 0 {
        return (shown, at);
    }
    (format!("…{shown}"), at - first + 1)
}

/// The candidate closest to `word` by edit distance (a swap counts once), if close enough to be
/// a plausible typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = match word.chars().count() {
        0..=3 => 1,
        n => (n / 3).max(2),
    };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// `` `a`, `b`, `c` `` for messages and hints.
pub(crate) fn backticked<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use indoc::indoc;
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("rtae", &["target", "rate", "ramp"], Some("rate"))]
    #[case("promethus", &["prometheus", "demo-api", "process"], Some("prometheus"))]
    #[case("gte", &["get", "post"], Some("get"))]
    #[case("colour", &["target", "rate"], None)]
    #[case("x", &["get", "put"], None)]
    fn suggestions(
        #[case] word: &str,
        #[case] candidates: &[&str],
        #[case] expected: Option<&str>,
    ) {
        assert_eq!(did_you_mean(word, candidates.iter().copied()), expected);
    }

    #[test]
    fn a_long_line_is_shown_cut_around_the_caret() {
        let text = format!("{}x{}", "[".repeat(5000), "]".repeat(5000));
        let d = Diagnostic::new(Location { line: 1, column: 5001 }, 1, "here");
        let shown = render(Path::new("s.yaml"), &text, &[d]);
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines.iter().all(|l| l.chars().count() < 140), "{shown}");
        let source = lines[3].split(" | ").nth(1).unwrap();
        let caret = lines[4].split(" | ").nth(1).unwrap();
        let at = caret.chars().position(|c| c == '^').unwrap();
        assert_eq!(source.chars().nth(at), Some('x'), "{shown}");
        assert!(source.starts_with('…') && source.ends_with('…'), "{shown}");
    }

    #[test]
    fn renders_every_diagnostic_with_caret_and_hint() {
        let text = "a: 1\nload:\n  - phase: x\n    rtae: 200/s\n";
        let err = SpecError::new(
            "spec.yaml",
            text,
            vec![
                Diagnostic::new(Location { line: 4, column: 5 }, 4, "unknown field `rtae`")
                    .with_hint("did you mean `rate`?"),
                Diagnostic::new(
                    Location { line: 1, column: 4 },
                    99,
                    "too wide caret is clipped",
                ),
                Diagnostic::new(Location::default(), 1, "cannot read spec"),
            ],
        );
        let expected = indoc! {"
            error: unknown field `rtae`
             --> spec.yaml:4:5
              |
            4 |     rtae: 200/s
              |     ^^^^
              = hint: did you mean `rate`?

            error: too wide caret is clipped
             --> spec.yaml:1:4
              |
            1 | a: 1
              |    ^

            error: cannot read spec
             --> spec.yaml

            3 problems in spec.yaml"};
        assert_eq!(err.to_string(), expected);
    }

    #[rstest]
    #[case("bad (hint: do this)", "bad", Some("do this"))]
    #[case("just bad", "just bad", None)]
    fn hints_are_split(#[case] message: &str, #[case] expected: &str, #[case] hint: Option<&str>) {
        let d = Diagnostic::split_hint(Location::default(), 1, message);
        assert_eq!((d.message.as_str(), d.hint.as_deref()), (expected, hint));
    }
}

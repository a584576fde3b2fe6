//! Source positions of a YAML document: a path (`load[1].http.rate`) → where its key and value sit.
//!
//! serde (and especially internally tagged enums) loses positions, so the spec is deserialized
//! from a position-less value and every problem is located afterwards by its path in this index,
//! built from yaml-rust2's marked events.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::diagnostic::Location;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A path from the document root; renders as `load[1].http.rate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct YamlPath(pub(crate) Vec<Seg>);

impl YamlPath {
    pub(crate) fn root() -> Self {
        Self::default()
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_owned()));
        Self(segs)
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        Self(segs)
    }

    pub(crate) fn join(&self, other: &YamlPath) -> Self {
        let mut segs = self.0.clone();
        segs.extend(other.0.iter().cloned());
        Self(segs)
    }

    /// The rest of this path below `prefix`, when it lies there.
    fn below(&self, prefix: &YamlPath) -> Option<YamlPath> {
        self.0
            .strip_prefix(prefix.0.as_slice())
            .map(|rest| Self(rest.to_vec()))
    }

    fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_last()?;
        Some(Self(rest.to_vec()))
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A located stretch of source text on one line (the caret under it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) location: Location,
    /// Width in characters, at least 1.
    pub(crate) len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueShape {
    Scalar(TScalarStyle),
    Collection,
    Alias,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Option<Span>,
    value: Span,
    shape: ValueShape,
}

/// Path → position index of one YAML document.
#[derive(Debug, Default)]
pub(crate) struct SourceIndex {
    entries: HashMap<YamlPath, Entry>,
    /// Keys written twice in one mapping: (second occurrence, key, line of the first).
    pub(crate) duplicates: Vec<(Span, String, usize)>,
}

impl SourceIndex {
    /// Indexes `source`; a syntax error is returned with its position.
    pub(crate) fn build(source: &str) -> Result<Self, (Location, String)> {
        let lines: Vec<String> = source.lines().map(str::to_owned).collect();
        let mut builder = Builder {
            lines: &lines,
            stack: Vec::new(),
            entries: HashMap::new(),
            documents: 0,
            duplicates: Vec::new(),
        };
        let mut parser = Parser::new_from_str(source);
        parser.load(&mut builder, true).map_err(|e| {
            let m = e.marker();
            (to_location(m), e.info().to_owned())
        })?;
        let (entries, duplicates) = (builder.entries, builder.duplicates);
        Ok(Self {
            entries,
            duplicates,
        })
    }

    /// Span of the value at `path`, or of its nearest indexed ancestor (aliases, merges).
    pub(crate) fn value(&self, path: &YamlPath) -> Span {
        match self.nearest(path) {
            Some(e) => e.value,
            None => self.start(),
        }
    }

    /// Span of the key naming `path` (falls back to the value, then to ancestors).
    pub(crate) fn key(&self, path: &YamlPath) -> Span {
        match self.nearest(path) {
            Some(e) => e.key.unwrap_or(e.value),
            None => self.start(),
        }
    }

    /// Where a problem with the value at `path` is best shown: the scalar itself, or the key
    /// owning a mapping or sequence.
    pub(crate) fn value_or_key(&self, path: &YamlPath) -> Span {
        match self.nearest(path) {
            Some(e) if matches!(e.shape, ValueShape::Scalar(_)) => e.value,
            Some(e) => e.key.unwrap_or(e.value),
            None => self.start(),
        }
    }

    /// Position of the first character of the scalar's content at `path`: after the opening quote
    /// of a quoted scalar; yaml-rust2 already marks block scalars (`|`, `>`) at their first
    /// content character.
    pub(crate) fn content_start(&self, path: &YamlPath) -> Location {
        let Some(entry) = self.entries.get(path) else {
            return self.value(path).location;
        };
        let loc = entry.value.location;
        match entry.shape {
            ValueShape::Scalar(TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted) => {
                Location {
                    line: loc.line,
                    column: loc.column + 1,
                }
            }
            _ => loc,
        }
    }

    /// Makes the positions written under `from` answer for the paths under `to`, replacing what
    /// `to` had: a section validated somewhere else than where it is written (the services
    /// `compare:` builds) is reported where it is written.
    pub(crate) fn alias(&mut self, from: &YamlPath, to: &YamlPath) {
        let copies: Vec<(YamlPath, Entry)> = self
            .entries
            .iter()
            .filter_map(|(path, entry)| Some((to.join(&path.below(from)?), *entry)))
            .collect();
        self.entries.retain(|path, _| path.below(to).is_none());
        self.entries.extend(copies);
    }

    fn nearest(&self, path: &YamlPath) -> Option<&Entry> {
        let mut current = Some(path.clone());
        while let Some(p) = current {
            if let Some(e) = self.entries.get(&p) {
                return Some(e);
            }
            current = p.parent();
        }
        None
    }

    fn start(&self) -> Span {
        Span {
            location: Location { line: 1, column: 1 },
            len: 1,
        }
    }
}

fn to_location(m: &Marker) -> Location {
    Location {
        line: m.line().max(1),
        column: m.col() + 1,
    }
}

enum Frame {
    Map {
        path: YamlPath,
        pending_key: Option<(Option<String>, Span)>,
        first: bool,
        /// Keys seen so far, with their line.
        seen: HashMap<String, usize>,
    },
    Seq {
        path: YamlPath,
        next: usize,
        first: bool,
    },
}

struct Builder<'a> {
    lines: &'a [String],
    stack: Vec<Frame>,
    entries: HashMap<YamlPath, Entry>,
    documents: usize,
    duplicates: Vec<(Span, String, usize)>,
}

impl Builder<'_> {
    /// Width of a scalar as written: the rest of its line at most.
    fn scalar_len(&self, at: Location, value: &str, style: TScalarStyle) -> usize {
        let rest: Vec<char> = self
            .line_rest(at)
            .map(|r| r.chars().collect())
            .unwrap_or_default();
        let len = match style {
            TScalarStyle::Plain => value.chars().count(),
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                closing_quote(&rest).map_or(rest.len(), |end| end + 1)
            }
            _ => 1,
        };
        len.min(rest.len()).max(1)
    }

    fn line_rest(&self, at: Location) -> Option<&str> {
        let line = self.lines.get(at.line.checked_sub(1)?)?;
        let start = line
            .char_indices()
            .nth(at.column - 1)
            .map_or(line.len(), |(i, _)| i);
        Some(&line[start..])
    }

    /// Records a node starting at `mark`; returns its path when it is a value (not a key).
    fn node(&mut self, span: Span, shape: ValueShape, key_text: Option<&str>) -> Option<YamlPath> {
        // yaml-rust2 marks a block collection one column late; its first child is exact.
        if let Some(
            Frame::Map {
                path, first: true, ..
            }
            | Frame::Seq {
                path, first: true, ..
            },
        ) = self.stack.last()
            && let Some(entry) = self.entries.get_mut(path)
        {
            entry.value = Span {
                location: span.location,
                len: 1,
            };
        }
        match self.stack.last_mut() {
            Some(Frame::Map { first, .. } | Frame::Seq { first, .. }) => *first = false,
            None => {}
        }
        let (path, key) = match self.stack.last_mut() {
            None => (YamlPath::root(), None),
            Some(Frame::Seq { path, next, .. }) => {
                let p = path.index(*next);
                *next += 1;
                (p, None)
            }
            Some(Frame::Map {
                path,
                pending_key,
                seen,
                ..
            }) => match pending_key.take() {
                None => {
                    if let Some(key) = key_text {
                        match seen.get(key) {
                            Some(first) => {
                                self.duplicates.push((span, key.to_owned(), *first));
                            }
                            None => {
                                seen.insert(key.to_owned(), span.location.line);
                            }
                        }
                    }
                    *pending_key = Some((key_text.map(str::to_owned), span));
                    return None;
                }
                Some((Some(k), key_span)) => (path.key(&k), Some(key_span)),
                // A complex (non-scalar) key: its value cannot be addressed by a path.
                Some((None, _)) => return Some(YamlPath(vec![Seg::Key(String::new())])),
            },
        };
        if self.documents <= 1 {
            self.entries.entry(path.clone()).or_insert(Entry {
                key,
                value: span,
                shape,
            });
        }
        Some(path)
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = to_location(&mark);
        match ev {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(value, style, _, _) => {
                let span = Span {
                    location: at,
                    len: self.scalar_len(at, &value, style),
                };
                self.node(span, ValueShape::Scalar(style), Some(&value));
            }
            Event::Alias(_) => {
                let span = Span {
                    location: at,
                    len: 1,
                };
                self.node(span, ValueShape::Alias, None);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let span = Span {
                    location: at,
                    len: 1,
                };
                let path = self.node(span, ValueShape::Collection, None);
                let path = path.unwrap_or_else(|| YamlPath(vec![Seg::Key(String::new())]));
                self.stack.push(if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map {
                        path,
                        pending_key: None,
                        first: true,
                        seen: HashMap::new(),
                    }
                } else {
                    Frame::Seq {
                        path,
                        next: 0,
                        first: true,
                    }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// Index of the closing quote in `text` (which starts with the opening one).
fn closing_quote(text: &[char]) -> Option<usize> {
    let quote = *text.first()?;
    let mut i = 1;
    while i < text.len() {
        match text[i] {
            '\\' if quote == '"' => i += 2,
            '\'' if quote == '\'' && text.get(i + 1) == Some(&'\'') => i += 2,
            c if c == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use indoc::indoc;
    use rstest::rstest;

    use super::*;

    const DOC: &str = indoc! {r#"
        a:
          b: plain value
          c: "quoted"
          d: |
            first
            second
          e: >-

            folded
          f: [x, 'y z']
        "#};

    fn p(segs: &[&str]) -> YamlPath {
        YamlPath(
            segs.iter()
                .map(|s| match s.parse::<usize>() {
                    Ok(n) => Seg::Index(n),
                    Err(_) => Seg::Key((*s).to_owned()),
                })
                .collect(),
        )
    }

    #[rstest]
    #[case(&["a", "b"], 2, 6, 11)]
    #[case(&["a", "c"], 3, 6, 8)]
    #[case(&["a", "f", "0"], 10, 7, 1)]
    #[case(&["a", "f", "1"], 10, 10, 5)]
    fn value_spans(
        #[case] path: &[&str],
        #[case] line: usize,
        #[case] column: usize,
        #[case] len: usize,
    ) {
        let index = SourceIndex::build(DOC).unwrap();
        let span = index.value(&p(path));
        assert_eq!(
            (span.location.line, span.location.column, span.len),
            (line, column, len)
        );
    }

    #[rstest]
    #[case(&["a", "b"], 2, 6)]
    #[case(&["a", "c"], 3, 7)]
    #[case(&["a", "d"], 5, 5)]
    #[case(&["a", "e"], 9, 5)]
    #[case(&["a"], 2, 3)]
    fn content_starts(#[case] path: &[&str], #[case] line: usize, #[case] column: usize) {
        let index = SourceIndex::build(DOC).unwrap();
        assert_eq!(index.content_start(&p(path)), Location { line, column });
    }

    #[test]
    fn keys_and_fallbacks() {
        let index = SourceIndex::build(DOC).unwrap();
        let key = index.key(&p(&["a", "c"]));
        assert_eq!((key.location.line, key.location.column, key.len), (3, 3, 1));
        // Unknown paths fall back to the nearest ancestor.
        assert_eq!(index.value(&p(&["a", "c", "zz"])).location.line, 3);
        assert_eq!(p(&["a", "f", "1"]).to_string(), "a.f[1]");
    }
}

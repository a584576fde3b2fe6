//! The stderr parser: FFmpeg log lines (`-loglevel level+info`, so every line carries its level)
//! → playlist and segment opens and error kinds. Lines that only repeat a failure already
//! counted (`Error opening input…`, `Server returned…`) are skipped.

use super::events::{ClientEvent, ErrorKind};

/// FFmpeg's log levels, as `-loglevel level+…` prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Trace,
    Debug,
    Verbose,
    Info,
    Warning,
    Error,
    Fatal,
    Panic,
}

impl Level {
    fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "trace" => Self::Trace,
            "debug" => Self::Debug,
            "verbose" => Self::Verbose,
            "info" => Self::Info,
            "warning" => Self::Warning,
            "error" => Self::Error,
            "fatal" => Self::Fatal,
            "panic" => Self::Panic,
            _ => return None,
        })
    }
}

/// Classifies lines; one per client process (it remembers the last segment and error).
#[derive(Debug, Default)]
pub(crate) struct StderrParser {
    last_segment: Option<String>,
    last_error: Option<ErrorKind>,
}

impl StderrParser {
    /// Takes one line (without its newline); returns the event it stands for, if any.
    pub(crate) fn line(&mut self, line: &str) -> Option<ClientEvent> {
        let (level, message) = split_level(line.trim_end());
        let event = self.classify(level, message);
        if let Some(ClientEvent::Error(kind)) = &event {
            self.last_error = Some(*kind);
        } else if level >= Some(Level::Warning) {
            self.last_error = None;
        }
        event
    }

    fn classify(&mut self, level: Option<Level>, message: &str) -> Option<ClientEvent> {
        if let Some(url) = opened_url(message) {
            return if is_playlist(url) {
                Some(ClientEvent::Playlist {
                    url: url.to_owned(),
                })
            } else if self.last_segment.as_deref() == Some(url) {
                // Over keep-alive FFmpeg logs the reuse attempt and then the fresh open.
                None
            } else {
                self.last_segment = Some(url.to_owned());
                Some(ClientEvent::Segment {
                    url: url.to_owned(),
                })
            };
        }
        let kind = if let Some(rest) = message.strip_prefix("HTTP error ") {
            match rest.get(..3).and_then(|c| c.parse().ok()) {
                Some(code) => ErrorKind::Http(code),
                None => ErrorKind::Other,
            }
        } else if message.starts_with("Connection to ") && message.contains(" failed") {
            ErrorKind::Connect
        } else if message.starts_with("Will reconnect at ") {
            ErrorKind::Reconnect
        } else if message.starts_with("Stream ends prematurely") {
            ErrorKind::Truncated
        } else if message.starts_with("Error reading HTTP response") {
            // Follows `Stream ends prematurely` for the same request; counted once.
            if self.last_error == Some(ErrorKind::Truncated) {
                return None;
            }
            ErrorKind::Truncated
        } else if message.starts_with("Failed to open segment") {
            ErrorKind::SegmentFailed
        } else if message.starts_with("Failed to reload playlist") {
            ErrorKind::PlaylistFailed
        } else if message.starts_with("Error during demuxing") {
            ErrorKind::Demux
        } else if message.starts_with("Error opening input") || message.contains("Server returned ")
        {
            // Repeats of a failure already logged as an HTTP or connection error; the exit
            // status counts the failure itself.
            return None;
        } else if level >= Some(Level::Error) {
            ErrorKind::Other
        } else {
            return None;
        };
        Some(ClientEvent::Error(kind))
    }
}

/// `[in#0/hls @ 0x55e9] [warning] Failed to …` → (`Warning`, `Failed to …`). Lines without a
/// level (FFmpeg built without the `level` flag) keep their text whole.
fn split_level(line: &str) -> (Option<Level>, &str) {
    let mut rest = line;
    // At most a context prefix, then the level.
    for _ in 0..2 {
        let Some(inner) = rest.strip_prefix('[') else {
            break;
        };
        let Some(close) = inner.find(']') else {
            break;
        };
        let after = inner[close + 1..].trim_start();
        if let Some(level) = Level::from_word(&inner[..close]) {
            return (Some(level), after);
        }
        rest = after;
    }
    (None, rest)
}

/// `Opening 'http://h/live7.ts' for reading` → `http://h/live7.ts`.
fn opened_url(message: &str) -> Option<&str> {
    message
        .strip_prefix("Opening '")?
        .strip_suffix("' for reading")
}

fn is_playlist(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.ends_with(".m3u8") || path.ends_with(".m3u")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("[in#0 @ 0x55f7] [info] Opening 'http://h/live1.ts' for reading", Some(ClientEvent::Segment { url: "http://h/live1.ts".into() }))]
    #[case("[http @ 0x7f8c] [info] Opening 'http://h/live.m3u8?a=1' for reading", Some(ClientEvent::Playlist { url: "http://h/live.m3u8?a=1".into() }))]
    #[case(
        "[http @ 0x5638] [warning] HTTP error 404 Not Found",
        Some(ClientEvent::Error(ErrorKind::Http(404)))
    )]
    #[case(
        "[tcp @ 0x5571] [error] Connection to tcp://127.0.0.1:1 failed: Connection refused",
        Some(ClientEvent::Error(ErrorKind::Connect))
    )]
    #[case(
        "[http @ 0x5571] [warning] Will reconnect at 0 in 1 second(s).",
        Some(ClientEvent::Error(ErrorKind::Reconnect))
    )]
    #[case(
        "[AVIOContext @ 0x562e] [verbose] Statistics: 508728 bytes read, 0 seeks",
        None
    )]
    #[case(
        "[in#0/hls @ 0x55e9] [warning] Failed to reload playlist 0",
        Some(ClientEvent::Error(ErrorKind::PlaylistFailed))
    )]
    #[case(
        "[in#0/hls @ 0x55e9] [error] Error during demuxing: Invalid data",
        Some(ClientEvent::Error(ErrorKind::Demux))
    )]
    #[case(
        "[in#0 @ 0x55d3] [error] Error opening input: Server returned 5XX Server Error reply",
        None
    )]
    #[case("[fatal] Error opening input files: Connection refused", None)]
    #[case(
        "[hls @ 0x55d3] [error] something new went wrong",
        Some(ClientEvent::Error(ErrorKind::Other))
    )]
    #[case(
        "[mpegts @ 0x556] [warning] Packet corrupt (stream = 0, dts = 9214320).",
        None
    )]
    #[case("[info] Input #0, hls, from 'http://h/live.m3u8':", None)]
    fn lines_are_classified(#[case] line: &str, #[case] expected: Option<ClientEvent>) {
        assert_eq!(StderrParser::default().line(line), expected);
    }

    #[test]
    fn a_segment_opened_twice_in_a_row_counts_once() {
        let mut parser = StderrParser::default();
        let open = "[http @ 0x1] [info] Opening 'http://h/live52.ts' for reading";
        assert!(parser.line(open).is_some());
        assert_eq!(parser.line(open), None);
        assert!(
            parser
                .line("[in#0/hls @ 0x2] [info] Opening 'http://h/live53.ts' for reading")
                .is_some()
        );
    }

    #[test]
    fn a_truncated_body_counts_once() {
        let mut parser = StderrParser::default();
        let got: Vec<_> = [
            "[http @ 0x1] [error] Stream ends prematurely at 121, should be 242",
            "[http @ 0x1] [error] Error reading HTTP response: End of file",
        ]
        .into_iter()
        .filter_map(|l| parser.line(l))
        .collect();
        assert_eq!(got, vec![ClientEvent::Error(ErrorKind::Truncated)]);
    }
}

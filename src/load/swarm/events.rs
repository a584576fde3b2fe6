//! The typed events a client's output turns into: what the `-progress` parser and the stderr
//! parser emit, what the process runner adds (its exit), and the error kinds they name.

use serde::Serialize;

/// One `-progress` block (the lines up to `progress=continue|end`). Fields FFmpeg printed as
/// `N/A` (or a negative time before the first packet) are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(crate) struct ProgressBlock {
    pub frame: u64,
    pub fps: f64,
    /// Media time written so far, in microseconds.
    pub out_time_us: Option<u64>,
    /// Bytes written by the first output (`N/A` for the null muxer): the copied stream.
    pub total_size: Option<u64>,
    /// FFmpeg's speed: media time over wall time since the client started (a running average).
    pub speed: Option<f64>,
    /// `progress=end`: FFmpeg's last block.
    pub end: bool,
}

impl ProgressBlock {
    /// Whether the client has produced media yet (its first frame or first audio).
    pub(crate) fn has_media(&self) -> bool {
        self.frame > 0 || self.out_time_us.is_some_and(|t| t > 0)
    }
}

/// Why a client's output or exit counts as an error; the `kind` label of
/// `perfgate_swarm_errors_total`. Kinds are not exclusive: one failed segment request logs an
/// `http_404` line and a `segment_failed` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub(crate) enum ErrorKind {
    /// An HTTP error status (`HTTP error 404 Not Found`).
    Http(u16),
    /// A TCP connection failed (refused, timed out, unreachable).
    Connect,
    /// FFmpeg's HTTP protocol is reconnecting (`Will reconnect at …`).
    Reconnect,
    /// A body ended before its Content-Length (`Stream ends prematurely`).
    Truncated,
    /// The HLS demuxer gave up on a segment (`Failed to open segment`).
    SegmentFailed,
    /// The HLS demuxer could not reload the playlist (`Failed to reload playlist`).
    PlaylistFailed,
    /// `Error during demuxing`, `Invalid data found`.
    Demux,
    /// Any other line logged at `error` or `fatal` level.
    Other,
    /// The process exited with a failure status before the run's end.
    Exit,
    /// The process exited cleanly before the run's end (the stream ended, or FFmpeg gave up).
    Eof,
    /// The process could not be started.
    Spawn,
}

impl ErrorKind {
    /// The metric label: `http_404`, `connect`, `segment_failed`, …
    pub(crate) fn label(self) -> String {
        match self {
            Self::Http(code) => format!("http_{code}"),
            other => other.word().to_owned(),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Http(_) => "http",
            Self::Connect => "connect",
            Self::Reconnect => "reconnect",
            Self::Truncated => "truncated",
            Self::SegmentFailed => "segment_failed",
            Self::PlaylistFailed => "playlist_failed",
            Self::Demux => "demux",
            Self::Other => "other",
            Self::Exit => "exit",
            Self::Eof => "eof",
            Self::Spawn => "spawn",
        }
    }
}

/// How a client process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum ExitStatus {
    Code(i32),
    Signal(i32),
    /// It never ran: spawning failed.
    NotStarted,
}

impl ExitStatus {
    pub(crate) fn success(self) -> bool {
        self == Self::Code(0)
    }
}

/// Something one client process did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) enum ClientEvent {
    Progress(ProgressBlock),
    /// A playlist request was opened (over a kept-alive connection FFmpeg logs reloads too).
    Playlist {
        url: String,
    },
    /// A new media segment was opened (repeated opens of the same segment are one).
    Segment {
        url: String,
    },
    Error(ErrorKind),
    Exited(ExitStatus),
}

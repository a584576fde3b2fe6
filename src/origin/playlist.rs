//! The live playlist as FFmpeg writes it: its file name and parsing (media sequence, listed
//! segments). The server's watcher (`server::watch`) keeps the served copy current.

/// The playlist's file name, also its URL path (`/live.m3u8`).
pub const PLAYLIST: &str = "live.m3u8";

/// What the origin needs to know of a media playlist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Playlist {
    /// `#EXT-X-MEDIA-SEQUENCE`: the number of the first listed segment.
    pub media_sequence: u64,
    /// Segment URIs in order.
    pub segments: Vec<String>,
    /// `#EXT-X-ENDLIST`: the encoder has finished.
    pub ended: bool,
}

impl Playlist {
    pub fn parse(text: &str) -> Self {
        let mut out = Playlist::default();
        for line in text.lines().map(str::trim) {
            if let Some(n) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
                out.media_sequence = n.trim().parse().unwrap_or(0);
            } else if line == "#EXT-X-ENDLIST" {
                out.ended = true;
            } else if !line.is_empty() && !line.starts_with('#') {
                out.segments.push(line.to_owned());
            }
        }
        out
    }

    /// Segments the encoder has finished since it started (numbering starts at 0).
    pub fn produced(&self) -> u64 {
        self.media_sequence + self.segments.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_ffmpeg_writes() {
        let text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n\
                    #EXT-X-INDEPENDENT-SEGMENTS\n#EXTINF:2.000000,\nseg00007.ts\n#EXTINF:2.000000,\nseg00008.ts\n";
        let p = Playlist::parse(text);
        assert_eq!(p.media_sequence, 7);
        assert_eq!(p.segments, ["seg00007.ts", "seg00008.ts"]);
        assert!(!p.ended);
        assert_eq!(p.produced(), 9);
        assert!(Playlist::parse(&format!("{text}#EXT-X-ENDLIST\n")).ended);
    }

    #[test]
    fn an_empty_file_lists_nothing() {
        assert_eq!(Playlist::parse(""), Playlist::default());
    }
}

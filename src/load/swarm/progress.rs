//! The `-progress pipe:1` parser: `key=value` lines folded into one `ProgressBlock` per
//! `progress=continue|end` line. Unknown keys (per-stream `stream_0_0_q`, `bitrate`, …) are
//! skipped, so newer FFmpeg versions adding keys do not break it.

use super::events::ProgressBlock;

/// Folds lines into blocks; one per client process.
#[derive(Debug, Default)]
pub(crate) struct ProgressParser {
    block: ProgressBlock,
    /// `out_time_us` seen in this block; `out_time` is only a fallback for FFmpeg versions
    /// without it.
    has_us: bool,
}

impl ProgressParser {
    /// Takes one line (without its newline); returns a block when the line ends one.
    pub(crate) fn line(&mut self, line: &str) -> Option<ProgressBlock> {
        let (key, value) = line.trim().split_once('=')?;
        let value = value.trim();
        let block = &mut self.block;
        match key {
            "frame" => block.frame = value.parse().unwrap_or(0),
            "fps" => block.fps = value.parse().unwrap_or(0.0),
            "out_time_us" => {
                block.out_time_us = non_negative(value);
                self.has_us = true;
            }
            "out_time" if !self.has_us => block.out_time_us = clock_micros(value),
            "total_size" => block.total_size = value.parse().ok(),
            "speed" => block.speed = value.trim_end_matches('x').trim().parse().ok(),
            "progress" => {
                block.end = value == "end";
                self.has_us = false;
                return Some(std::mem::take(&mut self.block));
            }
            _ => {}
        }
        None
    }
}

/// `6000000` → 6 000 000; `N/A` and negative (FFmpeg's "no timestamp yet") → `None`.
fn non_negative(value: &str) -> Option<u64> {
    value
        .parse::<i64>()
        .ok()
        .and_then(|v| u64::try_from(v).ok())
}

/// `00:00:06.000000` → 6 000 000 µs; `N/A` and `-…` → `None`.
fn clock_micros(value: &str) -> Option<u64> {
    let mut parts = value.splitn(3, ':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    let hours: u64 = h.parse().ok()?;
    let minutes: u64 = m.parse().ok()?;
    let seconds: f64 = s.parse().ok()?;
    if seconds.is_nan() || seconds < 0.0 {
        return None;
    }
    Some((hours * 3600 + minutes * 60) * 1_000_000 + (seconds * 1e6).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(text: &str) -> Vec<ProgressBlock> {
        let mut parser = ProgressParser::default();
        text.lines().filter_map(|l| parser.line(l)).collect()
    }

    #[test]
    fn a_block_ends_at_its_progress_line() {
        let got = blocks(
            "frame=148\nfps=147.53\nstream_0_0_q=-1.0\nbitrate=N/A\ntotal_size=N/A\n\
             out_time_us=6000000\nout_time_ms=6000000\nout_time=00:00:06.000000\n\
             dup_frames=0\ndrop_frames=0\nspeed=5.98x\nprogress=continue\nframe=150\n",
        );
        assert_eq!(
            got,
            vec![ProgressBlock {
                frame: 148,
                fps: 147.53,
                out_time_us: Some(6_000_000),
                total_size: None,
                speed: Some(5.98),
                end: false,
            }]
        );
    }

    #[test]
    fn missing_values_and_the_end_block() {
        let got = blocks(
            "frame=0\nfps=0.00\ntotal_size=1024\nout_time_us=-9223372036854775807\n\
             out_time=-577014:32:22.775807\nspeed=N/A\nprogress=end\n",
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].out_time_us, None);
        assert_eq!(got[0].speed, None);
        assert_eq!(got[0].total_size, Some(1024));
        assert!(got[0].end && !got[0].has_media());
    }

    #[test]
    fn out_time_is_the_fallback_without_out_time_us() {
        let got = blocks("frame=3\nout_time=00:01:02.500000\nspeed=  12x\nprogress=continue\n");
        assert_eq!(got[0].out_time_us, Some(62_500_000));
        assert_eq!(got[0].speed, Some(12.0));
    }
}

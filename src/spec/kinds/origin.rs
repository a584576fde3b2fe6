//! The `ffmpeg-origin` service kind (a live HLS origin): its shape, its model, and the
//! validation of its source, picture, segmenting and faults, each range checked with a located
//! error.

use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::{Port, ServiceKind};
use crate::spec::decode::{Ctx, key_name};
use crate::spec::locate::YamlPath;
use crate::spec::raw::Text;
use crate::spec::units::{parse_duration, parse_number, parse_ratio};

pub(crate) const KIND: &str = "ffmpeg-origin";

const SOURCES: [&str; 2] = ["testsrc", "file"];
const FAULT_TARGETS: [&str; 3] = ["all", "playlist", "segment"];

const DEFAULT_SIZE: (u32, u32) = (640, 360);
const WIDTH: (u32, u32) = (16, 3840);
const HEIGHT: (u32, u32) = (16, 2160);
const DEFAULT_FPS: u32 = 25;
const FPS: (u32, u32) = (1, 60);
const DEFAULT_SEGMENT: Duration = Duration::from_secs(2);
const SEGMENT: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));
const DEFAULT_WINDOW: u32 = 6;
const WINDOW: (u32, u32) = (1, 100);
const BITRATE: (u64, u64) = (50_000, 50_000_000);
/// Longest injected delay (`latency` and `jitter` each): a fault, not a hang.
const MAX_DELAY: Duration = Duration::from_secs(60);
const ERROR_STATUS: (u16, u16) = (400, 599);

/// A live HLS origin: FFmpeg encoding into a rolling playlist, served by perfgate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFfmpegOrigin {
    #[expect(
        dead_code,
        reason = "read through RawKind; listed so `kind:` is a known field"
    )]
    pub(crate) kind: String,
    /// `testsrc` (default) or `file`.
    pub(crate) source: Option<String>,
    /// The media file looped by `source: file`, relative to the spec's folder.
    pub(crate) path: Option<PathBuf>,
    pub(crate) resolution: Option<Text>,
    pub(crate) fps: Option<u32>,
    pub(crate) segment: Option<Text>,
    pub(crate) window: Option<u32>,
    pub(crate) bitrate: Option<Text>,
    pub(crate) binary: Option<PathBuf>,
    pub(crate) faults: Option<RawOriginFaults>,
}

/// Degradations the origin applies per request, to show that gates catch them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOriginFaults {
    pub(crate) latency: Option<Text>,
    pub(crate) jitter: Option<Text>,
    pub(crate) error_rate: Option<Text>,
    pub(crate) status: Option<u16>,
    pub(crate) applies_to: Option<String>,
    pub(crate) segment_404_after: Option<Text>,
    pub(crate) seed: Option<u64>,
}

/// A live HLS origin: FFmpeg encodes `source` into a rolling playlist (`/live.m3u8`) that
/// perfgate's own HTTP server serves, with optional injected faults. Serializable: the process
/// backend hands it to the built-in origin as JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FfmpegOriginService {
    pub source: OriginSource,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Target segment length (`-hls_time`); keyframes are forced on its boundaries.
    pub segment: Duration,
    /// Segments listed in the playlist (`-hls_list_size`); older ones are deleted.
    pub window: u32,
    /// Video bitrate in bits per second; `None` = x264's constant quality.
    pub bitrate: Option<u64>,
    /// Explicit path to an `ffmpeg` binary; beats `PERFGATE_FFMPEG`, PATH and the cache.
    pub binary: Option<PathBuf>,
    pub faults: OriginFaults,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum OriginSource {
    /// lavfi `testsrc2` plus a 1 kHz sine tone, paced in real time.
    TestPattern,
    /// A media file looped forever in real time; relative paths are relative to the spec's folder.
    File(PathBuf),
}

/// Per-request degradations of the origin (all off by default).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OriginFaults {
    /// Added to every affected response.
    pub latency: Duration,
    /// Plus a uniformly random extra delay in `0..jitter`.
    pub jitter: Duration,
    /// Share of affected requests answered with `status` instead of the object (0..=1).
    pub error_rate: f64,
    pub status: u16,
    pub applies_to: FaultTarget,
    /// From this long after the first segment request on, every segment request answers 404.
    pub segment_404_after: Option<Duration>,
    /// Seed of the jitter and error draws.
    pub seed: u64,
}

impl Default for OriginFaults {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            status: 503,
            applies_to: FaultTarget::All,
            segment_404_after: None,
            seed: 1,
        }
    }
}

/// Which requests `latency`, `jitter` and `error_rate` affect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum FaultTarget {
    #[default]
    All,
    Playlist,
    Segment,
}

impl FfmpegOriginService {
    pub(crate) fn ports(&self) -> Vec<Port<'_>> {
        vec![Port::http("http")]
    }
}

pub(crate) fn validate(ctx: &mut Ctx, value: &Value, at: &YamlPath) -> Option<ServiceKind> {
    let raw = ctx.de::<RawFfmpegOrigin>(value, at)?;
    let source = source(ctx, raw.source.as_deref(), raw.path, at);
    let size = match &raw.resolution {
        Some(text) => ctx.check(&at.key("resolution"), parse_resolution(&text.0)),
        None => Some(DEFAULT_SIZE),
    };
    let fps = within(ctx, &at.key("fps"), raw.fps.unwrap_or(DEFAULT_FPS), FPS);
    let segment = match &raw.segment {
        Some(text) => segment(ctx, &at.key("segment"), &text.0),
        None => Some(DEFAULT_SEGMENT),
    };
    let window = within(
        ctx,
        &at.key("window"),
        raw.window.unwrap_or(DEFAULT_WINDOW),
        WINDOW,
    );
    let bitrate = match &raw.bitrate {
        Some(text) => ctx
            .check(&at.key("bitrate"), parse_bitrate(&text.0))
            .map(Some),
        None => Some(None),
    };
    let faults = match raw.faults {
        Some(f) => faults(ctx, f, &at.key("faults")),
        None => Some(OriginFaults::default()),
    };
    let (width, height) = size?;
    Some(ServiceKind::FfmpegOrigin(FfmpegOriginService {
        source: source?,
        width,
        height,
        fps: fps?,
        segment: segment?,
        window: window?,
        bitrate: bitrate?,
        binary: raw.binary,
        faults: faults?,
    }))
}

fn source(
    ctx: &mut Ctx,
    kind: Option<&str>,
    path: Option<PathBuf>,
    at: &YamlPath,
) -> Option<OriginSource> {
    match (kind, path) {
        (None | Some("testsrc"), None) => Some(OriginSource::TestPattern),
        (None | Some("testsrc"), Some(_)) => {
            ctx.at_key(
                &at.key("path"),
                "`path` only applies to `source: file` (hint: remove it, or write `source: file`)",
            );
            None
        }
        (Some("file"), Some(path)) if !path.as_os_str().is_empty() => {
            Some(OriginSource::File(path))
        }
        (Some("file"), _) => {
            ctx.at_value(
                &at.key("source"),
                "`source: file` needs `path:` (hint: name the media file, relative to the spec's folder, e.g. `path: ../fixtures/media/clip.mp4`)",
            );
            None
        }
        (Some(other), _) => {
            ctx.unknown_name(&at.key("source"), "origin source", other, &SOURCES);
            None
        }
    }
}

fn segment(ctx: &mut Ctx, path: &YamlPath, text: &str) -> Option<Duration> {
    let d = ctx.duration(path, text)?;
    if d < SEGMENT.0 || d > SEGMENT.1 {
        ctx.at_value(
            path,
            format!("segment length `{text}` is out of range (hint: from 1s to 30s)"),
        );
        return None;
    }
    Some(d)
}

fn faults(ctx: &mut Ctx, raw: RawOriginFaults, at: &YamlPath) -> Option<OriginFaults> {
    let defaults = OriginFaults::default();
    let delay = |ctx: &mut Ctx, key: &str, text: Option<&str>| -> Option<Duration> {
        let Some(text) = text else {
            return Some(Duration::ZERO);
        };
        let path = at.key(key);
        let d = ctx.check(&path, parse_duration(text))?;
        if d > MAX_DELAY {
            ctx.at_value(
                &path,
                format!("`{key}` of `{text}` is too long (hint: at most 60s)"),
            );
            return None;
        }
        Some(d)
    };
    let latency = delay(ctx, "latency", raw.latency.as_ref().map(|t| t.0.as_str()));
    let jitter = delay(ctx, "jitter", raw.jitter.as_ref().map(|t| t.0.as_str()));
    let after = match &raw.segment_404_after {
        Some(t) => ctx
            .check(&at.key("segment_404_after"), parse_duration(&t.0))
            .map(Some),
        None => Some(None),
    };
    let error_rate = match &raw.error_rate {
        Some(t) => ctx.check(&at.key("error_rate"), parse_ratio("error rate", &t.0)),
        None => Some(0.0),
    };
    let status = match raw.status {
        Some(_) if raw.error_rate.is_none() => {
            ctx.at_key(
                &at.key("status"),
                "`status` needs `error_rate` (hint: e.g. `error_rate: 5%`)",
            );
            None
        }
        Some(code) if code < ERROR_STATUS.0 || code > ERROR_STATUS.1 => {
            ctx.at_value(
                &at.key("status"),
                format!("status `{code}` is not an error status (hint: from 400 to 599, e.g. 503)"),
            );
            None
        }
        Some(code) => Some(code),
        None => Some(defaults.status),
    };
    let applies_to = match raw.applies_to.as_deref() {
        None | Some("all") => Some(FaultTarget::All),
        Some("playlist") => Some(FaultTarget::Playlist),
        Some("segment") => Some(FaultTarget::Segment),
        Some(other) => {
            ctx.unknown_name(&at.key("applies_to"), "fault target", other, &FAULT_TARGETS);
            None
        }
    };
    Some(OriginFaults {
        latency: latency?,
        jitter: jitter?,
        error_rate: error_rate?,
        status: status?,
        applies_to: applies_to?,
        segment_404_after: after?,
        seed: raw.seed.unwrap_or(defaults.seed),
    })
}

/// `value` when within `lo..=hi`; else an error naming the key and the range.
fn within<T: PartialOrd + Display + Copy>(
    ctx: &mut Ctx,
    path: &YamlPath,
    value: T,
    (lo, hi): (T, T),
) -> Option<T> {
    if value < lo || value > hi {
        let key = key_name(path);
        ctx.at_value(
            path,
            format!("`{key}` of {value} is out of range (hint: from {lo} to {hi})"),
        );
        return None;
    }
    Some(value)
}

/// `640x360`: even sides (H.264 in 4:2:0), from 16x16 to 3840x2160.
pub(crate) fn parse_resolution(text: &str) -> Result<(u32, u32), String> {
    let text = text.trim();
    let parsed = text
        .split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)));
    let Some((w, h)) = parsed else {
        return Err(format!(
            "invalid resolution `{text}` (hint: write WIDTHxHEIGHT, e.g. `640x360` or `1280x720`)"
        ));
    };
    if w < WIDTH.0 || w > WIDTH.1 || h < HEIGHT.0 || h > HEIGHT.1 {
        return Err(format!(
            "resolution `{text}` is out of range (hint: from 16x16 to 3840x2160)"
        ));
    }
    if w % 2 != 0 || h % 2 != 0 {
        return Err(format!(
            "resolution `{text}` has an odd side (hint: H.264 in 4:2:0 needs even sizes, e.g. `640x360`)"
        ));
    }
    Ok((w, h))
}

/// `800k`, `2M`, `1.5M` or `800000`, in bits per second, from 50k to 50M.
pub(crate) fn parse_bitrate(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix(['k', 'K']) {
        Some(n) => (n, 1e3),
        None => match text.strip_suffix('M') {
            Some(n) => (n, 1e6),
            None => (text, 1.0),
        },
    };
    let bits = parse_number(number)
        .filter(|v| *v > 0.0)
        .map(|v| (v * scale).round() as u64);
    match bits {
        Some(b) if (BITRATE.0..=BITRATE.1).contains(&b) => Ok(b),
        Some(_) => Err(format!(
            "bitrate `{text}` is out of range (hint: from 50k to 50M)"
        )),
        None => Err(format!(
            "invalid bitrate `{text}` (hint: bits per second with an optional k or M, e.g. `800k` or `2M`)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("640x360", Ok((640, 360)))]
    #[case(" 1280X720 ", Ok((1280, 720)))]
    #[case("640*360", Err("invalid resolution"))]
    #[case("640x", Err("invalid resolution"))]
    #[case("641x360", Err("odd side"))]
    #[case("8x8", Err("out of range"))]
    #[case("7680x4320", Err("out of range"))]
    fn resolutions(#[case] text: &str, #[case] expected: Result<(u32, u32), &str>) {
        match (parse_resolution(text), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(got), Err(fragment)) => assert!(got.contains(fragment), "{got}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    #[rstest]
    #[case("800k", Ok(800_000))]
    #[case("2M", Ok(2_000_000))]
    #[case("1.5M", Ok(1_500_000))]
    #[case("64000", Ok(64_000))]
    #[case("10k", Err("out of range"))]
    #[case("fast", Err("invalid bitrate"))]
    #[case("-1M", Err("invalid bitrate"))]
    #[case("2m", Err("invalid bitrate"))]
    fn bitrates(#[case] text: &str, #[case] expected: Result<u64, &str>) {
        match (parse_bitrate(text), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(got), Err(fragment)) => assert!(got.contains(fragment), "{got}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

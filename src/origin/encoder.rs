//! The FFmpeg encoder: its command line (built from the spec) and the child process, which stays
//! in the built-in's process group so that stopping the service stops it too.

use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::config::OriginConfig;
use super::playlist::PLAYLIST;
use crate::spec::{FfmpegOriginService, OriginSource};

/// How long FFmpeg gets to finish its last segment after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Segment file names: numbered from 0, which `Playlist::produced` relies on.
const SEGMENT_PATTERN: &str = "seg%05d.ts";

/// FFmpeg's arguments: the source paced in real time, H.264 (x264 veryfast, zerolatency) with a
/// keyframe on every segment boundary plus AAC, into a rolling HLS playlist in `config.dir`.
pub fn encoder_args(config: &OriginConfig) -> Vec<OsString> {
    let s = &config.service;
    let segment = s.segment.as_secs_f64();
    let mut args = words(&[
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "level+warning",
    ]);
    args.extend(input_args(s));
    args.extend(video_args(s, segment));
    args.extend(hls_args(s, segment));
    args.push(config.dir.join(SEGMENT_PATTERN).into());
    args.push(config.dir.join(PLAYLIST).into());
    args
}

fn words(items: &[&str]) -> Vec<OsString> {
    items.iter().map(OsString::from).collect()
}

/// The source, paced in real time: the test pattern with a tone, or a file looped and scaled.
fn input_args(s: &FfmpegOriginService) -> Vec<OsString> {
    let (w, h, fps) = (s.width, s.height, s.fps);
    match &s.source {
        OriginSource::TestPattern => words(&[
            "-re",
            "-f",
            "lavfi",
            "-i",
            &format!(
                "testsrc2=size={w}x{h}:rate={fps}[out0];sine=frequency=1000:sample_rate=48000[out1]"
            ),
        ]),
        OriginSource::File(path) => {
            let mut args = words(&["-re", "-stream_loop", "-1", "-i"]);
            args.push(path.into());
            args.extend(words(&[
                "-map",
                "0:v:0",
                "-map",
                "0:a:0?",
                "-vf",
                &format!("scale={w}:{h},setsar=1,fps={fps}"),
            ]));
            args
        }
    }
}

/// H.264 with a keyframe on every segment boundary, capped at the bitrate when one is set.
fn video_args(s: &FfmpegOriginService, segment: f64) -> Vec<OsString> {
    let mut args = words(&[
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-pix_fmt",
        "yuv420p",
        "-force_key_frames",
        &format!("expr:gte(t,n_forced*{segment})"),
    ]);
    if let Some(bps) = s.bitrate {
        args.extend(words(&[
            "-b:v",
            &bps.to_string(),
            "-maxrate",
            &bps.to_string(),
            "-bufsize",
            &(2 * bps).to_string(),
        ]));
    }
    args
}

/// AAC audio into a rolling HLS playlist (segment files named by `-hls_segment_filename`'s
/// value, which follows).
fn hls_args(s: &FfmpegOriginService, segment: f64) -> Vec<OsString> {
    words(&[
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-f",
        "hls",
        "-hls_time",
        &segment.to_string(),
        "-hls_list_size",
        &s.window.to_string(),
        // temp_file: a segment appears under its name only once complete.
        "-hls_flags",
        "delete_segments+independent_segments+temp_file",
        "-hls_segment_filename",
    ])
}

/// Removes what an earlier encoder left in `dir` (so a stale playlist cannot look ready) and
/// creates it.
pub(crate) fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)?.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".ts") || name.ends_with(".m3u8") || name.ends_with(".tmp") {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The running encoder. Dropping it kills FFmpeg.
pub(crate) struct Encoder {
    child: tokio::process::Child,
}

impl Encoder {
    /// Starts FFmpeg with its stderr on ours, so its messages land in the service's log.
    pub(crate) fn spawn(config: &OriginConfig) -> std::io::Result<Self> {
        let child = tokio::process::Command::new(&config.ffmpeg)
            .args(encoder_args(config))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                std::io::Error::other(format!(
                    "cannot start ffmpeg at {}: {e}",
                    config.ffmpeg.display()
                ))
            })?;
        Ok(Self { child })
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Resolves when FFmpeg exits.
    pub(crate) async fn exited(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// SIGTERM, then SIGKILL after a grace period; FFmpeg is reaped either way.
    pub(crate) async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        }
        if tokio::time::timeout(STOP_GRACE, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::spec::OriginFaults;

    fn config(source: OriginSource, bitrate: Option<u64>) -> OriginConfig {
        OriginConfig {
            listen: "127.0.0.1:1".parse().unwrap(),
            ffmpeg: "ffmpeg".into(),
            dir: PathBuf::from("/run/o"),
            service: FfmpegOriginService {
                source,
                width: 1280,
                height: 720,
                fps: 30,
                segment: Duration::from_millis(1500),
                window: 4,
                bitrate,
                binary: None,
                faults: OriginFaults::default(),
            },
        }
    }

    fn joined(config: &OriginConfig) -> String {
        encoder_args(config)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_test_pattern_is_paced_and_cut_on_segment_boundaries() {
        let args = joined(&config(OriginSource::TestPattern, None));
        for needle in [
            "-re -f lavfi -i testsrc2=size=1280x720:rate=30[out0];sine=frequency=1000:sample_rate=48000[out1]",
            "-force_key_frames expr:gte(t,n_forced*1.5)",
            "-hls_time 1.5 -hls_list_size 4 -hls_flags delete_segments+independent_segments+temp_file",
            "-hls_segment_filename /run/o/seg%05d.ts /run/o/live.m3u8",
        ] {
            assert!(args.contains(needle), "missing `{needle}` in {args}");
        }
        assert!(!args.contains("-b:v"), "{args}");
        assert!(!args.contains("-stream_loop"), "{args}");
    }

    #[test]
    fn a_file_is_looped_scaled_and_capped_at_the_bitrate() {
        let args = joined(&config(
            OriginSource::File("/media/clip.mp4".into()),
            Some(800_000),
        ));
        for needle in [
            "-re -stream_loop -1 -i /media/clip.mp4 -map 0:v:0 -map 0:a:0?",
            "-vf scale=1280:720,setsar=1,fps=30",
            "-b:v 800000 -maxrate 800000 -bufsize 1600000",
        ] {
            assert!(args.contains(needle), "missing `{needle}` in {args}");
        }
    }

    #[test]
    fn preparing_removes_stale_media_only() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["live.m3u8", "seg00001.ts", "seg00002.ts.tmp", "notes.txt"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        prepare_dir(dir.path()).unwrap();
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["notes.txt"]);
    }
}

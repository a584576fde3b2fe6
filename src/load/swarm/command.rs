//! The client command line: built once per swarm from the config and from the HTTP options the
//! installed FFmpeg knows (reconnect flags differ between versions, and an unknown option is
//! fatal), so every client runs the same argv.
//!
//! Packets are copied into an MPEG-TS muxer writing to /dev/null rather than into `-f null`:
//! the null muxer reports no size, the TS muxer's `total_size` is within ~1 % of the bytes
//! received, and it costs no measurable CPU more (docs/swarm.md). Decoding adds a second,
//! decoding `-f null` output.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::SwarmConfig;
use super::error::SwarmError;

/// Reconnect options, passed when this FFmpeg's HTTP protocol has them. The delay cap keeps
/// FFmpeg from waiting out minutes on its own: stall detection restarts a stuck client instead.
const RECONNECT: [(&str, &str); 4] = [
    ("reconnect", "1"),
    ("reconnect_streamed", "1"),
    ("reconnect_on_network_error", "1"),
    ("reconnect_delay_max", "2"),
];
/// How long `ffmpeg -h protocol=http` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The argv every client runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl ClientCommand {
    /// The command for `config`, after asking its FFmpeg which reconnect options it has.
    pub async fn for_config(config: &SwarmConfig) -> Result<Self, SwarmError> {
        Ok(Self::build(config, &http_options(&config.ffmpeg).await?))
    }

    /// `http_options`: the option names `ffmpeg -h protocol=http` lists.
    pub(crate) fn build(config: &SwarmConfig, http_options: &[String]) -> Self {
        let mut args: Vec<String> = [
            "-hide_banner",
            "-nostdin",
            "-nostats",
            "-loglevel",
            "level+info",
            "-progress",
            "pipe:1",
        ]
        .map(str::to_owned)
        .to_vec();
        for (name, value) in RECONNECT {
            if http_options.iter().any(|o| o == name) {
                args.extend([format!("-{name}"), value.to_owned()]);
            }
        }
        args.extend(["-i".to_owned(), config.url.clone()]);
        // Options after the last output name are ignored: outputs come last. The first output
        // is the one whose size `-progress` reports.
        args.extend(["-c", "copy", "-f", "mpegts", "-y", "/dev/null"].map(str::to_owned));
        if config.decode {
            args.extend(["-f", "null", "-"].map(str::to_owned));
        }
        Self {
            program: config.ffmpeg.clone(),
            args: args.into_iter().map(OsString::from).collect(),
        }
    }
}

/// The option names of FFmpeg's HTTP protocol (`-reconnect`, `-reconnect_streamed`, …).
async fn http_options(ffmpeg: &Path) -> Result<Vec<String>, SwarmError> {
    let failed = |reason: String| SwarmError::Ffmpeg {
        path: ffmpeg.display().to_string(),
        reason,
    };
    let run = tokio::process::Command::new(ffmpeg)
        .args(["-hide_banner", "-h", "protocol=http"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PROBE_TIMEOUT, run)
        .await
        .map_err(|_| failed(format!("`-h protocol=http` took over {PROBE_TIMEOUT:?}")))?
        .map_err(|e| failed(e.to_string()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let options = parse_options(&text);
    if options.is_empty() {
        return Err(failed(format!(
            "`-h protocol=http` listed no options (exit {}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(options)
}

/// `  -reconnect         <boolean>    .D… auto reconnect…` → `reconnect`.
fn parse_options(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| {
            let name = l.trim_start().strip_prefix('-')?;
            let name = name.split_whitespace().next()?;
            l.contains('<').then(|| name.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELP_9: &str = "http AVOptions:\n  -seekable          <boolean>    .D......... control seekability\n  -reconnect         <boolean>    .D......... auto reconnect\n  -reconnect_streamed <boolean>    .D......... reconnect streamed\n  -reconnect_on_network_error <boolean>    .D......... reconnect on tcp error\n  -reconnect_delay_max <int>        .D......... max delay\n     auto                         .D......... enum value\n";

    fn argv(config: &SwarmConfig, options: &[String]) -> String {
        let c = ClientCommand::build(config, options);
        c.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn options_are_read_from_the_help_text() {
        assert_eq!(
            parse_options(HELP_9),
            [
                "seekable",
                "reconnect",
                "reconnect_streamed",
                "reconnect_on_network_error",
                "reconnect_delay_max"
            ]
        );
    }

    #[test]
    fn copy_mode_with_every_reconnect_flag_this_ffmpeg_has() {
        let config = SwarmConfig::new("ffmpeg".into(), "http://127.0.0.1:1/live.m3u8".into(), 1);
        assert_eq!(
            argv(&config, &parse_options(HELP_9)),
            "-hide_banner -nostdin -nostats -loglevel level+info -progress pipe:1 \
             -reconnect 1 -reconnect_streamed 1 -reconnect_on_network_error 1 \
             -reconnect_delay_max 2 -i http://127.0.0.1:1/live.m3u8 \
             -c copy -f mpegts -y /dev/null"
        );
    }

    #[test]
    fn an_older_ffmpeg_gets_only_the_flags_it_knows_and_decode_adds_a_decoding_output() {
        let config = SwarmConfig {
            decode: true,
            ..SwarmConfig::new("ffmpeg".into(), "http://127.0.0.1:1/a.m3u8".into(), 1)
        };
        assert_eq!(
            argv(&config, &["reconnect".to_owned()]),
            "-hide_banner -nostdin -nostats -loglevel level+info -progress pipe:1 \
             -reconnect 1 -i http://127.0.0.1:1/a.m3u8 -c copy -f mpegts -y /dev/null \
             -f null -"
        );
    }
}

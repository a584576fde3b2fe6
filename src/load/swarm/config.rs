//! What a swarm needs, resolved: the FFmpeg to run, the URL, the client count and timings, and
//! the checks that keep it bounded (client count, durations) and on loopback unless allowed.

use std::path::PathBuf;
use std::time::Duration;

use super::error::SwarmError;
use crate::prom::remote_write::check_loopback;
use crate::spec::SwarmPhase;
use crate::spec::{
    DEFAULT_MEDIA_WINDOW, MIN_MEDIA_WINDOW, MIN_STALL_AFTER, check_at_least, check_clients,
    check_restarts, check_swarm_duration,
};
pub use crate::spec::RestartPolicy;

/// One swarm, ready to run.
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    /// The FFmpeg executable every client runs.
    pub ffmpeg: PathBuf,
    /// The HLS playlist URL.
    pub url: String,
    pub clients: u32,
    /// Client starts per second (`f64::INFINITY`: all at once).
    pub ramp: f64,
    /// From the first start to stopping every client, ramp-up included.
    pub duration: Duration,
    /// A client whose media time has not advanced for this long is stalled (and restarted).
    pub stall_after: Duration,
    pub restart: RestartPolicy,
    /// The window of the media speed (`perfgate_swarm_media_speed`): longer is steadier
    /// against segment-arrival jitter, shorter reacts sooner; it needs half of it to report.
    pub media_window: Duration,
    /// Decode the media (`-f null` with decoders) instead of copying packets (`-c copy`).
    pub decode: bool,
    /// Adds the `perfgate_swarm_client_*{client="N"}` series.
    pub per_client_metrics: bool,
    /// Allow a URL that is not on loopback (an external origin).
    pub allow_external: bool,
}

impl SwarmConfig {
    /// A swarm of `clients` with the defaults: ramp 10/s, 60 s, stall after 5 s, restarts 3
    /// with back-off 1 s..30 s, copy mode.
    pub fn new(ffmpeg: PathBuf, url: String, clients: u32) -> Self {
        Self {
            ffmpeg,
            url,
            clients,
            ramp: 10.0,
            duration: Duration::from_secs(60),
            stall_after: Duration::from_secs(5),
            restart: RestartPolicy::default(),
            media_window: DEFAULT_MEDIA_WINDOW,
            decode: false,
            per_client_metrics: false,
            allow_external: false,
        }
    }

    /// When client `i` starts: `i / ramp` (all at 0 with an infinite ramp).
    pub fn start_of(&self, i: u32) -> Duration {
        if self.ramp.is_finite() {
            Duration::from_secs_f64(f64::from(i) / self.ramp)
        } else {
            Duration::ZERO
        }
    }

    /// Checks bounds and the URL.
    pub fn validate(&self) -> Result<(), SwarmError> {
        let invalid = |m: String| Err(SwarmError::Invalid(m));
        check_clients(self.clients).map_err(SwarmError::Invalid)?;
        if self.ramp.is_nan() || self.ramp <= 0.0 {
            return invalid(format!(
                "`ramp` is {}; it must be above 0 clients/s",
                self.ramp
            ));
        }
        check_swarm_duration(self.duration).map_err(SwarmError::Invalid)?;
        check_at_least("stall_after", self.stall_after, MIN_STALL_AFTER)
            .map_err(SwarmError::Invalid)?;
        check_at_least("media_window", self.media_window, MIN_MEDIA_WINDOW)
            .map_err(SwarmError::Invalid)?;
        let r = self.restart;
        check_restarts(r.max).map_err(SwarmError::Invalid)?;
        if r.backoff_min.is_zero() || r.backoff_min > r.backoff_max {
            return invalid(format!(
                "back-off {:?}..{:?}: the first must be above 0 and not above the second",
                r.backoff_min, r.backoff_max
            ));
        }
        if !self.allow_external && check_loopback(&self.url).is_err() {
            return Err(SwarmError::NonLoopback(self.url.clone()));
        }
        Ok(())
    }
}

/// The FFmpeg a spec's swarm runs: found on this machine or in perfgate's tool cache.
pub(crate) async fn find_ffmpeg() -> Result<PathBuf, String> {
    use crate::tools;
    tokio::task::spawn_blocking(|| tools::resolve(&tools::FFMPEG, None))
        .await
        .map_err(|e| e.to_string())?
        .map(|tool| tool.path)
        .map_err(|e| e.to_string())
}

impl SwarmConfig {
    /// A spec's `swarm:` phase, its URL expanded against the running stack.
    pub fn from_phase(phase: &SwarmPhase, url: String, ffmpeg: PathBuf) -> Self {
        Self {
            ramp: phase.ramp.per_second(),
            duration: phase.duration,
            stall_after: phase.stall_after,
            restart: RestartPolicy {
                max: phase.restart_max,
                backoff_min: phase.backoff.0,
                backoff_max: phase.backoff.1,
            },
            media_window: phase.media_window,
            decode: phase.decode,
            per_client_metrics: phase.per_client_metrics,
            ..Self::new(ffmpeg, url, phase.clients)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::MAX_CLIENTS;

    fn config(url: &str) -> SwarmConfig {
        SwarmConfig::new("ffmpeg".into(), url.into(), 5)
    }

    #[test]
    fn loopback_urls_pass_and_others_need_the_flag() {
        assert!(config("http://127.0.0.1:8080/live.m3u8").validate().is_ok());
        assert!(config("http://localhost:8080/live.m3u8").validate().is_ok());
        let external = config("http://example.net/live.m3u8");
        assert!(matches!(
            external.validate(),
            Err(SwarmError::NonLoopback(_))
        ));
        let allowed = SwarmConfig {
            allow_external: true,
            ..external
        };
        assert!(allowed.validate().is_ok());
    }

    #[test]
    fn bounds_are_checked() {
        let ok = config("http://127.0.0.1/x.m3u8");
        for bad in [
            SwarmConfig {
                clients: 0,
                ..ok.clone()
            },
            SwarmConfig {
                clients: MAX_CLIENTS + 1,
                ..ok.clone()
            },
            SwarmConfig {
                ramp: 0.0,
                ..ok.clone()
            },
            SwarmConfig {
                duration: Duration::ZERO,
                ..ok.clone()
            },
            SwarmConfig {
                stall_after: Duration::from_millis(10),
                ..ok.clone()
            },
            SwarmConfig {
                restart: RestartPolicy {
                    max: 1,
                    backoff_min: Duration::from_secs(5),
                    backoff_max: Duration::from_secs(1),
                },
                ..ok.clone()
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(SwarmError::Invalid(_))),
                "{bad:?}"
            );
        }
    }
}

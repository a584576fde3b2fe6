//! Planning an `ffmpeg-origin` service: FFmpeg resolved (or provisioned), the media file found,
//! an output folder in the run directory, a loopback port, readiness and a scrape target.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::error::StackError;
use super::process_backend::Planned;
use super::prometheus::ScrapeTarget;
use super::ready::Readiness;
use super::tools;
use crate::origin::OriginConfig;
use crate::spec::{FfmpegOriginService, OriginSource};
use std::net::SocketAddr;

/// Beyond the first segment's own length: FFmpeg's start-up and the first encode.
const STARTUP_SLACK: Duration = Duration::from_secs(20);

/// `spec_dir`: the spec's folder, against which a `source: file` path is resolved.
pub(super) fn plan_origin(
    name: &str,
    origin: &FfmpegOriginService,
    addr: SocketAddr,
    spec_dir: &Path,
    run_dir: &Path,
    host: Option<&Path>,
) -> Result<(Planned, ScrapeTarget), StackError> {
    let io = |source| StackError::Spawn {
        service: name.to_owned(),
        source,
    };
    let tool = tools::resolve_ffmpeg(origin.binary.as_deref())?;
    let mut service = origin.clone();
    if let OriginSource::File(path) = &origin.source {
        let media = std::path::absolute(spec_dir.join(path)).map_err(io)?;
        if !media.is_file() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "media file {} does not exist (hint: `path:` is relative to the spec's folder)",
                    media.display()
                ),
            )));
        }
        service.source = OriginSource::File(media);
    }
    let config = OriginConfig {
        listen: addr,
        ffmpeg: tool.path.clone(),
        dir: run_dir.join(name),
        service,
    };
    let command = super::builtin::origin_command(&config, host).map_err(io)?;
    let planned = Planned {
        name: name.to_owned(),
        kind: "ffmpeg-origin",
        ports: BTreeMap::from([("http".to_string(), addr)]),
        command,
        ready: Readiness::Http {
            addr,
            path: "/-/ready".into(),
        },
        timeout: origin.segment * 2 + STARTUP_SLACK,
        tool: Some(tool),
    };
    let target = ScrapeTarget {
        job: name.to_owned(),
        addr,
        path: "/metrics".into(),
        honor_labels: false,
    };
    Ok((planned, target))
}

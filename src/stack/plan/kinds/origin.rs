//! Planning an `ffmpeg-origin` service: FFmpeg resolved (or provisioned), the media file found,
//! an output folder in the run directory, a loopback port, readiness and a scrape target.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::stack::plan::context::PlanContext;
use crate::stack::plan::model::{Part, Planned, Program, Rank, ScrapeTarget};
use super::Planning;
use crate::origin::OriginConfig;
use crate::spec::{FfmpegOriginService, OriginSource};
use crate::stack::builtin;
use crate::stack::error::{StackError, io};
use crate::stack::need::ToolNeed;
use crate::stack::ready::Readiness;
use crate::tools;

/// Beyond the first segment's own length: FFmpeg's start-up and the first encode.
const STARTUP_SLACK: Duration = Duration::from_secs(20);

/// FFmpeg, the encoder the built-in origin runs.
pub(crate) fn tools(origin: &FfmpegOriginService) -> Vec<ToolNeed> {
    vec![ToolNeed::ffmpeg(origin.binary.clone())]
}

/// A `source: file` path is resolved against the spec's folder.
pub(crate) fn plan(
    name: &str,
    origin: &FfmpegOriginService,
    ctx: &PlanContext<'_>,
) -> Result<Planning, StackError> {
    let spec_dir = ctx.spec.path.parent().unwrap_or(Path::new(""));
    let addr = ctx.port(name, "http")?;
    let tool = tools::resolve_ffmpeg(origin.binary.as_deref())?;
    let mut service = origin.clone();
    if let OriginSource::File(path) = &origin.source {
        let media = std::path::absolute(spec_dir.join(path)).map_err(io(name))?;
        if !media.is_file() {
            return Err(io(name)(std::io::Error::new(
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
        dir: ctx.run_dir.join(name),
        service,
    };
    let env = builtin::origin(&config);
    let planned = Planned {
        name: name.to_owned(),
        kind: "ffmpeg-origin",
        program: Program::Builtin { tool: Some(tool) },
        args: Vec::new(),
        env,
        ports: BTreeMap::from([("http".to_string(), addr)]),
        ready: Readiness::Http {
            addr,
            path: "/-/ready".into(),
        },
        timeout: origin.segment * 2 + STARTUP_SLACK,
    };
    let target = ScrapeTarget::metrics(name, addr, false);
    Ok(Planning::Part(Part::one(Rank::App, planned, Some(target))))
}

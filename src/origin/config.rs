//! What one origin instance is told by the process backend (serialized as JSON into its
//! environment).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::spec::FfmpegOriginService;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OriginConfig {
    pub listen: SocketAddr,
    /// The resolved `ffmpeg` binary.
    pub ffmpeg: PathBuf,
    /// Folder FFmpeg writes the playlist and segments into; emptied at start.
    pub dir: PathBuf,
    /// The spec's settings; a `source: file` path is already absolute.
    pub service: FfmpegOriginService,
}

impl OriginConfig {
    /// The JSON handed to the built-in.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

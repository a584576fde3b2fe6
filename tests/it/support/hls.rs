//! A live HLS source for tests: FFmpeg encodes a lavfi test pattern and a tone into a rolling
//! playlist in a temporary folder (`-re`, 1 s segments, segment deletion), and a small axum
//! server serves that folder on 127.0.0.1 with keep-alive. Faults can be switched on while it
//! runs (HTTP errors for segments or everything, bodies cut short) to record FFmpeg's reactions
//! and to test that the swarm sees them. The `ffmpeg-origin` service (`src/origin/`) is the
//! origin specs use; this one is small, in-process and can cut bodies short.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::body::Frame;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// How the server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Segments answer this status; playlists are fine.
    SegmentStatus(u16),
    /// Everything answers this status.
    AllStatus(u16),
    /// Segment bodies stop halfway (the connection is dropped).
    CutSegments,
    /// The next playlist body stops halfway, once.
    CutPlaylistOnce,
}

/// The FFmpeg perfgate resolves (`$PERFGATE_FFMPEG`, PATH, its cache, else provisioned into
/// the cache), or why there is none.
pub fn ffmpeg() -> Result<PathBuf, String> {
    perfgate::tools::resolve(&perfgate::tools::FFMPEG, None)
        .map(|tool| tool.path)
        .map_err(|e| e.to_string())
}

/// Skips loudly (never silently) when no FFmpeg can be found or provisioned.
#[macro_export]
macro_rules! require_ffmpeg {
    () => {
        match $crate::support::hls::ffmpeg() {
            Ok(path) => path,
            Err(why) => {
                eprintln!("\n!!! SKIPPED {}: no FFmpeg: {why}\n", module_path!());
                return;
            }
        }
    };
}

/// An FFmpeg encoder in its own process group, killed with it on drop.
struct Encoder(Child);

impl Drop for Encoder {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.0.id() as i32), Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

/// A live (or finished) HLS stream served on loopback.
pub struct HlsSource {
    dir: tempfile::TempDir,
    encoder: Option<Encoder>,
    addr: std::net::SocketAddr,
    fault: Arc<Mutex<Fault>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HlsSource {
    /// A live stream at 320x180 in 1 s segments: `-re` encoding into a rolling 6-segment
    /// playlist; returns once it lists at least 3 segments.
    pub async fn live(ffmpeg: &Path) -> anyhow::Result<Self> {
        Self::live_with(ffmpeg, "320x180", 1).await
    }

    /// `live` at `size` (`640x360`) in `segment`-second segments.
    pub async fn live_with(ffmpeg: &Path, size: &str, segment: u32) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut cmd = encoder_command(ffmpeg, dir.path());
        cmd.args(["-re"]);
        cmd.args(inputs(size, segment));
        let segment = segment.to_string();
        cmd.args(["-f", "hls", "-hls_time", &segment, "-hls_list_size", "6"]);
        cmd.args(["-hls_flags", "delete_segments+temp_file"]);
        cmd.arg(dir.path().join("live.m3u8"));
        let encoder = Encoder(cmd.spawn().context("starting the HLS encoder")?);
        let mut source = Self::serve(dir, Some(encoder)).await?;
        source.wait_for_segments(3, Duration::from_secs(30)).await?;
        Ok(source)
    }

    /// A finished (VOD) stream of `seconds`, encoded as fast as possible.
    pub async fn vod(ffmpeg: &Path, seconds: u32) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut cmd = encoder_command(ffmpeg, dir.path());
        cmd.args(inputs("320x180", 1));
        cmd.args(["-t", &seconds.to_string()]);
        cmd.args(["-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"]);
        cmd.arg(dir.path().join("live.m3u8"));
        let status = cmd.status().context("encoding the VOD stream")?;
        if !status.success() {
            bail!("encoding the VOD stream failed: {status}");
        }
        Self::serve(dir, None).await
    }

    /// The playlist URL.
    pub fn url(&self) -> String {
        format!("http://{}/live.m3u8", self.addr)
    }

    pub fn set_fault(&self, fault: Fault) {
        *self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fault;
    }

    /// Stops serving: the port then refuses connections.
    pub fn stop_serving(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    async fn serve(dir: tempfile::TempDir, encoder: Option<Encoder>) -> anyhow::Result<Self> {
        let fault = Arc::new(Mutex::new(Fault::None));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Served {
            dir: dir.path().to_owned(),
            fault: Arc::clone(&fault),
        };
        let router = Router::new().route("/{name}", get(file)).with_state(state);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            dir,
            encoder,
            addr,
            fault,
            stop: Some(stop),
        })
    }

    async fn wait_for_segments(&mut self, n: usize, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        let playlist = self.dir.path().join("live.m3u8");
        loop {
            let listed = std::fs::read_to_string(&playlist)
                .map(|t| t.lines().filter(|l| l.ends_with(".ts")).count())
                .unwrap_or(0);
            if listed >= n {
                return Ok(());
            }
            if let Some(Encoder(child)) = &mut self.encoder
                && let Some(status) = child.try_wait()?
            {
                bail!("the HLS encoder exited early: {status}");
            }
            if Instant::now() >= deadline {
                bail!("the HLS encoder listed {listed} of {n} segments within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for HlsSource {
    fn drop(&mut self) {
        self.stop_serving();
    }
}

/// testsrc2 at `size`, 25 fps, and a 440 Hz tone; x264 ultrafast, a keyframe per segment.
fn inputs(size: &str, segment: u32) -> Vec<String> {
    let video = format!("testsrc2=size={size}:rate=25");
    let gop = (25 * segment).to_string();
    let args = format!(
        "-f lavfi -i {video} -f lavfi -i sine=frequency=440:sample_rate=48000 \
         -c:v libx264 -preset ultrafast -g {gop} -sc_threshold 0 -c:a aac -b:a 64k -ac 1"
    );
    args.split_whitespace().map(str::to_owned).collect()
}

fn encoder_command(ffmpeg: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0);
    cmd
}

#[derive(Clone)]
struct Served {
    dir: PathBuf,
    fault: Arc<Mutex<Fault>>,
}

async fn file(State(s): State<Served>, UrlPath(name): UrlPath<String>) -> Response {
    if name.contains("..") || name.contains('/') {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let playlist = name.ends_with(".m3u8");
    let fault = {
        let mut f = s
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = *f;
        if playlist && now == Fault::CutPlaylistOnce {
            *f = Fault::None;
        }
        now
    };
    let status = match fault {
        Fault::AllStatus(code) => Some(code),
        Fault::SegmentStatus(code) if !playlist => Some(code),
        _ => None,
    };
    if let Some(code) = status {
        return StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
    }
    let Ok(data) = tokio::fs::read(s.dir.join(&name)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cut = match fault {
        Fault::CutSegments => !playlist,
        Fault::CutPlaylistOnce => playlist,
        _ => false,
    };
    let len = data.len();
    let body = if cut {
        Body::new(CutBody(Some(Bytes::from(data).slice(..len / 2))))
    } else {
        Body::from(data)
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let content_type = if playlist {
        "application/vnd.apple.mpegurl"
    } else {
        "video/mp2t"
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if playlist {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

/// A body that sends its first half and then fails, so the server drops the connection.
struct CutBody(Option<Bytes>);

impl hyper::body::Body for CutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(match self.0.take() {
            Some(half) => Ok(Frame::data(half)),
            None => Err(std::io::Error::other("cut on purpose")),
        }))
    }
}

//! The origin's HTTP surface: `/live.m3u8` (no caching), segments (`/seg00042.ts`), faults
//! applied per request, `/metrics`, `/-/ready` (the playlist lists a segment); `serve`
//! (embeddable) and `run` (the built-in process: encoder + server + playlist watcher).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use super::config::OriginConfig;
use super::encoder::{Encoder, prepare_dir};
use super::faults::{Faults, Object};
use super::metrics::OriginMetrics;
use super::playlist::{PLAYLIST, Playlist};

/// How often the watcher reads the playlist: a small file, rewritten once per segment.
const WATCH_EVERY: Duration = Duration::from_millis(100);

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";
const SEGMENT_TYPE: &str = "video/mp2t";
/// How long in-flight requests may finish after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long after FFmpeg's exit a stop signal may still arrive to make that exit expected
/// (SIGTERM reaches the whole process group at once).
const STOP_SIGNAL_SLACK: Duration = Duration::from_millis(500);

/// The live state every request reads.
pub(crate) struct Origin {
    dir: PathBuf,
    metrics: OriginMetrics,
    faults: Faults,
    /// The playlist as last read, and what it lists.
    live: RwLock<(Bytes, Playlist)>,
    /// Segments listed in the playlist, read once; pruned when they leave it.
    segments: Mutex<HashMap<String, Bytes>>,
    /// `Cache-Control` of segments: immutable while the playlist window lasts.
    segment_cache_control: HeaderValue,
}

impl Origin {
    pub(crate) fn new(config: &OriginConfig) -> Self {
        let s = &config.service;
        let lifetime = (s.segment * s.window).as_secs().max(1);
        Self {
            dir: config.dir.clone(),
            metrics: OriginMetrics::new(s.faults.status),
            faults: Faults::new(s.faults.clone()),
            live: RwLock::new((Bytes::new(), Playlist::default())),
            segments: Mutex::new(HashMap::new()),
            segment_cache_control: HeaderValue::from_str(&format!("max-age={lifetime}"))
                .unwrap_or(HeaderValue::from_static("no-cache")),
        }
    }

    /// A new playlist from the watcher.
    pub(crate) fn publish(&self, bytes: Bytes, playlist: Playlist) {
        self.metrics
            .playlist(playlist.produced(), playlist.media_sequence);
        lock(&self.segments).retain(|name, _| playlist.segments.contains(name));
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = (bytes, playlist);
    }

    fn playlist(&self) -> (Bytes, bool) {
        let live = self.live.read().unwrap_or_else(|e| e.into_inner());
        (live.0.clone(), !live.1.segments.is_empty())
    }

    /// A segment's bytes: from memory when listed and read before, else from disk.
    async fn segment(&self, name: &str) -> Option<Bytes> {
        if let Some(bytes) = lock(&self.segments).get(name) {
            return Some(bytes.clone());
        }
        let bytes = Bytes::from(tokio::fs::read(self.dir.join(name)).await.ok()?);
        let listed = self
            .live
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .segments
            .iter()
            .any(|s| s == name);
        if listed {
            lock(&self.segments).insert(name.to_owned(), bytes.clone());
        }
        Some(bytes)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

type Shared = Arc<Origin>;

/// Serves `origin` on `listener` until `shutdown` resolves.
pub(crate) async fn serve(
    listener: TcpListener,
    origin: Arc<Origin>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new()
        .route(&format!("/{PLAYLIST}"), get(playlist))
        .route("/{file}", get(segment))
        .route("/metrics", get(metrics))
        .route("/-/ready", get(ready))
        .fallback(other)
        .with_state(origin);
    // Small responses must not wait for Nagle + delayed ACK on keep-alive connections.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Records a request when answered, or as 499 (client closed the request) when its future is
/// dropped first, e.g. during an injected delay.
struct Tracked<'a> {
    origin: &'a Origin,
    object: Object,
    started: Instant,
    done: bool,
}

impl Tracked<'_> {
    fn finish(&mut self, status: u16, body: u64) {
        if !self.done {
            self.done = true;
            self.origin
                .metrics
                .request(self.object, status, body, self.started.elapsed());
        }
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.finish(499, 0);
    }
}

/// Applies the request's faults, then answers with `found` (content type, cache control, body)
/// or 404.
async fn answer<F, Fut>(origin: &Origin, object: Object, found: F) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Option<(&'static str, HeaderValue, Bytes)>>,
{
    let now = Instant::now();
    let mut tracked = Tracked {
        origin,
        object,
        started: now,
        done: false,
    };
    let plan = origin.faults.plan(object, now);
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if let Some((status, kind)) = plan.fail {
        origin.metrics.fault(kind);
        tracked.finish(status, 0);
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (code, "injected fault\n").into_response();
    }
    let Some((content_type, cache_control, body)) = found().await else {
        tracked.finish(404, 0);
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    tracked.finish(200, body.len() as u64);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, cache_control);
    response
}

async fn playlist(State(origin): State<Shared>) -> Response {
    answer(&origin, Object::Playlist, || async {
        let (bytes, _) = origin.playlist();
        (!bytes.is_empty()).then(|| (PLAYLIST_TYPE, HeaderValue::from_static("no-cache"), bytes))
    })
    .await
}

async fn segment(State(origin): State<Shared>, UrlPath(file): UrlPath<String>) -> Response {
    if !is_segment_name(&file) {
        return other(State(origin)).await;
    }
    answer(&origin, Object::Segment, || async {
        let bytes = origin.segment(&file).await?;
        Some((SEGMENT_TYPE, origin.segment_cache_control.clone(), bytes))
    })
    .await
}

async fn other(State(origin): State<Shared>) -> Response {
    answer(&origin, Object::Other, || async { None }).await
}

/// `seg00042.ts`: letters, digits, `_` and `-`, then `.ts`; nothing that could leave the folder.
fn is_segment_name(name: &str) -> bool {
    name.strip_suffix(".ts").is_some_and(|stem| {
        !stem.is_empty()
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

async fn metrics(State(origin): State<Shared>) -> Response {
    crate::serve::openmetrics_response(origin.metrics.encode())
}

/// Ready once the playlist lists a segment; never subject to faults or counted.
async fn ready(State(origin): State<Shared>) -> Response {
    if origin.playlist().1 {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "no segment yet\n").into_response()
    }
}

/// Runs the origin as a process: starts FFmpeg, serves until SIGTERM/SIGINT, then stops FFmpeg.
/// FFmpeg exiting on its own ends the process with an error (its last lines are in the log).
pub fn run(config: OriginConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered before FFmpeg starts, so a group-wide SIGTERM is never missed.
        let mut sigterm = signal(SignalKind::terminate())?;
        prepare_dir(&config.dir)?;
        let listener = crate::serve::bind_listener(config.listen)?;
        let addr = listener.local_addr()?;
        let mut encoder = Encoder::spawn(&config)?;
        let origin = Arc::new(Origin::new(&config));
        origin.metrics.encoder_up(true);
        {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            writeln!(
                stdout,
                "ffmpeg-origin listening on http://{addr} (ffmpeg pid {}, writing {})",
                encoder.pid().unwrap_or(0),
                config.dir.display()
            )?;
            stdout.flush()?;
        }
        let watcher = tokio::spawn(watch(config.dir.clone(), Arc::clone(&origin)));
        let served = crate::serve::serve_until_signalled(
            |stop| async {
                tokio::select! {
                    served = serve(listener, Arc::clone(&origin), stop) => served,
                    status = encoder.exited() => {
                        origin.metrics.encoder_up(false);
                        let stopping = tokio::time::timeout(STOP_SIGNAL_SLACK, sigterm.recv()).await.is_ok();
                        match status {
                            _ if stopping => Ok(()),
                            Ok(status) => Err(std::io::Error::other(format!("ffmpeg exited ({status}); its last lines are above"))),
                            Err(e) => Err(e),
                        }
                    }
                }
            },
            SHUTDOWN_GRACE,
        )
        .await;
        watcher.abort();
        encoder.stop().await;
        served?;
        Ok(())
    })
}

/// Re-reads the playlist every `WATCH_EVERY` and publishes changes to `origin`; runs until
/// aborted. FFmpeg replaces the file by a rename, so every read sees a whole playlist.
pub(crate) async fn watch(dir: PathBuf, origin: Arc<Origin>) {
    let path = dir.join(PLAYLIST);
    let mut last = Vec::new();
    loop {
        if let Ok(bytes) = tokio::fs::read(&path).await
            && bytes != last
        {
            let parsed = Playlist::parse(&String::from_utf8_lossy(&bytes));
            origin.publish(bytes.clone().into(), parsed);
            last = bytes;
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_cannot_leave_the_folder() {
        assert!(is_segment_name("seg00042.ts"));
        assert!(is_segment_name("live_1-a.ts"));
        for bad in ["../x.ts", ".ts", "seg.m3u8", "a/b.ts", "..ts", "seg 1.ts"] {
            assert!(!is_segment_name(bad), "{bad}");
        }
    }
}

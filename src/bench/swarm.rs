//! The swarm benchmark: how many copy-mode FFmpeg clients keep up with a live 360p HLS stream on
//! this machine, and what perfgate's own supervisor and parsers cost per 100 clients (the
//! engine process's CPU time in the steady window, clients excluded: they are other processes).
//! The origin runs in a separate process (started by the bench entry point), so its CPU is not
//! counted as the engine's either.
//!
//! This is a binary edge (the `swarm` bench's `main`), hence anyhow.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::doc::{publish, today};
use super::host::{benching, children_cpu, own_cpu};
use super::procfs::{CpuTicks, cpu_time, load_average, machine};
use crate::load::swarm::{
    self, DEFAULT_MEDIA_WINDOW, SpeedQuantiles, SwarmConfig, SwarmOutcome, SwarmProgress,
};
use crate::load::{EngineMetrics, watching};

/// Set in the environment of the re-executed bench binary: it then serves the live origin and
/// prints its playlist URL on stdout.
pub const ORIGIN_ENV: &str = "PERFGATE_BENCH_SWARM_ORIGIN";
/// Comma-separated client counts to try (default 50,100,200,500).
pub const CLIENTS_ENV: &str = "PERFGATE_BENCH_SWARM_CLIENTS";
/// Seconds of steady state after the ramp (default 40).
pub const STEADY_ENV: &str = "PERFGATE_BENCH_SWARM_SECS";
const DEFAULT_CLIENTS: [u32; 4] = [50, 100, 200, 500];
const RAMP: f64 = 25.0;
/// The steady window starts this long after the ramp, so media speeds span a full window.
const SETTLE: Duration = Duration::from_secs(12);
/// Media speed p5 a level must keep to count as sustained.
const SUSTAINED: f64 = 0.98;

/// One level's figures.
struct Level {
    clients: u32,
    outcome: SwarmOutcome,
    /// The last snapshot before the end.
    last: SwarmProgress,
    /// perfgate's CPU in the steady window, as a share of one core.
    engine_cpu: f64,
    /// The clients' CPU (reaped children) over the whole level, per client, share of a core.
    client_cpu: f64,
    /// How busy all cores were in the steady window (0..1).
    machine_busy: f64,
    /// The origin's HTTP server (not its encoder) in the steady window, share of a core.
    origin_cpu: f64,
}

impl Level {
    fn sustained(&self) -> bool {
        let o = &self.outcome;
        o.clients_failed == 0
            && o.stalls == 0
            && self.last.clients.running == self.clients
            && self.last.media_speed.is_some_and(|s| s.p5 >= SUSTAINED)
    }
}

/// Entry point of `benches/swarm.rs`. `origin` starts the origin process (this binary with
/// `ORIGIN_ENV` set); `doc` is the performance page to update.
pub fn main(doc: &Path, origin: Command) -> anyhow::Result<()> {
    if !benching("swarm") {
        return Ok(());
    }
    let ffmpeg = crate::tools::resolve(&crate::tools::FFMPEG, None)
        .context("the swarm benchmark needs FFmpeg")?
        .path;
    let levels: Vec<u32> = match std::env::var(CLIENTS_ENV) {
        Ok(s) => s
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .with_context(|| format!("{CLIENTS_ENV}={s}"))
            })
            .collect::<Result<_, _>>()?,
        Err(_) => DEFAULT_CLIENTS.to_vec(),
    };
    let steady: u64 = match std::env::var(STEADY_ENV) {
        Ok(s) => s.parse().with_context(|| format!("{STEADY_ENV}={s}"))?,
        Err(_) => 40,
    };
    let origin = Origin::spawn(origin)?;
    eprintln!(
        "swarm: origin (pid {}) at {}",
        origin.child.id(),
        origin.url
    );
    let load_before = load_average();
    let runtime = tokio::runtime::Runtime::new()?;
    let mut results = Vec::new();
    for clients in levels {
        let level = runtime.block_on(measure(&ffmpeg, &origin, clients, steady))?;
        eprintln!(
            "swarm: {clients} clients: sustained {}, media speed p5 {:?}, engine {:.2} % of a core",
            level.sustained(),
            level.last.media_speed.map(|s| s.p5),
            level.engine_cpu * 100.0
        );
        results.push(level);
    }
    drop(origin);
    let section = render(&results, steady, (load_before, load_average()));
    publish(doc, "swarm", "cargo bench --bench swarm", &section)?;
    Ok(())
}

async fn measure(
    ffmpeg: &Path,
    origin: &Origin,
    clients: u32,
    steady: u64,
) -> anyhow::Result<Level> {
    let url = origin.url.as_str();
    let origin_pid = origin.child.id();
    let ramp_time = Duration::from_secs_f64(f64::from(clients) / RAMP);
    let config = SwarmConfig {
        ramp: RAMP,
        duration: ramp_time + SETTLE + Duration::from_secs(steady),
        ..SwarmConfig::new(ffmpeg.to_owned(), url.to_owned(), clients)
    };
    let steady_from = ramp_time + SETTLE;
    let steady_to = config.duration - Duration::from_millis(500);
    let metrics = EngineMetrics::new();
    let (tx, rx) = tokio::sync::watch::channel(SwarmProgress::default());
    let children_before = children_cpu();
    let started = Instant::now();
    let engine = swarm::run("bench", &config, &metrics.swarm, Some(tx));
    let mut window: Option<(Duration, Duration, CpuTicks, Duration)> = None;
    let mut engine_cpu = None;
    let mut machine_busy = 0.0;
    let mut origin_cpu = 0.0;
    let mut last = SwarmProgress::default();
    let outcome = watching(engine, rx, |p| {
        let now = started.elapsed();
        if window.is_none() && now >= steady_from {
            let origin0 = cpu_time(origin_pid).unwrap_or_default();
            window = Some((now, own_cpu(), CpuTicks::now(), origin0));
        }
        if let Some((t0, cpu0, ticks0, origin0)) = window
            && engine_cpu.is_none()
            && now >= steady_to
        {
            let wall = (now - t0).as_secs_f64();
            engine_cpu = Some((own_cpu() - cpu0).as_secs_f64() / wall);
            machine_busy = CpuTicks::now().busy_since(&ticks0);
            let origin1 = cpu_time(origin_pid).unwrap_or_default();
            origin_cpu = (origin1.saturating_sub(origin0)).as_secs_f64() / wall;
        }
        if p.elapsed < config.duration.as_secs_f64() {
            last = p.clone();
        }
    })
    .await?;
    let Some(engine_cpu) = engine_cpu else {
        bail!("the swarm of {clients} ended before its steady window did");
    };
    let client_secs = (children_cpu() - children_before).as_secs_f64();
    let client_cpu = client_secs / outcome.wall_duration / f64::from(clients);
    Ok(Level {
        clients,
        outcome,
        last,
        engine_cpu,
        client_cpu,
        machine_busy,
        origin_cpu,
    })
}

/// The origin process. Dropping it closes its stdin, which makes it stop its encoder and exit
/// (also when this process dies); the group is killed after a grace period regardless.
struct Origin {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    url: String,
}

impl Origin {
    fn spawn(mut command: Command) -> anyhow::Result<Self> {
        use std::os::unix::process::CommandExt;
        let mut child = command
            .env(ORIGIN_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .context("starting the origin")?;
        let stdout = child.stdout.take().context("origin stdout")?;
        let mut origin = Self {
            stdin: child.stdin.take(),
            child,
            url: String::new(),
        };
        // The origin prints its URL once its playlist lists segments (or exits on failure).
        BufReader::new(stdout)
            .read_line(&mut origin.url)
            .context("reading the origin URL")?;
        origin.url = origin.url.trim().to_owned();
        if origin.url.is_empty() {
            bail!("the origin exited without serving");
        }
        Ok(origin)
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn render(levels: &[Level], steady: u64, load: (Option<f64>, Option<f64>)) -> String {
    let f2 = |v: f64| format!("{v:.2}");
    let q = |s: Option<SpeedQuantiles>, f: fn(&SpeedQuantiles) -> f64| {
        s.as_ref().map_or("–".into(), |s| format!("{:.3}", f(s)))
    };
    let mut rows = String::new();
    for l in levels {
        let o = &l.outcome;
        rows.push_str(&format!(
            "| {} | {} | {}/{} | {} | {} | {} | {} / {} | {} | {} | {} % | **{} %** | {} % | {} % | {} % |\n",
            l.clients,
            if l.sustained() { "yes" } else { "**no**" },
            l.last.clients.running,
            l.clients,
            q(l.last.media_speed, |s| s.p5),
            q(l.last.media_speed, |s| s.p50),
            q(l.last.speed, |s| s.p5),
            o.stalls,
            o.restarts,
            o.errors_total,
            o.ttff.map_or("–".into(), |t| f2(t.p95)),
            f2(l.engine_cpu * 100.0),
            f2(l.engine_cpu * 100.0 * 100.0 / f64::from(l.clients)),
            f2(l.client_cpu * 100.0),
            f2(l.origin_cpu * 100.0),
            f2(l.machine_busy * 100.0),
        ));
    }
    let average = |l: Option<f64>| l.map_or("?".into(), f2);
    let window = DEFAULT_MEDIA_WINDOW.as_secs();
    format!(
        "## Swarm engine\n\n\
         Measured {} on {}, release build. Origin: testsrc2 640x360 at 25 fps, x264 \
         ultrafast, 2 s segments, a 6-segment live window, served on loopback with keep-alive \
         by the test origin (`tests/it/support/hls.rs`) in its own process. Clients: FFmpeg \
         copy mode (`-c copy -f mpegts /dev/null`), ramp {RAMP}/s, stall after 5 s; each level \
         runs the ramp, {}s to settle, then {steady} s of steady state. Origin, clients and \
         engine **share the same 2 cores**.\n\n\
         1-minute load average before / after: {} / {}.\n\n\
         | clients | sustained | running at end | media speed p5 | p50 | FFmpeg speed p5 | stalls / restarts | errors | first frame p95 s | perfgate CPU (share of a core) | perfgate CPU per 100 clients | CPU per client (FFmpeg) | origin HTTP server CPU | all cores busy |\n\
         |---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n{rows}\n\
         *Sustained* means every client running at the end, no stall, no failed client and media \
         speed p5 ≥ {SUSTAINED}. Media speed is media time gained per wall second over the last \
         {window} s (the engine's default), measured between media advances (1.0 = keeping up with live); FFmpeg's own speed is \
         a running average since each client's start and stays above 1 for a while because a \
         client starts about 3 segments behind live. perfgate CPU is the engine process's user + \
         system time (getrusage) over the steady window: supervisor, parsers, aggregator and \
         exporter, not the FFmpeg clients (separate processes) nor the origin. CPU per client is \
         the reaped clients' own time over the whole level. Reproduce with `cargo bench --bench \
         swarm` (`{CLIENTS_ENV}=50,100`, `{STEADY_ENV}=40`).",
        today(),
        machine(),
        SETTLE.as_secs(),
        average(load.0),
        average(load.1),
    )
}

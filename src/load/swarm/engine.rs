//! The swarm loop: one task owns the supervisor and the aggregator; client tasks send their
//! events over one channel; the loop wakes for events, for the supervisor's next deadline (ramp
//! start, stall, restart, end) and every 200 ms for a snapshot. Bounded in time (duration plus
//! a grace to reap) and in count (clients × (restarts + 1) processes).
//!
//! The whole swarm runs on its own thread with a single-threaded runtime: hundreds of clients
//! wake it thousands of times a second, and one thread taking every ready pipe from one
//! `epoll_wait` costs a fraction of what waking worker threads across cores does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::command::ClientCommand;
use super::config::SwarmConfig;
use super::error::SwarmError;
use super::events::ClientEvent;
use super::metrics::{Count, SwarmHandles, SwarmMetrics};
use super::outcome::{SwarmOutcome, SwarmProgress};
use super::process::{Report, run_client};
use super::stats::Aggregator;
use super::supervisor::{ClientState, Effect, Supervisor};

const SNAPSHOT_EVERY: Duration = Duration::from_millis(200);
/// How long killed clients get to be reaped after the end.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Events queued between client tasks and the loop.
const QUEUE: usize = 4096;

/// Runs one swarm to its end and reports what happened. Fails only when it cannot start
/// (invalid config, no usable FFmpeg); client failures are in the outcome and the metrics.
/// Dropping the future stops the swarm: every client is killed and reaped on the swarm's thread.
pub async fn run(
    phase: &str,
    config: &SwarmConfig,
    metrics: &SwarmMetrics,
    progress: Option<watch::Sender<SwarmProgress>>,
) -> Result<SwarmOutcome, SwarmError> {
    config.validate()?;
    // Ctrl-C and SIGTERM must reach the clients too.
    crate::reaper::install_signal_handler();
    let command = Arc::new(ClientCommand::for_config(config).await?);
    let aggregator =
        Aggregator::new(config.clients).map_err(|e| SwarmError::Engine(e.to_string()))?;
    let handles = metrics.phase(phase, config.clients, config.per_client_metrics);
    let (outcome_tx, outcome) = oneshot::channel();
    // Dropped with this future: the swarm then stops.
    let (_stop, stopped) = oneshot::channel::<()>();
    let (phase, config) = (phase.to_owned(), config.clone());
    let thread = move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SwarmError::Engine(format!("swarm runtime: {e}")));
        let result = runtime.map(|rt| {
            rt.block_on(async {
                let (events_tx, events) = mpsc::channel(QUEUE);
                let mut swarm = Swarm {
                    supervisor: Supervisor::new(&config),
                    aggregator,
                    handles,
                    command,
                    events_tx,
                    kills: (0..config.clients).map(|_| None).collect(),
                    tasks: JoinSet::new(),
                    effects: Vec::new(),
                    started: Instant::now(),
                    duration: config.duration,
                };
                swarm.run(events, progress.as_ref(), stopped).await;
                let wall = swarm.started.elapsed().as_secs_f64();
                swarm.outcome(&phase, &config, wall)
            })
        });
        let _ = outcome_tx.send(result);
    };
    std::thread::Builder::new()
        .name("perfgate-swarm".into())
        .spawn(thread)
        .map_err(|e| SwarmError::Engine(format!("swarm thread: {e}")))?;
    outcome
        .await
        .map_err(|_| SwarmError::Engine("the swarm thread ended without an outcome".into()))?
}

struct Swarm {
    supervisor: Supervisor,
    aggregator: Aggregator,
    handles: SwarmHandles,
    command: Arc<ClientCommand>,
    events_tx: mpsc::Sender<Report>,
    /// Per client: dropping or sending on it kills the running process.
    kills: Vec<Option<oneshot::Sender<()>>>,
    tasks: JoinSet<()>,
    effects: Vec<Effect>,
    started: Instant,
    duration: Duration,
}

impl Swarm {
    async fn run(
        &mut self,
        mut events: mpsc::Receiver<Report>,
        progress: Option<&watch::Sender<SwarmProgress>>,
        mut stop: oneshot::Receiver<()>,
    ) {
        let mut hard_stop = self.duration + STOP_GRACE;
        let mut stopping = false;
        let mut next_snapshot = Duration::ZERO;
        loop {
            let now = self.started.elapsed();
            if self.supervisor.next_due().is_some_and(|due| now >= due) {
                self.supervisor.tick(now, &mut self.effects);
                self.apply();
            }
            if now >= next_snapshot || self.supervisor.ended() {
                let snapshot = self.snapshot(now);
                if let Some(tx) = progress {
                    let _ = tx.send(snapshot);
                }
                next_snapshot = now + SNAPSHOT_EVERY;
            }
            if self.supervisor.ended() && self.supervisor.all_exited() {
                break;
            }
            if now >= hard_stop {
                tracing::warn!("swarm: clients not reaped within {STOP_GRACE:?}; killing");
                break;
            }
            let wake = self
                .supervisor
                .next_due()
                .unwrap_or(hard_stop)
                .min(next_snapshot)
                .min(hard_stop);
            tokio::select! {
                Some(report) = events.recv() => {
                    self.take(report);
                    // Take what else is queued before the next tick.
                    while let Ok(report) = events.try_recv() {
                        self.take(report);
                    }
                }
                () = tokio::time::sleep_until((self.started + wake).into()) => {}
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
                _ = &mut stop, if !stopping => {
                    // The caller is gone: end now, and still reap every client.
                    stopping = true;
                    let now = self.started.elapsed();
                    self.supervisor.stop(now, &mut self.effects);
                    self.apply();
                    hard_stop = hard_stop.min(now + STOP_GRACE);
                }
            }
        }
        // Anything still running is killed with its task.
        self.kills.clear();
        self.tasks.shutdown().await;
    }

    fn take(&mut self, report: Report) {
        let now = self.started.elapsed();
        let client = report.client;
        match &report.event {
            ClientEvent::Segment { .. } => self.handles.count(Count::Segments, client, 1),
            ClientEvent::Playlist { .. } => self.handles.count(Count::Playlists, client, 1),
            ClientEvent::Error(kind) => self.handles.error(client, *kind),
            ClientEvent::Progress(_) => {}
            ClientEvent::Exited(_) => {
                // The task is done; its kill switch is no longer needed.
                if let Some(k) = self.kills.get_mut(client as usize) {
                    *k = None;
                }
            }
        }
        let bytes = self.aggregator.event(client, &report.event);
        if bytes > 0 {
            self.handles.count(Count::Bytes, client, bytes);
        }
        self.supervisor.event(
            now,
            client,
            report.attempt,
            &report.event,
            &mut self.effects,
        );
        self.apply();
    }

    /// Carries out and counts the supervisor's effects.
    fn apply(&mut self) {
        for effect in std::mem::take(&mut self.effects) {
            self.aggregator.effect(&effect);
            match effect {
                Effect::Spawn { client, attempt } => {
                    let (kill, killed) = oneshot::channel();
                    if let Some(k) = self.kills.get_mut(client as usize) {
                        *k = Some(kill);
                    }
                    self.tasks.spawn(run_client(
                        client,
                        attempt,
                        Arc::clone(&self.command),
                        self.events_tx.clone(),
                        killed,
                    ));
                }
                Effect::Kill { client } => {
                    if let Some(kill) = self.kills.get_mut(client as usize).and_then(Option::take) {
                        let _ = kill.send(());
                    }
                }
                Effect::FirstMedia { after, .. } => self.handles.first_media(after.as_secs_f64()),
                Effect::Stalled { client } => self.handles.count(Count::Stalls, client, 1),
                Effect::Restarted { client } => self.handles.count(Count::Restarts, client, 1),
                Effect::Exited { client, kind } => self.handles.error(client, kind),
            }
        }
    }

    fn snapshot(&mut self, now: Duration) -> SwarmProgress {
        let clients = self.supervisor.clients();
        let snapshot = self.aggregator.snapshot(now, self.duration, clients);
        self.handles
            .snapshot(&snapshot, clients.iter().map(|c| c.speed));
        snapshot
    }

    fn outcome(&self, phase: &str, config: &SwarmConfig, wall: f64) -> SwarmOutcome {
        let a = &self.aggregator;
        let clients = self.supervisor.clients();
        let errors = a.error_labels();
        SwarmOutcome {
            phase: phase.to_owned(),
            url: config.url.clone(),
            clients: config.clients,
            ramp: Some(config.ramp).filter(|r| r.is_finite()),
            decode: config.decode,
            duration: config.duration.as_secs_f64(),
            wall_duration: wall,
            clients_started: clients.iter().filter(|c| c.ever_ran).count() as u32,
            peak_running: a.peak_running,
            clients_failed: clients
                .iter()
                .filter(|c| c.state == ClientState::Failed)
                .count() as u32,
            spawns: a.spawns,
            restarts: a.restarts,
            stalls: a.stalls,
            segments: a.segments,
            completed: a.segments,
            playlists: a.playlists,
            bytes: a.bytes,
            errors_total: errors.values().sum(),
            errors,
            speed: a.last_speed,
            media_speed: a.last_media_speed,
            ttff: a.ttff(),
        }
    }
}

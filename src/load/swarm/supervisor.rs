//! The per-client state machine, pure: time is passed in (as the time since the swarm started)
//! and decisions come out as `Effect`s for the engine to carry out, so it is tested with tables.
//!
//! ```text
//! pending ─ramp─▶ starting ─first media─▶ running
//!                    │  no media advance for stall_after  │
//!                    └──────────────▶ stalled ◀───────────┘   (killed)
//!  exit or stall ─▶ backoff ─delay─▶ starting   (min·2^k up to max, `max` times)
//!  no restart left ─▶ failed (a clean exit: stopped)         end of duration ─▶ stopped
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use super::config::SwarmConfig;
use super::events::{ClientEvent, ErrorKind, ExitStatus};

/// Where a client is; the `state` label of `perfgate_swarm_clients`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientState {
    /// Not started yet (ramp-up).
    Pending,
    /// Its process runs but has produced no media yet.
    Starting,
    /// Media time advances.
    Running,
    /// No media advance for `stall_after`; its process is being killed.
    Stalled,
    /// Waiting to be restarted.
    Backoff,
    /// Ended: the run is over, or its stream ended cleanly with no restart left.
    Stopped,
    /// Failed with no restart left.
    Failed,
}

/// Every state, in the order tables and metrics show them.
pub const STATES: [ClientState; 7] = [
    ClientState::Pending,
    ClientState::Starting,
    ClientState::Running,
    ClientState::Stalled,
    ClientState::Backoff,
    ClientState::Stopped,
    ClientState::Failed,
];

impl ClientState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Stalled => "stalled",
            Self::Backoff => "backoff",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }

    pub(crate) fn index(self) -> usize {
        STATES.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// What the engine must do, or count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Start process number `attempt` of `client`.
    Spawn {
        client: u32,
        attempt: u32,
    },
    /// Kill `client`'s process group.
    Kill {
        client: u32,
    },
    /// The client's process produced media, `after` its start.
    FirstMedia {
        client: u32,
        after: Duration,
    },
    Stalled {
        client: u32,
    },
    /// A restart (its `Spawn` follows).
    Restarted {
        client: u32,
    },
    /// The process ended on its own before the run's end.
    Exited {
        client: u32,
        kind: ErrorKind,
    },
}

/// One client's bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Client {
    pub state: ClientState,
    /// Processes started so far (the current one's number).
    pub attempt: u32,
    pub restarts: u32,
    /// A process runs (started, its exit not yet seen).
    pub alive: bool,
    /// It produced media at least once (any attempt).
    pub ever_ran: bool,
    /// FFmpeg's last reported speed for the current process.
    pub speed: Option<f64>,
    spawned_at: Duration,
    last_advance: Duration,
    /// (time, media µs) at each media advance of the current process: the window's.
    advances: VecDeque<(Duration, u64)>,
    window: Duration,
    media_us: u64,
    frames: u64,
    has_media: bool,
    retry_at: Duration,
}

impl Client {
    fn new(window: Duration) -> Self {
        Self {
            state: ClientState::Pending,
            attempt: 0,
            restarts: 0,
            alive: false,
            ever_ran: false,
            speed: None,
            spawned_at: Duration::ZERO,
            last_advance: Duration::ZERO,
            advances: VecDeque::new(),
            window,
            media_us: 0,
            frames: 0,
            has_media: false,
            retry_at: Duration::ZERO,
        }
    }
}

impl Client {
    /// Media time gained per second of wall time over the last media window, measured from
    /// one media advance to another (so segment-sized steps do not blur it, and the start-up
    /// burst drops out of the window). `None` until the window spans half its length.
    pub(crate) fn media_speed(&self) -> Option<f64> {
        let (&(t0, m0), &(t1, m1)) = (self.advances.front()?, self.advances.back()?);
        let span = t1.saturating_sub(t0);
        (span >= self.window / 2).then(|| (m1 - m0) as f64 / 1e6 / span.as_secs_f64())
    }

    fn advanced(&mut self, now: Duration) {
        self.last_advance = now;
        self.advances.push_back((now, self.media_us));
        // Keep the newest advance at least a window old as the base.
        while self
            .advances
            .get(1)
            .is_some_and(|(t, _)| now.saturating_sub(*t) >= self.window)
        {
            self.advances.pop_front();
        }
    }
}

/// Every client's state machine.
#[derive(Debug)]
pub(crate) struct Supervisor {
    /// Its own copy: `stop` shortens the duration.
    config: SwarmConfig,
    clients: Vec<Client>,
    /// Clients started by the ramp so far.
    ramped: u32,
    ended: bool,
    /// No later than the next time `tick` has something to do.
    due: Option<Duration>,
}

impl Supervisor {
    pub(crate) fn new(config: &SwarmConfig) -> Self {
        Self {
            config: config.clone(),
            clients: (0..config.clients)
                .map(|_| Client::new(config.media_window))
                .collect(),
            ramped: 0,
            ended: false,
            due: Some(Duration::ZERO),
        }
    }

    pub(crate) fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// The duration is over (every client was told to stop).
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// No client process is running.
    pub(crate) fn all_exited(&self) -> bool {
        self.clients.iter().all(|c| !c.alive)
    }

    /// Ends the swarm before its duration: every live client is killed.
    pub(crate) fn stop(&mut self, now: Duration, out: &mut Vec<Effect>) {
        if !self.ended {
            self.config.duration = self.config.duration.min(now);
            self.end(out);
        }
    }

    /// Advances time: the end, ramp starts, stalls, restarts due.
    pub(crate) fn tick(&mut self, now: Duration, out: &mut Vec<Effect>) {
        if self.ended {
            return;
        }
        if now >= self.config.duration {
            self.end(out);
            return;
        }
        while self.ramped < self.config.clients && now >= self.config.start_of(self.ramped) {
            let id = self.ramped;
            self.ramped += 1;
            self.spawn(id, now, out);
        }
        for id in 0..self.config.clients {
            let c = &mut self.clients[id as usize];
            match c.state {
                ClientState::Starting | ClientState::Running
                    if c.alive && now.saturating_sub(c.last_advance) >= self.config.stall_after =>
                {
                    c.state = ClientState::Stalled;
                    out.push(Effect::Stalled { client: id });
                    out.push(Effect::Kill { client: id });
                }
                ClientState::Backoff if now >= c.retry_at => {
                    c.restarts += 1;
                    out.push(Effect::Restarted { client: id });
                    self.spawn(id, now, out);
                }
                _ => {}
            }
        }
        self.due = self.compute_due();
    }

    /// No later than the next time `tick` has something to do (`None`: never again). Cheap:
    /// kept up to date by `tick` and by events that schedule a restart.
    pub(crate) fn next_due(&self) -> Option<Duration> {
        self.due
    }

    fn compute_due(&self) -> Option<Duration> {
        if self.ended {
            return None;
        }
        let ramp = (self.ramped < self.config.clients).then(|| self.config.start_of(self.ramped));
        let per_client = self.clients.iter().filter_map(|c| match c.state {
            ClientState::Starting | ClientState::Running if c.alive => {
                Some(c.last_advance + self.config.stall_after)
            }
            ClientState::Backoff => Some(c.retry_at),
            _ => None,
        });
        ramp.into_iter()
            .chain(per_client)
            .chain([self.config.duration])
            .min()
    }

    /// Takes an event of process `attempt` of `client`.
    pub(crate) fn event(
        &mut self,
        now: Duration,
        client: u32,
        attempt: u32,
        event: &ClientEvent,
        out: &mut Vec<Effect>,
    ) {
        let ended = self.ended;
        let restart = self.config.restart;
        let Some(c) = self.clients.get_mut(client as usize) else {
            return;
        };
        if attempt != c.attempt || !c.alive {
            return;
        }
        match event {
            ClientEvent::Progress(block) => {
                if block.speed.is_some() {
                    c.speed = block.speed;
                }
                let media = block.out_time_us.unwrap_or(0);
                if media > c.media_us || block.frame > c.frames {
                    c.media_us = c.media_us.max(media);
                    c.frames = c.frames.max(block.frame);
                    c.advanced(now);
                }
                if !c.has_media && block.has_media() {
                    c.has_media = true;
                    c.ever_ran = true;
                    out.push(Effect::FirstMedia {
                        client,
                        after: now.saturating_sub(c.spawned_at),
                    });
                    if c.state == ClientState::Starting {
                        c.state = ClientState::Running;
                    }
                }
            }
            ClientEvent::Exited(status) => {
                c.alive = false;
                c.speed = None;
                if ended {
                    return;
                }
                let give_up = match c.state {
                    // Killed for stalling: that was counted as a stall, not an exit.
                    ClientState::Stalled => ClientState::Failed,
                    ClientState::Starting | ClientState::Running => {
                        let kind = match status {
                            ExitStatus::NotStarted => ErrorKind::Spawn,
                            s if s.success() => ErrorKind::Eof,
                            _ => ErrorKind::Exit,
                        };
                        out.push(Effect::Exited { client, kind });
                        if kind == ErrorKind::Eof {
                            ClientState::Stopped
                        } else {
                            ClientState::Failed
                        }
                    }
                    _ => return,
                };
                if c.restarts < restart.max {
                    c.state = ClientState::Backoff;
                    c.retry_at = now + restart.delay(c.restarts);
                    self.due = self.due.map(|d| d.min(c.retry_at));
                } else {
                    c.state = give_up;
                }
            }
            _ => {}
        }
    }

    fn spawn(&mut self, id: u32, now: Duration, out: &mut Vec<Effect>) {
        let c = &mut self.clients[id as usize];
        c.attempt += 1;
        c.alive = true;
        c.state = ClientState::Starting;
        c.spawned_at = now;
        c.last_advance = now;
        c.advances.clear();
        c.media_us = 0;
        c.frames = 0;
        c.has_media = false;
        c.speed = None;
        out.push(Effect::Spawn {
            client: id,
            attempt: c.attempt,
        });
    }

    fn end(&mut self, out: &mut Vec<Effect>) {
        self.ended = true;
        self.due = None;
        for (id, c) in self.clients.iter_mut().enumerate() {
            if c.alive {
                out.push(Effect::Kill { client: id as u32 });
            }
            if c.state != ClientState::Failed {
                c.state = ClientState::Stopped;
            }
        }
    }
}

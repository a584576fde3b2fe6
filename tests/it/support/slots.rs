//! Turns for tests that share this process and the machine's two cores.
//!
//! The integration tests run in one binary, so tests of different modules run side by side on
//! libtest's threads. Three kinds of turn, each a guard released on drop (also on a panic):
//!
//! - [`heavy`]: a test that brings up a stack, FFmpeg or a `perfgate run` holds one of
//!   [`SLOTS`] slots while it runs, so however many test threads there are, at most five such
//!   tests share the cores (latency gates stay meaningful).
//! - [`alone`]: a test that reads process-wide state other tests change (perfgate's registry
//!   of live children, `perfgate::reaper::live_groups`) waits until no heavy test runs, and keeps
//!   every heavy test out until it is done. Every test that starts children in this process
//!   (through `run_spec`, `stack::start` or the swarm engine) therefore takes a heavy slot.
//! - [`one_of`]: a heavy slot, and one test of a group at a time. `docker`: the tests that
//!   count the daemon's containers and networks of their runs, or build and tag perfgate's
//!   images. `swarm`: a live HLS source encodes in real time and the media speed the tests
//!   assert follows the CPU it gets (with swarm tests two at a time, on a machine also busy
//!   with other builds, one measured p5 media speed 0.874, under its 0.9).
//!
//! The otel and gates tests were one at a time in their own binaries too (otel: to keep the
//! cores for one stack; gates: for the registry of live children, now [`alone`]); here they
//! are heavy tests like the others, two at a time. A test that waits for its group's turn
//! holds a libtest thread idle, so groups are kept to what the tests need.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Heavy tests running at once. Most of a stack test is waiting (Prometheus's first
/// service-discovery tick, about 5 s; scrapes; timed phases), so five share two cores; libtest
/// runs more threads than that (`.cargo/config.toml`), so tests waiting for a turn cost nothing.
pub const SLOTS: usize = 5;

struct State {
    heavy: usize,
    alone: bool,
    waiting_alone: usize,
    /// Groups with a test running.
    busy: Vec<&'static str>,
}

static STATE: Mutex<State> = Mutex::new(State {
    heavy: 0,
    alone: false,
    waiting_alone: 0,
    busy: Vec::new(),
});
static CHANGED: Condvar = Condvar::new();

/// A turn; dropping it ends the turn.
#[must_use = "the turn ends when the guard is dropped"]
pub struct Turn {
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Heavy,
    OneOf(&'static str),
    Alone,
}

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits until `ready` holds for the state, then applies `take` to it.
fn wait(ready: impl Fn(&State) -> bool, take: impl FnOnce(&mut State)) {
    let mut s = state();
    while !ready(&s) {
        s = CHANGED.wait(s).unwrap_or_else(PoisonError::into_inner);
    }
    take(&mut s);
}

/// One of the [`SLOTS`] heavy slots.
pub fn heavy() -> Turn {
    wait(
        |s| !s.alone && s.waiting_alone == 0 && s.heavy < SLOTS,
        |s| s.heavy += 1,
    );
    Turn { kind: Kind::Heavy }
}

/// A heavy slot, while no other test of `group` runs.
pub fn one_of(group: &'static str) -> Turn {
    wait(
        |s| !s.alone && s.waiting_alone == 0 && s.heavy < SLOTS && !s.busy.contains(&group),
        |s| {
            s.heavy += 1;
            s.busy.push(group);
        },
    );
    Turn {
        kind: Kind::OneOf(group),
    }
}

/// No heavy test runs while this turn lasts.
pub fn alone() -> Turn {
    state().waiting_alone += 1;
    wait(
        |s| !s.alone && s.heavy == 0,
        |s| {
            s.waiting_alone -= 1;
            s.alone = true;
        },
    );
    Turn { kind: Kind::Alone }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut s = state();
        match self.kind {
            Kind::Heavy => s.heavy -= 1,
            Kind::OneOf(group) => {
                s.heavy -= 1;
                s.busy.retain(|g| *g != group);
            }
            Kind::Alone => s.alone = false,
        }
        drop(s);
        CHANGED.notify_all();
    }
}

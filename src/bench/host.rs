//! What the benchmarks share: whether they run as benchmarks at all, how long to measure, and
//! their own process's CPU time (what they read of other processes and the machine is in
//! `procfs`).

use std::time::Duration;

use anyhow::Context;

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeVal;

/// Overrides the length of every measurement (seconds).
pub const SECONDS_ENV: &str = "PERFGATE_BENCH_SECS";

/// Whether this harness-less bench runs as a benchmark: `cargo test --all-targets` runs it
/// without `--bench`, and it must stay quick there (it says so and the caller returns).
pub(crate) fn benching(name: &str) -> bool {
    let yes = std::env::args().any(|a| a == "--bench");
    if !yes {
        println!("{name}: skipped (run it with `cargo bench --bench {name}`)");
    }
    yes
}

/// The length of each measurement: `PERFGATE_BENCH_SECS`, else `default`.
pub(crate) fn seconds(default: f64) -> anyhow::Result<f64> {
    match std::env::var(SECONDS_ENV) {
        Ok(s) => s
            .parse()
            .with_context(|| format!("{SECONDS_ENV}={s} is not a number")),
        Err(_) => Ok(default),
    }
}

/// Resets `VmHWM` to the current resident set (Linux `clear_refs` 5), so the next reading is
/// the peak of what runs in between. False when the kernel refused.
pub(crate) fn reset_vm_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// User + system CPU time of this process so far.
pub(crate) fn own_cpu() -> Duration {
    rusage_cpu(UsageWho::RUSAGE_SELF)
}

/// User + system CPU time of this process's children that were waited for, so far.
pub(crate) fn children_cpu() -> Duration {
    rusage_cpu(UsageWho::RUSAGE_CHILDREN)
}

/// User + system CPU time of the calling thread so far.
pub(crate) fn thread_cpu() -> Duration {
    rusage_cpu(UsageWho::RUSAGE_THREAD)
}

fn rusage_cpu(who: UsageWho) -> Duration {
    let t = |tv: TimeVal| {
        Duration::from_secs(tv.tv_sec().max(0) as u64)
            + Duration::from_micros(tv.tv_usec().max(0) as u64)
    };
    getrusage(who).map_or(Duration::ZERO, |u| t(u.user_time()) + t(u.system_time()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_readings_move() {
        let before = (own_cpu(), thread_cpu());
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        assert!(x != 1);
        assert!(own_cpu() > before.0);
        assert!(thread_cpu() > before.1);
        let me = super::super::procfs::cpu_time(std::process::id()).expect("own stat");
        assert!(me <= own_cpu() + Duration::from_millis(20), "{me:?}");
        assert!(super::super::procfs::own_peak_rss_kib().is_some_and(|k| k > 0));
    }
}

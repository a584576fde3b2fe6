//! What the benchmarks share: whether they run as benchmarks at all, how long to measure, and
//! what they read about this machine and their own process (peak memory, CPU time, the load
//! other work puts on the shared cores).

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

/// Peak resident set of this process (`VmHWM`), in KiB.
pub(crate) fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets `VmHWM` to the current resident set (Linux `clear_refs` 5), so the next reading is
/// the peak of what runs in between. False when the kernel refused.
pub(crate) fn reset_vm_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The 1-minute load average: other work on the machine skews every figure here.
pub(crate) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// User + system CPU time of this process so far.
pub(crate) fn own_cpu() -> Duration {
    rusage_cpu(UsageWho::RUSAGE_SELF)
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

/// User + system CPU time of process `pid` so far (`/proc/PID/stat`, clock ticks of 10 ms).
pub(crate) fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
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
        let me = process_cpu(std::process::id()).expect("own stat");
        assert!(me <= own_cpu() + Duration::from_millis(20), "{me:?}");
        assert!(vm_hwm_kib().is_some_and(|k| k > 0));
    }
}

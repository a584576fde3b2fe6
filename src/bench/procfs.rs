//! What benchmarks and tests read about processes from /proc (CPU time, memory, children,
//! liveness), the machine's load and CPU model, and the medians the figures use.

use std::time::Duration;

use crate::host_noise;

/// CPU time `pid` has used so far, all its threads (live and exited), user and system: fields
/// 14 and 15 of `/proc/PID/stat`, in clock ticks. (`schedstat` counts the main thread only.)
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let ticks = host_noise::process_ticks(Some(pid))?;
    let per_second = host_noise::clock_ticks_per_second()?;
    Some(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// `cpu_time` in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    cpu_time(pid).map(|d| d.as_secs_f64())
}

/// Resident set of `pid` (`VmRSS`), in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(Some(pid), "VmRSS")
}

/// Peak resident set of this process (`VmHWM`), in KiB.
pub fn own_peak_rss_kib() -> Option<u64> {
    status_kib(None, "VmHWM")
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`); `None` for this process.
pub fn status_kib(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Children of `pid` (those of every thread).
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

/// Children of `pid` whose command name starts with `name` (`ffmpeg`).
pub fn children_named(pid: u32, name: &str) -> Vec<u32> {
    children(pid)
        .into_iter()
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/comm"))
                .is_ok_and(|comm| comm.starts_with(name))
        })
        .collect()
}

/// Whether `pid` is a live process; a zombie is not (it has exited, only its entry remains).
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// The 1-minute load average: other work on the machine skews every figure.
pub fn load_average() -> Option<f64> {
    host_noise::load_average()
}

/// Busy and total jiffies of all cores together (`/proc/stat`): the difference of two readings
/// says how busy the machine was in between.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTicks {
    busy: u64,
    total: u64,
}

impl CpuTicks {
    pub fn now() -> Self {
        host_noise::cpu_times().map_or_else(Self::default, |t| Self {
            busy: t.busy(),
            total: t.total,
        })
    }

    /// The share of all cores busy since `earlier` (0..1).
    pub fn busy_since(&self, earlier: &Self) -> f64 {
        let total = self.total.saturating_sub(earlier.total);
        if total == 0 {
            return 0.0;
        }
        self.busy.saturating_sub(earlier.busy) as f64 / total as f64
    }
}

/// `N cores (CPU model)`, for the header of a figures section.
pub fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, m)| m.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{nproc} cores ({cpu})")
}

/// The middle value (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        None
    } else if n % 2 == 1 {
        sorted.get(n / 2).copied()
    } else {
        Some((sorted.get(n / 2 - 1)? + sorted.get(n / 2)?) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(running(me));
        // Burn some CPU, then compare with what the kernel reports through getrusage.
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(200) {
            std::hint::black_box(spin.elapsed());
        }
        let from_proc = cpu_time(me).expect("cpu time");
        let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
            .expect("getrusage");
        let tv = |t: nix::sys::time::TimeVal| {
            Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000)
        };
        let from_rusage = tv(usage.user_time()) + tv(usage.system_time());
        let gap = from_rusage.abs_diff(from_proc);
        assert!(
            from_proc > Duration::ZERO && gap < Duration::from_millis(50),
            "/proc says {from_proc:?}, getrusage {from_rusage:?}"
        );
        assert!(rss_kib(me).is_some_and(|k| k > 0));
        assert!(!running(u32::MAX));
        assert!(machine().contains("cores"));
    }

    #[test]
    fn lists_a_child_by_name() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = children_named(std::process::id(), "sleep");
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?}");
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn this_process_has_memory_and_cpu_time() {
        let own = std::process::id();
        assert!(status_kib(None, "VmRSS").is_some_and(|k| k > 0));
        assert_eq!(status_kib(Some(own), "VmNoSuchField"), None);
        // Burn a little CPU so the figure cannot be zero.
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_seconds(own).is_some_and(|s| s > 0.0));
    }
}

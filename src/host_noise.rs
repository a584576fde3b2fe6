//! How disturbed the machine was over a window, from /proc: the share of CPU time the
//! hypervisor stole and spent waiting on I/O (`/proc/stat`), the 1-minute load average at the
//! end (`/proc/loadavg`) and perfgate's own CPU use (`/proc/self/stat`). The parsers are pure;
//! [`HostSample::now`] reads the files at a window's start and end.

use std::time::Instant;

/// Jiffies of all cores together since boot, by what they were spent on (`/proc/stat`'s
/// `cpu` line). `guest` time is already counted in `user`, so it is left out of `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub idle: u64,
    pub iowait: u64,
    pub steal: u64,
    pub total: u64,
}

impl CpuTimes {
    /// Jiffies neither idle nor waiting on I/O.
    pub fn busy(&self) -> u64 {
        self.total.saturating_sub(self.idle + self.iowait)
    }
}

/// The aggregate `cpu` line of `/proc/stat`: user, nice, system, idle, iowait, irq, softirq,
/// steal (kernels before 2.6.11 lack steal: 0).
pub fn parse_cpu_times(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    if fields.len() < 5 {
        return None;
    }
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    Some(CpuTimes {
        idle: at(3),
        iowait: at(4),
        steal: at(7),
        total: fields.iter().sum(),
    })
}

/// The 1-minute load average, the first field of `/proc/loadavg`.
pub fn parse_load_average(loadavg: &str) -> Option<f64> {
    loadavg.split_whitespace().next()?.parse().ok()
}

/// User plus system CPU time of a process in clock ticks, all its threads: fields 14 and 15 of
/// `/proc/PID/stat` (counted after the command name, which may itself hold spaces and `)`).
pub fn parse_process_ticks(stat: &str) -> Option<u64> {
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    Some(rest.next()?.parse::<u64>().ok()? + rest.next()?.parse::<u64>().ok()?)
}

/// Clock ticks per second (`CLK_TCK`), the unit of `/proc/PID/stat` times.
pub fn clock_ticks_per_second() -> Option<u64> {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .filter(|&t| t > 0)
}

/// CPU time of process `pid` (`None`: this process) in clock ticks.
pub fn process_ticks(pid: Option<u32>) -> Option<u64> {
    let path = pid.map_or_else(|| "/proc/self/stat".to_owned(), |p| format!("/proc/{p}/stat"));
    parse_process_ticks(&std::fs::read_to_string(path).ok()?)
}

/// The machine's CPU times now.
pub fn cpu_times() -> Option<CpuTimes> {
    parse_cpu_times(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The 1-minute load average now.
pub fn load_average() -> Option<f64> {
    parse_load_average(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// What the machine and this process had used at one instant.
#[derive(Debug, Clone, Copy)]
pub struct HostSample {
    at: Instant,
    cpu: Option<CpuTimes>,
    own_ticks: Option<u64>,
}

/// How disturbed the machine was between two samples. Percentages of all cores together for
/// steal and iowait, of one core for perfgate's own CPU (200 = two cores busy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostNoise {
    /// Every core's time not idle nor waiting on I/O, whoever used it.
    pub busy_percent: f64,
    pub steal_percent: f64,
    pub iowait_percent: f64,
    /// The 1-minute load average at the window's end.
    pub load_average: f64,
    pub own_cpu_percent: f64,
}

impl HostSample {
    pub fn now() -> Self {
        Self {
            at: Instant::now(),
            cpu: cpu_times(),
            own_ticks: process_ticks(None),
        }
    }

    /// The noise from `start` to this sample; `None` when /proc could not be read.
    pub fn noise_since(&self, start: &HostSample) -> Option<HostNoise> {
        noise_between(
            (start.cpu?, self.cpu?),
            (start.own_ticks?, self.own_ticks?),
            self.at.duration_since(start.at).as_secs_f64(),
            clock_ticks_per_second()?,
            load_average()?,
        )
    }
}

/// The noise over a window of `seconds` from two CPU readings and this process's ticks at the
/// window's start and end. `None` for an empty window.
pub fn noise_between(
    (cpu_start, cpu_end): (CpuTimes, CpuTimes),
    (own_start, own_end): (u64, u64),
    seconds: f64,
    ticks_per_second: u64,
    load_average: f64,
) -> Option<HostNoise> {
    if seconds <= 0.0 {
        return None;
    }
    let total = cpu_end.total.saturating_sub(cpu_start.total);
    let share = |end: u64, start: u64| {
        if total == 0 {
            0.0
        } else {
            100.0 * end.saturating_sub(start) as f64 / total as f64
        }
    };
    let own_seconds = own_end.saturating_sub(own_start) as f64 / ticks_per_second as f64;
    Some(HostNoise {
        busy_percent: share(cpu_end.busy(), cpu_start.busy()),
        steal_percent: share(cpu_end.steal, cpu_start.steal),
        iowait_percent: share(cpu_end.iowait, cpu_start.iowait),
        load_average,
        own_cpu_percent: 100.0 * own_seconds / seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  389775 0 40066 415293 2155 0 597 10016 7 0\n\
                        cpu0 183639 0 17870 221684 598 0 145 5048 0 0\n\
                        intr 1 2 3\n";

    #[test]
    fn reads_the_aggregate_cpu_line_without_guest_time() {
        let t = parse_cpu_times(STAT).unwrap();
        assert_eq!(t.idle, 415_293);
        assert_eq!(t.iowait, 2155);
        assert_eq!(t.steal, 10_016);
        assert_eq!(t.total, 389_775 + 40_066 + 415_293 + 2155 + 597 + 10_016);
        assert_eq!(t.busy(), t.total - 415_293 - 2155);
        // An old kernel without steal, and text that is no /proc/stat.
        let old = parse_cpu_times("cpu  10 0 5 80 5\n").unwrap();
        assert_eq!((old.steal, old.total), (0, 100));
        assert_eq!(parse_cpu_times("cpu0 1 2 3 4 5\n"), None);
        assert_eq!(parse_cpu_times("cpu  1 x 3 4 5\n"), None);
    }

    #[test]
    fn reads_the_load_average_and_a_process_s_ticks() {
        assert_eq!(parse_load_average("1.57 1.68 2.20 2/125 24572\n"), Some(1.57));
        assert_eq!(parse_load_average(""), None);
        // A command name with a space and a parenthesis: utime 150, stime 25.
        let stat = "42 (my (odd) cmd) S 1 42 42 0 -1 4194560 500 0 0 0 150 25 0 0 20 0 9 0";
        assert_eq!(parse_process_ticks(stat), Some(175));
        assert_eq!(parse_process_ticks("42 no parenthesis"), None);
    }

    #[test]
    fn a_window_s_shares_are_of_all_cores_and_own_cpu_of_one_core() {
        let start = CpuTimes { idle: 1000, iowait: 10, steal: 5, total: 2000 };
        // 2 cores for 2 s at 100 ticks/s: 400 jiffies, 60 stolen, 4 waiting on I/O.
        let end = CpuTimes { idle: 1200, iowait: 14, steal: 65, total: 2400 };
        let noise = noise_between((start, end), (300, 450), 2.0, 100, 2.5).unwrap();
        // 400 jiffies less 200 idle and 4 waiting on I/O.
        assert_eq!(noise.busy_percent, 49.0);
        assert_eq!(noise.steal_percent, 15.0);
        assert_eq!(noise.iowait_percent, 1.0);
        assert_eq!(noise.load_average, 2.5);
        // 150 ticks = 1.5 s of CPU in 2 s: 75 % of one core.
        assert_eq!(noise.own_cpu_percent, 75.0);
        assert_eq!(noise_between((start, start), (1, 1), 0.0, 100, 0.0), None);
        let still = noise_between((start, start), (1, 1), 1.0, 100, 0.0).unwrap();
        assert_eq!((still.steal_percent, still.own_cpu_percent), (0.0, 0.0));
    }

    #[test]
    fn samples_this_machine() {
        let start = HostSample::now();
        let spin = Instant::now();
        while spin.elapsed().as_millis() < 300 {
            std::hint::black_box(spin.elapsed());
        }
        let noise = HostSample::now().noise_since(&start).expect("/proc is readable");
        assert!(noise.own_cpu_percent > 30.0, "{noise:?}");
        assert!((0.0..=100.0).contains(&noise.steal_percent), "{noise:?}");
        assert!(noise.load_average >= 0.0);
    }
}

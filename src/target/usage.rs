//! What the target's process group uses, read from `/proc`: CPU time (busy or idle
//! hangs), liveness (teardown), and the resources that leak oracles follow (RSS,
//! descriptors, threads, processes).
//!
//! Launchers such as `npx` or `uv run` leave the real server as a grandchild, so every
//! figure covers the whole process group, found in one pass over `/proc`.

use std::path::Path;
use std::time::Duration;

/// Resources of a target's process group at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Processes in the group (zombies excluded).
    pub processes: u64,
    /// Threads of those processes.
    pub threads: u64,
    /// Open file descriptors of those processes.
    pub descriptors: u64,
    /// Resident set size, summed.
    pub rss_bytes: u64,
    /// User plus system CPU time, summed.
    pub cpu: Duration,
}

/// One process's line of `/proc/PID/stat`, the fields used here.
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    pgrp: i32,
    zombie: bool,
    running: bool,
    cpu_ticks: u64,
    threads: u64,
}

/// Parses `/proc/PID/stat`.
fn parse_stat(text: &str) -> Option<Stat> {
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12) ... num_threads(17).
    let number = |index: usize| -> Option<u64> { fields.get(index)?.parse().ok() };
    Some(Stat {
        pgrp: fields.get(2)?.parse().ok()?,
        zombie: fields.first() == Some(&"Z"),
        running: fields.first() == Some(&"R"),
        cpu_ticks: number(11)? + number(12)?,
        threads: number(17).unwrap_or(1),
    })
}

/// What [`walk_group`] counts beyond CPU time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    CpuOnly,
    Everything,
}

/// One pass over `/proc` adding up the processes of group `pgid`.
fn walk_group(pgid: i32, detail: Detail) -> Usage {
    let mut usage = Usage::default();
    let mut ticks = 0;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return usage;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|text| parse_stat(&text))
        else {
            continue;
        };
        if stat.pgrp != pgid {
            continue;
        }
        ticks += stat.cpu_ticks;
        if stat.zombie {
            continue;
        }
        usage.processes += 1;
        if detail == Detail::Everything {
            usage.threads += stat.threads;
            usage.rss_bytes += rss_bytes(pid).unwrap_or(0);
            usage.descriptors += std::fs::read_dir(format!("/proc/{pid}/fd"))
                .map(|fds| fds.count() as u64)
                .unwrap_or(0);
        }
    }
    usage.cpu = Duration::from_millis(ticks * 1000 / clock_ticks());
    usage
}

/// Processes, threads, descriptors, RSS and CPU time of the group `pgid`.
pub fn group_usage(pgid: i32) -> Usage {
    walk_group(pgid, Detail::Everything)
}

/// CPU time of every process in the group `pgid`.
pub fn group_cpu_time(pgid: i32) -> Duration {
    walk_group(pgid, Detail::CpuOnly).cpu
}

/// The processes of the group `pgid` (zombies excluded).
pub fn group_pids(pgid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|text| parse_stat(&text))
                .is_some_and(|stat| stat.pgrp == pgid && !stat.zombie)
        })
        .collect()
}

/// User plus system CPU time of `pids`, about 6 us each; processes gone count nothing.
pub fn pids_cpu_time(pids: &[i32]) -> Duration {
    let ticks: u64 = pids
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|text| parse_stat(&text))
        .map(|stat| stat.cpu_ticks)
        .sum();
    Duration::from_millis(ticks * 1000 / clock_ticks())
}

/// Whether any of `pids` is running (state `R`) rather than waiting.
pub fn any_running(pids: &[i32]) -> bool {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|text| parse_stat(&text))
        .any(|stat| stat.running)
}

/// Whether any process of the group `pgid` is still alive (zombies excluded).
pub fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path: &Path = &entry.path();
        std::fs::read_to_string(path.join("stat"))
            .ok()
            .and_then(|text| parse_stat(&text))
            .is_some_and(|stat| stat.pgrp == pgid && !stat.zombie)
    })
}

/// Resident set size of `pid` from `/proc/PID/statm` (about 6 us).
pub fn rss_bytes(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map(|size| size as u64)
        .unwrap_or(4096)
}

fn clock_ticks() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map(|ticks| ticks as u64)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Child, SpawnOptions};
    use crate::TargetSpec;

    #[test]
    fn stat_parsing_survives_spaces_in_the_name() {
        let text = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 3 0";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                pgrp: 42,
                zombie: false,
                running: false,
                cpu_ticks: 10,
                threads: 3,
            })
        );
        let zombie = "7 (x) Z 1 7 7 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0";
        assert!(parse_stat(zombie).unwrap().zombie);
        let running = "7 (x) R 1 7 7 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0";
        assert!(parse_stat(running).unwrap().running);
    }

    #[test]
    fn usage_counts_every_process_of_the_group() {
        // Two sleeping children beside the shell, and four descriptors held open by it.
        let spec = TargetSpec::from_command(vec![
            "/bin/sh".into(),
            "-c".into(),
            "exec 5</dev/null 6</dev/null 7</dev/null 8</dev/null; sleep 30 & sleep 30 & wait"
                .into(),
        ]);
        let child = Child::spawn(&spec, &SpawnOptions::default()).unwrap();
        let pgid = child.pid() as i32;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut usage = group_usage(pgid);
        while usage.processes < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            usage = group_usage(pgid);
        }
        assert_eq!(usage.processes, 3, "{usage:?}");
        assert!(usage.threads >= 3, "{usage:?}");
        // The shell's stdio and four more, and each sleep's inherited ones.
        assert!(usage.descriptors >= 3 * 3 + 4, "{usage:?}");
        assert!(usage.rss_bytes > 0, "{usage:?}");
        drop(child);
        assert!(!group_alive(pgid));
        assert_eq!(group_usage(pgid).processes, 0);
    }
}

//! What one libFuzzer process is for, read from its own flags.
//!
//! libFuzzer runs the fuzz target's init in every process it starts, and several of its
//! modes start more processes of the same binary: `-fork=N` runs jobs (each a fuzzing
//! process of its own) and merges their corpora in yet another process, `-jobs=N` runs
//! workers, `-merge=1` (`cargo fuzz cmin`) measures the inputs in an inner process, and
//! `-minimize_crash=1` (`cargo fuzz tmin`) tries smaller inputs in inner steps. A process
//! that only starts others needs no target of its own; one that only measures inputs for a
//! merge must not triage them; one that runs given files answers "does this input find
//! something?", which the harness can only answer by crashing.

/// The part a process plays, from its flags (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Fuzzes: the usual process, a fork-mode job, a `-jobs` worker.
    Fuzz,
    /// Runs given inputs to see whether they find something: input files on the command
    /// line (reproducing a crash artifact), or a step of `-minimize_crash`. Any finding,
    /// new or already saved, ends the process the libFuzzer way.
    Reproduce,
    /// Runs inputs only to collect their features for a merge (`-merge_inner`): findings
    /// are not triaged and no run log is written.
    Merge,
    /// Runs no input itself, only starts processes that do.
    Supervise(Supervision),
}

/// Which kind of process a supervising process starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervision {
    /// `-fork=N`: fuzzing jobs, their output in libFuzzer's temporary directory.
    Fork,
    /// `-jobs=N`: workers, their output in `fuzz-<n>.log`.
    Jobs,
    /// `-merge=1` or `-set_cover_merge=1`: the inner merge process.
    Merge,
    /// `-minimize_crash=1` or `-cleanse_crash=1`: steps that run the crashing input.
    MinimizeCrash,
}

impl Supervision {
    /// Whether the processes it starts fuzz and may save findings worth printing here,
    /// since their own output goes to files.
    pub fn watches_findings(self) -> bool {
        matches!(self, Supervision::Fork | Supervision::Jobs)
    }
}

impl Role {
    /// The role of this process, from `std::env::args`.
    pub fn of_this_process() -> Role {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Role::from_args(std::env::args().skip(1), cores, |path| {
            std::path::Path::new(path).is_file()
        })
    }

    /// The role for libFuzzer's arguments `args` (without the program), on a machine with
    /// `cores` cores, where `is_file` tells a file from a directory. Decided in the order
    /// libFuzzer's driver tests its flags.
    pub fn from_args(
        args: impl IntoIterator<Item = String>,
        cores: usize,
        is_file: impl Fn(&str) -> bool,
    ) -> Role {
        let mut flags = std::collections::HashMap::new();
        let mut inputs = Vec::new();
        for arg in args {
            if let Some(flag) = arg.strip_prefix('-') {
                // libFuzzer ignores flags with two dashes.
                if flag.starts_with('-') {
                    continue;
                }
                if let Some((name, value)) = flag.split_once('=') {
                    if name == "ignore_remaining_args" && number(value) != 0 {
                        break;
                    }
                    flags.insert(name.to_string(), number(value));
                }
            } else {
                inputs.push(arg);
            }
        }
        let flag = |name: &str| flags.get(name).copied().unwrap_or(0);
        let jobs = flag("jobs");
        let workers = match flag("workers") {
            0 if jobs > 0 => jobs.min(cores as i64 / 2),
            workers => workers,
        };
        if workers > 0 && jobs > 0 {
            Role::Supervise(Supervision::Jobs)
        } else if flag("minimize_crash") != 0 || flag("cleanse_crash") != 0 {
            Role::Supervise(Supervision::MinimizeCrash)
        } else if flag("minimize_crash_internal_step") != 0
            || (!inputs.is_empty() && inputs.iter().all(|input| is_file(input)))
        {
            Role::Reproduce
        } else if flag("fork") > 0 {
            Role::Supervise(Supervision::Fork)
        } else if flag("merge") != 0 || flag("set_cover_merge") != 0 {
            Role::Supervise(Supervision::Merge)
        } else if flags.contains_key("merge_inner") {
            Role::Merge
        } else {
            Role::Fuzz
        }
    }
}

/// A flag's value the way libFuzzer reads it (`atol`: leading digits, else 0).
fn number(value: &str) -> i64 {
    let digits: String = value
        .trim_start()
        .chars()
        .enumerate()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
        .map(|(_, c)| c)
        .collect();
    digits.parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(line: &str) -> Role {
        let args = line.split_whitespace().map(str::to_string);
        Role::from_args(args, 2, |path| path.starts_with("crash-"))
    }

    #[test]
    fn plain_runs_and_fork_jobs_fuzz() {
        assert_eq!(role(""), Role::Fuzz);
        assert_eq!(role("-max_len=4096 -runs=100 corpus/jsonrpc"), Role::Fuzz);
        // What a fork-mode job is started with: no -fork, its own corpus directory.
        assert_eq!(
            role("-max_total_time=3 -reload=0 -stop_file=/tmp/x/STOP /tmp/x/C3 -features_dir=/tmp/x/F3"),
            Role::Fuzz
        );
        assert_eq!(role("-fork=0 corpus"), Role::Fuzz);
        assert_eq!(role("--fork=2"), Role::Fuzz);
    }

    #[test]
    fn fork_jobs_and_merge_supervise() {
        assert_eq!(role("-fork=2 corpus"), Role::Supervise(Supervision::Fork));
        assert_eq!(
            role("-jobs=2 -workers=2 corpus"),
            Role::Supervise(Supervision::Jobs)
        );
        assert_eq!(role("-merge=1 a b"), Role::Supervise(Supervision::Merge));
        assert_eq!(
            role("-minimize_crash=1 crash-1"),
            Role::Supervise(Supervision::MinimizeCrash)
        );
        // The last occurrence wins, as in libFuzzer.
        assert_eq!(role("-fork=2 -fork=0 corpus"), Role::Fuzz);
    }

    #[test]
    fn jobs_without_workers_use_half_the_cores() {
        let args = || ["-jobs=4".to_string()];
        assert_eq!(
            Role::from_args(args(), 4, |_| false),
            Role::Supervise(Supervision::Jobs)
        );
        // One core: libFuzzer computes zero workers and fuzzes in this process.
        assert_eq!(Role::from_args(args(), 1, |_| false), Role::Fuzz);
    }

    #[test]
    fn merge_inner_merges_and_files_reproduce() {
        assert_eq!(
            role("-merge_control_file=/tmp/m.txt -merge_inner=1 a b"),
            Role::Merge
        );
        assert_eq!(role("crash-1 crash-2"), Role::Reproduce);
        assert_eq!(role("crash-1 corpus"), Role::Fuzz);
        // libFuzzer runs given files before it looks at -fork.
        assert_eq!(role("-fork=2 crash-1"), Role::Reproduce);
        assert_eq!(
            role("-minimize_crash_internal_step=1 -runs=100 crash-1"),
            Role::Reproduce
        );
    }

    #[test]
    fn remaining_args_can_be_ignored() {
        assert_eq!(role("-ignore_remaining_args=1 -fork=2"), Role::Fuzz);
    }

    #[test]
    fn values_are_read_like_atol() {
        assert_eq!(number("2"), 2);
        assert_eq!(number("12abc"), 12);
        assert_eq!(number("abc"), 0);
        assert_eq!(number("-1"), -1);
    }
}

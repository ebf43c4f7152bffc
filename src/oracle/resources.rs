//! Whether a resource grows without bound: a warm-up-aware trend test over samples taken
//! while a target served requests.
//!
//! A V8 or CPython server's memory jumps on the first requests (code loaded, caches
//! filled) and then settles, or even drops when the collector runs; a server that
//! allocates in bursts saw-tooths. Neither is a leak. A leak is growth that continues
//! across the whole run. So [`judge`] sets the first fifth of the samples aside as
//! warm-up, cuts the rest into windows, and takes each window's floor (its minimum, the
//! level a saw-tooth returns to): only floors that rise from every window to the next,
//! by more than a size threshold overall and at more than a slope per request, are a
//! leak.

use crate::target::Usage;
use crate::{Finding, Kind, Severity};
use serde_json::{json, Value};

/// The share of samples set aside as warm-up, in percent.
const WARM_UP_PERCENT: usize = 20;
/// How many windows the rest is cut into.
const WINDOWS: usize = 4;
/// The fewest samples a verdict needs.
pub const MIN_SAMPLES: usize = 10;

/// What is sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// Resident memory of the process group, in bytes.
    Memory,
    /// Open file descriptors of the process group.
    Descriptors,
    /// Threads of the process group.
    Threads,
    /// Processes in the group (children left behind).
    Processes,
}

impl Resource {
    /// Every resource, in report order.
    pub const ALL: [Resource; 4] = [
        Resource::Memory,
        Resource::Descriptors,
        Resource::Threads,
        Resource::Processes,
    ];

    /// This resource's value in `usage`.
    pub fn of(self, usage: &Usage) -> f64 {
        match self {
            Resource::Memory => usage.rss_bytes as f64,
            Resource::Descriptors => usage.descriptors as f64,
            Resource::Threads => usage.threads as f64,
            Resource::Processes => usage.processes as f64,
        }
    }

    /// `value` for people: MiB for memory, a count otherwise.
    pub fn show(self, value: f64) -> String {
        match self {
            Resource::Memory => format!("{:.1} MiB", value / (1 << 20) as f64),
            _ => format!("{value:.0}"),
        }
    }

    /// A growth rate per request for people.
    pub fn show_rate(self, slope: f64) -> String {
        match self {
            Resource::Memory => format!("{:.1} KiB per request", slope / 1024.0),
            _ => format!("{slope:.2} per request"),
        }
    }

    /// The name in signatures and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Memory => "memory",
            Resource::Descriptors => "descriptors",
            Resource::Threads => "threads",
            Resource::Processes => "processes",
        }
    }

    /// The thresholds a leak of this resource must pass.
    pub fn rule(self) -> Rule {
        match self {
            Resource::Memory => Rule {
                min_growth: 8.0 * 1024.0 * 1024.0,
                min_slope: 1024.0,
            },
            Resource::Descriptors | Resource::Threads | Resource::Processes => Rule {
                min_growth: 16.0,
                min_slope: 0.01,
            },
        }
    }
}

/// How much growth is a leak.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    /// The least rise of the floor from the first window after warm-up to the last.
    pub min_growth: f64,
    /// The least least-squares slope after warm-up, per request.
    pub min_slope: f64,
}

impl Rule {
    /// Half the growth (the slope stays): the rule for half of a series.
    pub fn halved(self) -> Rule {
        Rule {
            min_growth: self.min_growth / 2.0,
            min_slope: self.min_slope,
        }
    }
}

/// One sample: how many requests had been served, and the resource's value then.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Requests served when the sample was taken.
    pub requests: u64,
    /// The value (bytes or a count).
    pub value: f64,
}

/// What [`judge`] concluded.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Fewer than [`MIN_SAMPLES`] samples, or no requests between them.
    TooFewSamples,
    /// The floors did not rise from every window to the next (plateau, drop, saw-tooth).
    NoTrend {
        /// The windows' floors.
        floors: Vec<f64>,
    },
    /// The floors rose, but by less than the rule asks.
    SmallGrowth {
        /// The rise of the floor.
        growth: f64,
        /// Growth per request.
        slope: f64,
    },
    /// Sustained growth above both thresholds.
    Leak {
        /// The rise of the floor from the first window after warm-up to the last.
        growth: f64,
        /// Growth per request (least squares after warm-up).
        slope: f64,
        /// The windows' floors.
        floors: Vec<f64>,
    },
}

impl Verdict {
    /// Whether this is a leak.
    pub fn is_leak(&self) -> bool {
        matches!(self, Verdict::Leak { .. })
    }
}

/// Judges `samples` (in the order taken) by `rule`; see the module documentation.
pub fn judge(samples: &[Sample], rule: &Rule) -> Verdict {
    if samples.len() < MIN_SAMPLES {
        return Verdict::TooFewSamples;
    }
    let warm_up = samples.len() * WARM_UP_PERCENT / 100;
    let settled = &samples[warm_up..];
    let span = settled.last().map_or(0, |s| s.requests) - settled[0].requests;
    if span == 0 {
        return Verdict::TooFewSamples;
    }
    let floors: Vec<f64> = (0..WINDOWS)
        .map(|window| {
            let start = window * settled.len() / WINDOWS;
            let end = (window + 1) * settled.len() / WINDOWS;
            settled[start..end]
                .iter()
                .map(|sample| sample.value)
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    if !floors.windows(2).all(|pair| pair[1] > pair[0]) {
        return Verdict::NoTrend { floors };
    }
    let growth = floors[WINDOWS - 1] - floors[0];
    let slope = slope(settled);
    if growth < rule.min_growth || slope < rule.min_slope {
        return Verdict::SmallGrowth { growth, slope };
    }
    Verdict::Leak {
        growth,
        slope,
        floors,
    }
}

/// The least-squares slope of value over requests.
fn slope(samples: &[Sample]) -> f64 {
    let n = samples.len() as f64;
    let mean_x = samples.iter().map(|s| s.requests as f64).sum::<f64>() / n;
    let mean_y = samples.iter().map(|s| s.value).sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for sample in samples {
        let dx = sample.requests as f64 - mean_x;
        covariance += dx * (sample.value - mean_y);
        variance += dx * dx;
    }
    if variance == 0.0 {
        0.0
    } else {
        covariance / variance
    }
}

/// The series of `resource` in `taken`, `(requests served, usage)` pairs.
pub fn series(resource: Resource, taken: &[(u64, Usage)]) -> Vec<Sample> {
    taken
        .iter()
        .map(|(requests, usage)| Sample {
            requests: *requests,
            value: resource.of(usage),
        })
        .collect()
}

/// How much growth a leak finding needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    /// The resource's [`Rule`], when a leak is first seen.
    Detecting,
    /// Half of it, when a replay in a fresh process confirms one: it must show the same
    /// sustained trend, but two runs of one workload never allocate exactly alike.
    Confirming,
}

impl Strictness {
    /// The rule for `resource` at this strictness.
    pub fn rule(self, resource: Resource) -> Rule {
        let rule = resource.rule();
        match self {
            Strictness::Detecting => rule,
            Strictness::Confirming => Rule {
                min_growth: rule.min_growth / 2.0,
                min_slope: rule.min_slope / 2.0,
            },
        }
    }
}

/// A `leak/<resource>` finding for every resource of `taken` that leaks: the target's
/// process group sampled while it served requests. Evidence is the sampled curve.
pub fn leak_findings(taken: &[(u64, Usage)], strictness: Strictness) -> Vec<Finding> {
    let mut findings = Vec::new();
    for resource in Resource::ALL {
        let samples = series(resource, taken);
        let rule = strictness.rule(resource);
        let Verdict::Leak {
            growth,
            slope,
            floors,
        } = judge(&samples, &rule)
        else {
            continue;
        };
        // A confirming replay is longer than the run that showed the growth: a heap that
        // filled up to its working size during the first half (V8's, before its major
        // collections keep pace) must still be growing in the second.
        if strictness == Strictness::Confirming
            && !judge(&samples[samples.len() / 2..], &rule.halved()).is_leak()
        {
            continue;
        }
        let requests = samples.last().map_or(0, |s| s.requests);
        findings.push(Finding::new(
            Kind::Leak,
            resource.as_str(),
            Severity::High,
            format!(
                "{} kept growing over {requests} requests: +{} past the warm-up, {}",
                resource.as_str(),
                resource.show(growth),
                resource.show_rate(slope)
            ),
            json!({
                "resource": resource.as_str(),
                "growth": growth,
                "per_request": slope,
                "floors": floors,
                "curve": curve(&samples),
            }),
        ));
    }
    findings
}

/// One line for people: the resource's start, end and growth, and the verdict, as
/// `Memory:      start 14.3 MiB, end 76.9 MiB, growth +62.6 MiB (+436%): LEAK, ...`.
pub fn describe(resource: Resource, samples: &[Sample], verdict: &Verdict) -> String {
    let name = resource.as_str();
    let mut title = name[..1].to_uppercase() + &name[1..];
    title.push(':');
    let (Some(start), Some(end)) = (samples.first(), samples.last()) else {
        return format!("{title:<12} no samples");
    };
    let growth = end.value - start.value;
    let percent = if start.value > 0.0 {
        format!(" ({:+.0}%)", growth * 100.0 / start.value)
    } else {
        String::new()
    };
    let verdict = match verdict {
        Verdict::Leak { slope, .. } => format!("LEAK, {}", resource.show_rate(*slope)),
        Verdict::NoTrend { .. } => "no trend".into(),
        Verdict::SmallGrowth { .. } => "small growth, below the thresholds".into(),
        Verdict::TooFewSamples => "too few samples to judge".into(),
    };
    let sign = if growth >= 0.0 { "+" } else { "-" };
    format!(
        "{title:<12} start {}, end {}, growth {sign}{}{percent}: {verdict}",
        resource.show(start.value),
        resource.show(end.value),
        resource.show(growth.abs()),
    )
}

/// The samples as evidence: `[[requests, value], ...]`.
pub fn curve(samples: &[Sample]) -> Value {
    Value::Array(
        samples
            .iter()
            .map(|sample| {
                // Bytes and counts are whole numbers; say so.
                if sample.value.fract() == 0.0 && sample.value >= 0.0 {
                    json!([sample.requests, sample.value as u64])
                } else {
                    json!([sample.requests, sample.value])
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;

    /// `n` samples, one every `every` requests, valued by `f(request count)`.
    fn series(n: u64, every: u64, f: impl Fn(u64) -> f64) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                requests: i * every,
                value: f(i * every),
            })
            .collect()
    }

    fn memory(samples: &[Sample]) -> Verdict {
        judge(samples, &Resource::Memory.rule())
    }

    #[test]
    fn a_linear_leak_is_found() {
        // 64 KiB per request over 5,000 requests: 312 MiB.
        let samples = series(20, 250, |r| 30.0 * MIB + r as f64 * 64.0 * 1024.0);
        match memory(&samples) {
            Verdict::Leak { slope, .. } => assert!((slope - 65536.0).abs() < 1.0, "{slope}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_small_leak_is_found_within_five_thousand_requests() {
        // The floors compared lie 3,000 of the 5,000 requests apart (the first fifth is
        // warm-up, and the first and last windows' floors are their starts), so 8 MiB
        // needs 2.8 KiB per request: 3 KiB is found, 2 KiB is not.
        let samples = series(20, 250, |r| 30.0 * MIB + r as f64 * 3072.0);
        assert!(memory(&samples).is_leak(), "{:?}", memory(&samples));
        let samples = series(20, 250, |r| 30.0 * MIB + r as f64 * 2048.0);
        assert!(matches!(memory(&samples), Verdict::SmallGrowth { .. }));
    }

    #[test]
    fn a_jump_then_a_plateau_is_warm_up() {
        // V8: +40 MiB on the first requests, then flat with page-level noise.
        let samples = series(20, 250, |r| {
            let noise = ((r / 250) % 3) as f64 * 4096.0;
            if r < 500 {
                30.0 * MIB + r as f64 * 80.0 * 1024.0
            } else {
                70.0 * MIB + noise
            }
        });
        assert!(matches!(memory(&samples), Verdict::NoTrend { .. }));
    }

    #[test]
    fn a_jump_then_a_drop_is_not_a_leak() {
        let samples = series(20, 250, |r| match r {
            0..=750 => 30.0 * MIB + r as f64 * 64.0 * 1024.0,
            _ => 50.0 * MIB - (r as f64) * 100.0,
        });
        assert!(!memory(&samples).is_leak());
    }

    #[test]
    fn a_saw_tooth_is_not_a_leak_but_a_rising_floor_is() {
        // Allocate 256 KiB per request, free all at 80 chunks.
        let tooth = |r: u64| 46.0 * MIB + (r % 80) as f64 * 256.0 * 1024.0;
        let samples = series(100, 50, tooth);
        assert!(matches!(memory(&samples), Verdict::NoTrend { .. }));
        let rising = series(100, 50, |r| tooth(r) + r as f64 * 4096.0);
        assert!(memory(&rising).is_leak(), "{:?}", memory(&rising));
    }

    #[test]
    fn small_growth_is_not_a_leak() {
        // 1 MiB over the run: the floors rise, but not by 8 MiB.
        let samples = series(20, 250, |r| 30.0 * MIB + r as f64 * 200.0);
        assert!(matches!(memory(&samples), Verdict::SmallGrowth { .. }));
    }

    #[test]
    fn one_descriptor_per_call_leaks_and_a_steady_pool_does_not() {
        let rule = Resource::Descriptors.rule();
        let leaking = series(20, 10, |r| 12.0 + r as f64);
        assert!(judge(&leaking, &rule).is_leak());
        let pool = series(20, 10, |r| if r < 30 { 12.0 + r as f64 } else { 42.0 });
        assert!(!judge(&pool, &rule).is_leak());
    }

    #[test]
    fn too_few_samples_give_no_verdict() {
        let samples = series(5, 100, |r| r as f64 * MIB);
        assert_eq!(memory(&samples), Verdict::TooFewSamples);
        let still = series(20, 0, |_| MIB);
        assert_eq!(memory(&still), Verdict::TooFewSamples);
    }

    /// `(requests, usage)` pairs of a memory curve, for [`leak_findings`].
    fn taken(samples: &[Sample]) -> Vec<(u64, Usage)> {
        samples
            .iter()
            .map(|sample| {
                let usage = Usage {
                    processes: 1,
                    threads: 1,
                    descriptors: 4,
                    rss_bytes: sample.value as u64,
                    cpu: std::time::Duration::ZERO,
                };
                (sample.requests, usage)
            })
            .collect()
    }

    #[test]
    fn a_confirmation_asks_the_second_half_to_grow_too() {
        // Grows 17 MiB over the first half, then creeps by 4 KiB now and then: a heap
        // filling up to its working size.
        let filling = series(60, 10, |r| {
            let r = r as f64;
            70.0 * MIB + (r.min(300.0) * 60.0 * 1024.0) + (r / 50.0).floor() * 4096.0
        });
        assert!(memory(&filling).is_leak());
        assert!(leak_findings(&taken(&filling), Strictness::Detecting).len() == 1);
        assert!(leak_findings(&taken(&filling), Strictness::Confirming).is_empty());
        // A leak grows to the end.
        let leaking = series(60, 10, |r| 70.0 * MIB + r as f64 * 40.0 * 1024.0);
        let found = leak_findings(&taken(&leaking), Strictness::Confirming);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].signature, "leak/memory");
    }

    #[test]
    fn the_curve_is_evidence() {
        let samples = series(2, 10, |r| r as f64);
        assert_eq!(curve(&samples), json!([[0, 0], [10, 10]]));
        let fraction = [Sample {
            requests: 1,
            value: 0.5,
        }];
        assert_eq!(curve(&fraction), json!([[1, 0.5]]));
    }
}

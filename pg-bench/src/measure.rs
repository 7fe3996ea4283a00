//! Timing, client CPU time, peak memory, medians and the interleaved schedule.
//!
//! In-process subjects are measured with `getrusage(RUSAGE_SELF)` deltas around the timed
//! work (every thread of this process: the runtime's workers, the drivers' connection tasks);
//! peers in child processes with the `wait4` rusage of that child (see [`crate::peers`]), so
//! both count the user + system time of the process doing the work. Peak memory is the
//! process's resident high-water mark: reset (Linux `clear_refs` 5) before in-process work and
//! read from `VmHWM` after; a child's is its `ru_maxrss`.

use std::time::{Duration, Instant};

/// The error every subject may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What subjects return.
pub type Result<T> = std::result::Result<T, BoxError>;

/// One timed run of one subject.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Wall time of the work.
    pub seconds: f64,
    /// User + system CPU time of the process doing the work, when known.
    pub cpu_seconds: Option<f64>,
    /// Peak resident memory of that process during the work, when measured.
    pub peak_rss_bytes: Option<u64>,
    /// The median latency of the run's requests, for scenarios made of requests (`web`).
    pub p50_seconds: Option<f64>,
    /// The 99th percentile of the run's request latencies.
    pub p99_seconds: Option<f64>,
}

impl Sample {
    /// The sample with the 50th and 99th percentiles of `latencies` (seconds, in any order).
    pub fn with_latencies(mut self, mut latencies: Vec<f64>) -> Sample {
        latencies.sort_by(f64::total_cmp);
        self.p50_seconds = percentile(&latencies, 50.0);
        self.p99_seconds = percentile(&latencies, 99.0);
        self
    }
}

/// The `p`th percentile of `sorted` (nearest rank); None when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// How many untimed and timed runs each subject gets, and which subjects run.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Untimed runs of every subject before the timed ones.
    pub warmup: usize,
    /// Timed runs of every subject, interleaved.
    pub reps: usize,
    /// When not empty, only the subjects whose names contain one of these (for profiling);
    /// one written `=name` takes only the subject of exactly that name.
    pub only: Vec<String>,
    /// How long each run may wait for the machine to be idle before it starts (zero: no
    /// waiting).
    pub idle_wait: Duration,
}

impl Plan {
    fn includes(&self, subject: &str) -> bool {
        self.only.is_empty()
            || self.only.iter().any(|o| match o.strip_prefix('=') {
                Some(exact) => subject == exact,
                None => subject.contains(o.as_str()),
            })
    }
}

/// A subject's work for one run: it sets up what it needs untimed, measures the work (with
/// [`in_process`], or as a child process) and returns the sample.
pub type Run<'a> = Box<dyn FnMut() -> Result<Sample> + 'a>;

/// One contender in a scenario.
pub struct Subject<'a> {
    /// The name in the report (`ours chunks`, `tokio-postgres query_raw`, …).
    pub name: String,
    /// Whether it is this project's driver (ratios are ours ÷ peer).
    pub ours: bool,
    /// The work.
    pub run: Run<'a>,
}

impl<'a> Subject<'a> {
    /// A subject of this project.
    pub fn ours(name: &str, run: impl FnMut() -> Result<Sample> + 'a) -> Subject<'a> {
        Subject {
            name: name.to_owned(),
            ours: true,
            run: Box::new(run),
        }
    }

    /// A peer.
    pub fn peer(name: &str, run: impl FnMut() -> Result<Sample> + 'a) -> Subject<'a> {
        Subject {
            name: name.to_owned(),
            ours: false,
            run: Box::new(run),
        }
    }
}

/// The timed runs of one subject.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The subject's name.
    pub name: String,
    /// Whether it is ours.
    pub ours: bool,
    /// The timed samples, in the order they ran.
    pub samples: Vec<Sample>,
}

impl Outcome {
    /// The median wall time.
    pub fn median_seconds(&self) -> f64 {
        median(self.samples.iter().map(|s| s.seconds)).unwrap_or(f64::NAN)
    }

    /// The median CPU time, when every sample has one.
    pub fn median_cpu(&self) -> Option<f64> {
        let cpu: Option<Vec<f64>> = self.samples.iter().map(|s| s.cpu_seconds).collect();
        median(cpu?.into_iter())
    }

    /// The median of the runs' median request latencies, when every sample has one.
    pub fn median_p50(&self) -> Option<f64> {
        let p50: Option<Vec<f64>> = self.samples.iter().map(|s| s.p50_seconds).collect();
        median(p50?.into_iter())
    }

    /// The median of the runs' 99th-percentile request latencies, when every sample has one.
    pub fn median_p99(&self) -> Option<f64> {
        let p99: Option<Vec<f64>> = self.samples.iter().map(|s| s.p99_seconds).collect();
        median(p99?.into_iter())
    }

    /// The highest peak memory of the samples, when measured.
    pub fn peak_rss(&self) -> Option<u64> {
        self.samples.iter().filter_map(|s| s.peak_rss_bytes).max()
    }
}

/// The median (the mean of the middle two for an even count); None when empty.
pub fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// Runs every subject `plan.warmup` times, then `plan.reps` times, interleaved and rotated:
/// A B C, B C A, C A B ….
/// Each run first waits (up to `plan.idle_wait`) for the machine to be idle; a note counts the
/// timed runs that started on a busy machine. A subject that fails is dropped from the rest of
/// the run, and a note says why.
pub fn interleave(
    mut subjects: Vec<Subject<'_>>,
    plan: &Plan,
    notes: &mut Vec<String>,
) -> Vec<Outcome> {
    subjects.retain(|s| plan.includes(&s.name));
    let mut outcomes: Vec<Option<Outcome>> = subjects
        .iter()
        .map(|s| {
            Some(Outcome {
                name: s.name.clone(),
                ours: s.ours,
                samples: Vec::new(),
            })
        })
        .collect();
    let (mut busy, mut timed) = (0, 0);
    let n = subjects.len();
    for round in 0..plan.warmup + plan.reps {
        // Each round starts one subject later (A B C, B C A, C A B…), so that no subject
        // always runs after the same one: what a subject leaves behind on the machine or
        // the server (a pool's idle connections, its backends' caches, stats to flush)
        // weighs on every other in turn.
        for i in (0..n).map(|i| (i + round) % n) {
            let (subject, outcome) = (&mut subjects[i], &mut outcomes[i]);
            let Some(current) = outcome else { continue };
            let idle = crate::idle::wait(plan.idle_wait);
            if round >= plan.warmup {
                timed += 1;
                busy += usize::from(!idle);
            }
            match (subject.run)() {
                Ok(sample) if round >= plan.warmup => current.samples.push(sample),
                Ok(_) => {}
                Err(e) => {
                    notes.push(format!("{} failed and was dropped: {e}", subject.name));
                    *outcome = None;
                }
            }
        }
    }
    if busy > 0 {
        notes.push(format!(
            "{busy} of {timed} timed runs started while other processes kept the machine busy \
             (waited {:?} each)",
            plan.idle_wait
        ));
    }
    outcomes.into_iter().flatten().collect()
}

/// CPU time (user + system) from a rusage.
pub fn cpu_of(usage: &libc::rusage) -> f64 {
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn self_cpu() -> f64 {
    // SAFETY: getrusage writes a rusage into the zeroed struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF and a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_of(&usage)
}

/// Gives freed memory back to the system, then starts a new resident high-water mark at the
/// current size. False when the kernel does not allow it (then no peak is reported).
fn reset_peak() -> bool {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's resident high-water mark (`VmHWM`), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Measures `work` in this process: wall time, CPU time (every thread), and, with
/// `track_rss`, the peak resident memory during it.
pub fn in_process<T>(track_rss: bool, work: impl FnOnce() -> Result<T>) -> Result<Sample> {
    let (sample, value) = in_process_value(track_rss, work)?;
    std::hint::black_box(value);
    Ok(sample)
}

/// [`in_process`], handing back what `work` returned (request latencies, …).
pub fn in_process_value<T>(
    track_rss: bool,
    work: impl FnOnce() -> Result<T>,
) -> Result<(Sample, T)> {
    let tracked = track_rss && reset_peak();
    let cpu = self_cpu();
    let start = Instant::now();
    let value = work()?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = self_cpu() - cpu;
    let sample = Sample {
        seconds,
        cpu_seconds: Some(cpu_seconds),
        peak_rss_bytes: if tracked { peak_rss() } else { None },
        ..Sample::default()
    };
    Ok((sample, value))
}

/// A sample from a wall time and a child's rusage.
pub fn from_child(elapsed: Duration, usage: &libc::rusage, track_rss: bool) -> Sample {
    Sample {
        seconds: elapsed.as_secs_f64(),
        cpu_seconds: Some(cpu_of(usage)),
        // ru_maxrss is in KiB on Linux.
        peak_rss_bytes: track_rss.then(|| usage.ru_maxrss as u64 * 1024),
        ..Sample::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&[3.0], 99.0), Some(3.0));
        assert_eq!(percentile(&[], 50.0), None);
        let sample = Sample::default().with_latencies(vec![0.3, 0.1, 0.2]);
        assert_eq!(sample.p50_seconds, Some(0.2));
        assert_eq!(sample.p99_seconds, Some(0.3));
    }

    #[test]
    fn subjects_by_part_or_exact_name() {
        let plan = |only: &[&str]| Plan {
            only: only.iter().map(|o| o.to_string()).collect(),
            ..Plan::default()
        };
        assert!(plan(&[]).includes("deadpool-postgres Clean"));
        assert!(plan(&["deadpool"]).includes("deadpool-postgres Clean"));
        assert!(plan(&["=deadpool-postgres"]).includes("deadpool-postgres"));
        assert!(!plan(&["=deadpool-postgres"]).includes("deadpool-postgres Clean"));
        assert!(!plan(&["ours"]).includes("deadpool-postgres"));
    }

    #[test]
    fn interleaves_and_drops_failures() {
        let order = std::cell::RefCell::new(Vec::new());
        let ok = |name: &'static str| {
            let order = &order;
            move || {
                order.borrow_mut().push(name);
                Ok(Sample::default())
            }
        };
        let mut notes = Vec::new();
        let outcomes = interleave(
            vec![
                Subject::ours("a", ok("a")),
                Subject::peer("b", ok("b")),
                Subject::peer("c", || Err("no".into())),
            ],
            &Plan {
                warmup: 1,
                reps: 2,
                only: Vec::new(),
                idle_wait: Duration::ZERO,
            },
            &mut notes,
        );
        assert_eq!(*order.borrow(), ["a", "b", "b", "a", "a", "b"]);
        assert_eq!(outcomes.len(), 2);
        assert_eq!(outcomes[0].samples.len(), 2);
        assert_eq!(notes.len(), 1);
    }
}

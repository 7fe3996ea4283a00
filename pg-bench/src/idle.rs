//! Waiting for a quiet machine: on a shared machine, other processes' work would land in the
//! timings, so each timed run can wait until the CPUs are (nearly) idle before it starts.

use std::time::{Duration, Instant};

/// How long each look at the CPUs lasts.
const LOOK: Duration = Duration::from_millis(250);

/// The busy share of all CPUs below which the machine counts as idle (with 2 CPUs, one
/// busy core is 50%).
const IDLE_BELOW: f64 = 0.10;

/// Busy and total jiffies of all CPUs, from the first line of `/proc/stat`.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// The busy share of all CPUs over one look, if `/proc/stat` can be read.
fn busy_share() -> Option<f64> {
    let (busy0, total0) = cpu_jiffies()?;
    std::thread::sleep(LOOK);
    let (busy1, total1) = cpu_jiffies()?;
    let total = total1.saturating_sub(total0);
    (total > 0).then(|| busy1.saturating_sub(busy0) as f64 / total as f64)
}

/// Waits up to `limit` for the machine to be idle (this process and the server are idle
/// between runs, so what is busy is someone else). True when it is idle (or when `limit` is
/// zero or the machine cannot be observed: nothing to wait for); false when `limit` ran out.
pub fn wait(limit: Duration) -> bool {
    if limit.is_zero() {
        return true;
    }
    let deadline = Instant::now() + limit;
    loop {
        match busy_share() {
            None => return true,
            Some(share) if share < IDLE_BELOW => return true,
            Some(_) if Instant::now() >= deadline => return false,
            Some(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

//! `psql` running one meta-command (`\copy …`).

use std::path::Path;
use std::process::Command;

use crate::measure::{Result, Sample, from_child};

/// Runs `command` in psql (no psqlrc, stop on error) and measures the whole process: the
/// wall time from spawn to exit (start-up and connecting included, a few milliseconds) and
/// its rusage.
pub fn run(psql: &Path, uri: &str, command: &str, track_rss: bool) -> Result<Sample> {
    let mut child = Command::new(psql);
    child
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(uri)
        .arg("-c")
        .arg(command);
    let finished = super::run(child)?;
    Ok(from_child(finished.elapsed, &finished.usage, track_rss))
}

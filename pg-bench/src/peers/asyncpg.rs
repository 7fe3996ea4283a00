//! asyncpg, through `scripts/asyncpg_bench.py` (embedded, written to a temporary file).

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use crate::measure::{Result, Sample};

const SCRIPT: &str = include_str!("../../scripts/asyncpg_bench.py");

/// python3 with asyncpg importable, and the script written out.
pub struct Asyncpg {
    python: PathBuf,
    script: tempfile::NamedTempFile,
}

impl Asyncpg {
    /// python3 if it can import asyncpg; None (and a note) otherwise.
    pub fn find(notes: &mut Vec<String>) -> Option<Asyncpg> {
        let found = super::in_path("python3").and_then(|python| {
            let check = Command::new(&python)
                .args(["-c", "import asyncpg; print(asyncpg.__version__)"])
                .output()
                .ok()?;
            check.status.success().then_some(python)
        });
        let Some(python) = found else {
            notes.push(
                "asyncpg skipped: python3 cannot import it (pip install asyncpg to measure it)"
                    .to_owned(),
            );
            return None;
        };
        let script = tempfile::Builder::new()
            .prefix("asyncpg_bench-")
            .suffix(".py")
            .tempfile()
            .and_then(|mut f| f.write_all(SCRIPT.as_bytes()).map(|()| f));
        match script {
            Ok(script) => Some(Asyncpg { python, script }),
            Err(e) => {
                notes.push(format!("asyncpg skipped: cannot write its script: {e}"));
                None
            }
        }
    }

    /// The asyncpg version.
    pub fn version(&self) -> Option<String> {
        let out = Command::new(&self.python)
            .args(["-c", "import asyncpg; print(asyncpg.__version__)"])
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// One run of the script: `mode` and its arguments (see the script); the sample is the
    /// script's own measurement of the timed part. Fails unless it handled `rows` rows.
    pub fn run(
        &self,
        uri: &str,
        mode: &str,
        args: &[&str],
        rows: usize,
        track_rss: bool,
    ) -> Result<Sample> {
        let mut command = Command::new(&self.python);
        command
            .arg(self.script.path())
            .arg(uri)
            .arg(mode)
            .args(args);
        let finished = super::run(command)?;
        let report: serde_json::Value = serde_json::from_str(finished.stdout.trim())?;
        let number = |key: &str| {
            report[key]
                .as_f64()
                .ok_or_else(|| format!("no {key} in {report}"))
        };
        if number("rows")? as usize != rows {
            return Err(format!("asyncpg handled {} rows, not {rows}", report["rows"]).into());
        }
        Ok(Sample {
            seconds: number("seconds")?,
            cpu_seconds: Some(number("cpu_seconds")?),
            peak_rss_bytes: track_rss
                .then(|| report["peak_rss_bytes"].as_u64())
                .flatten(),
            ..Sample::default()
        })
    }
}

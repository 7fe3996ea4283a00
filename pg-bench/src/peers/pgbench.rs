//! `pgbench -M prepared` running a script file on one connection or several.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::measure::{Result, Sample, from_child};

/// Runs `transactions` transactions of `script` (pgbench's script language) on one
/// connection with prepared statements. The wall time is pgbench's own (transactions ÷ its
/// tps, which excludes connecting); the CPU time is the whole process's.
pub fn run(pgbench: &Path, uri: &str, script: &Path, transactions: usize) -> Result<Sample> {
    run_clients(pgbench, uri, script, 1, transactions)
}

/// [`run`] with `clients` connections, driven by one pgbench thread, each making an equal
/// share of `transactions` (which `clients` must divide).
pub fn run_clients(
    pgbench: &Path,
    uri: &str,
    script: &Path,
    clients: usize,
    transactions: usize,
) -> Result<Sample> {
    if clients == 0 || !transactions.is_multiple_of(clients) {
        return Err(
            format!("{clients} pgbench clients cannot share {transactions} transactions").into(),
        );
    }
    let mut command = Command::new(pgbench);
    command
        .args(["-n", "-M", "prepared", "-j", "1", "-c"])
        .arg(clients.to_string())
        .arg("-t")
        .arg((transactions / clients).to_string())
        .arg("-f")
        .arg(script)
        .arg(uri);
    let finished = super::run(command)?;
    let processed = field(
        &finished.stdout,
        "number of transactions actually processed:",
    )
    .and_then(|v| v.split('/').next())
    .and_then(|v| v.trim().parse::<usize>().ok());
    if processed != Some(transactions) {
        return Err(format!(
            "pgbench processed {processed:?} transactions:\n{}",
            finished.stdout
        )
        .into());
    }
    let tps: f64 = field(&finished.stdout, "tps = ")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no tps in pgbench's output:\n{}", finished.stdout))?;
    let mut sample = from_child(finished.elapsed, &finished.usage, false);
    sample.seconds = transactions as f64 / tps;
    Ok(sample)
}

/// Writes a pgbench script file.
pub fn script(text: &str) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("pg-bench-")
        .suffix(".sql")
        .tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    Ok(file)
}

/// The text after `label` on the first line that has it.
fn field<'a>(output: &'a str, label: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|line| line.find(label).map(|at| &line[at + label.len()..]))
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn reads_pgbench_output() {
        let out = "number of transactions actually processed: 20000/20000\n\
                   tps = 15012.345678 (without initial connection time)\n";
        assert_eq!(
            field(out, "number of transactions actually processed:"),
            Some(" 20000/20000")
        );
        assert_eq!(
            field(out, "tps = ").and_then(|v| v.split_whitespace().next()),
            Some("15012.345678")
        );
    }
}

//! `pgapi copy`: a table from one database to another through the driver's copy manager,
//! with progress; and the standard streams of COPY statements run as SQL.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use pg_driver::params::Keywords;
use pg_driver::{Connection, Connector, CopyManager, Statement};
use pg_string::{Part, qname, split, split_qname, strip_comments};
use tokio::io::AsyncReadExt;

use crate::Failure;
use crate::cli::CopyArgs;

/// The direction of a COPY statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyKind {
    /// `COPY … TO STDOUT`: its data is the output.
    Out,
    /// `COPY … FROM STDIN`: its data comes from standard input.
    In,
    /// Not a COPY with the client's end (a COPY to or from a server file, or no COPY).
    Other,
}

/// What kind of COPY `sql` is, read from its words outside quotes and comments.
pub fn kind(sql: &str) -> CopyKind {
    let mut words = String::new();
    for part in split(&strip_comments(sql)) {
        match part {
            Part::Unquoted(text) => words.push_str(&text.to_ascii_lowercase()),
            _ => words.push_str(" \"\" "),
        }
        words.push(' ');
    }
    let words: Vec<&str> = words
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
        .filter(|w| !w.is_empty())
        .collect();
    if words.first() != Some(&"copy") {
        return CopyKind::Other;
    }
    // The last mention decides: `COPY (SELECT … FROM stdin) TO STDOUT` is an output.
    for pair in words.windows(2).rev() {
        match pair {
            ["to", "stdout"] => return CopyKind::Out,
            ["from", "stdin"] => return CopyKind::In,
            _ => {}
        }
    }
    CopyKind::Other
}

/// Writes the output of a `COPY … TO STDOUT` statement; returns the bytes written.
pub async fn to_writer(statement: &Statement, out: &mut impl Write) -> Result<u64, Failure> {
    let mut pieces = statement.copy_rows(())?;
    let mut bytes = 0;
    while let Some(piece) = pieces.next().await {
        let piece = piece?;
        out.write_all(&piece)?;
        bytes += piece.len() as u64;
    }
    Ok(bytes)
}

/// Feeds a `COPY … FROM STDIN` statement from standard input; returns the rows copied.
pub async fn from_stdin(statement: &Statement) -> Result<u64, Failure> {
    let source = futures::stream::unfold(Some(tokio::io::stdin()), |stdin| async move {
        let mut stdin = stdin?;
        let mut buffer = vec![0u8; 64 * 1024];
        match stdin.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), Some(stdin)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(statement.copy_in((), source).await?)
}

/// A table name as the user wrote it (`schema.table`, `"Mixed Case"`), quoted for SQL.
pub fn quoted_table(name: &str) -> Result<String, Failure> {
    let parts = split_qname(name)
        .map_err(|e| Failure::message(format!("{name:?} is not a table name: {e}")))?;
    Ok(qname(parts))
}

async fn connect(iri: &str) -> Result<Connection, Failure> {
    let params = Keywords::parse(iri)
        .and_then(Keywords::resolve)
        .map_err(|e| Failure::message(format!("cannot use the IRI: {e}")))?;
    Ok(Connector::new(params).connect().await?)
}

/// Runs `pgapi copy`: `COPY source TO STDOUT` on one connection feeding
/// `COPY destination FROM STDIN` on the other, in a transaction of the destination's so
/// that a failure leaves nothing behind; progress on standard error.
pub async fn run(args: &CopyArgs) -> Result<u8, Failure> {
    let source_table = quoted_table(&args.table)?;
    let destination_table = quoted_table(args.to.as_deref().unwrap_or(&args.table))?;
    let with = if args.binary {
        " WITH (FORMAT binary)"
    } else {
        ""
    };
    let source = connect(&args.source).await?;
    let destination = connect(&args.destination).await?;
    let producer = source
        .prepare(&format!("COPY {source_table} TO STDOUT{with}"))
        .await?;
    let receiver = destination
        .prepare(&format!("COPY {destination_table} FROM STDIN{with}"))
        .await?;
    let xact = destination.xact();
    xact.start().await?;

    let mut meter = Meter::new(io::stderr().is_terminal());
    let mut manager = CopyManager::new(&producer, &[receiver])?;
    while let Some(step) = manager.next().await {
        let moved = step.map_err(pg_exceptions::Error::from)?;
        meter.add(moved.messages, moved.bytes);
    }
    let rows = manager
        .finish()
        .await
        .into_result()?
        .first()
        .copied()
        .unwrap_or(0);
    xact.commit().await?;
    meter.finish();
    eprintln!(
        "pgapi: copied {rows} rows, {} bytes in {:.2} s ({source_table} to {destination_table})",
        meter.bytes,
        meter.started.elapsed().as_secs_f64()
    );
    source.close();
    destination.close();
    Ok(0)
}

/// Counts what has moved, and shows it on a progress line when standard error is a
/// terminal.
struct Meter {
    bar: Option<ProgressBar>,
    started: Instant,
    rows: u64,
    bytes: u64,
}

impl Meter {
    fn new(show: bool) -> Meter {
        let bar = show.then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Meter {
            bar,
            started: Instant::now(),
            rows: 0,
            bytes: 0,
        }
    }

    fn add(&mut self, rows: u64, bytes: u64) {
        self.rows += rows;
        self.bytes += bytes;
        if let Some(bar) = &self.bar {
            let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{} rows, {} ({:.0} rows/s, {}/s)",
                self.rows,
                HumanBytes(self.bytes),
                self.rows as f64 / seconds,
                HumanBytes((self.bytes as f64 / seconds) as u64)
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_copy_directions() {
        assert_eq!(kind("COPY t TO STDOUT"), CopyKind::Out);
        assert_eq!(
            kind("copy t (a, b) from stdin with (format csv)"),
            CopyKind::In
        );
        assert_eq!(kind("-- copy\nCOPY (select 1) TO stdout"), CopyKind::Out);
        assert_eq!(kind("COPY t TO '/tmp/file'"), CopyKind::Other);
        assert_eq!(kind("select 'copy t to stdout'"), CopyKind::Other);
        assert_eq!(kind("copy \"to\" to '/x' /* to stdout */"), CopyKind::Other);
        // A quote inside a comment opens nothing; comment markers inside quotes are text.
        assert_eq!(kind("-- it's\ncopy t to stdout"), CopyKind::Out);
        assert_eq!(kind("/* it's */ copy t from stdin -- '"), CopyKind::In);
        assert_eq!(kind("copy t to '/x--' /* ' */"), CopyKind::Other);
    }

    #[test]
    fn quotes_table_names() {
        assert_eq!(
            quoted_table("Public.Items").unwrap(),
            "\"public\".\"items\""
        );
        assert_eq!(
            quoted_table("s.\"Mixed Case\"").unwrap(),
            "\"s\".\"Mixed Case\""
        );
        assert!(quoted_table("a b").is_err());
        assert!(quoted_table("\"open").is_err());
    }
}

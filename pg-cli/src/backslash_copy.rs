//! `\copy`: psql's client-side COPY. The file is read or written by pgapi, not the server:
//! `\copy table [(columns)] from 'file'|stdin|pstdin|program 'command' [options]` and
//! `\copy table|(query) to 'file'|stdout|pstdout|program 'command' [options]` become
//! `COPY … FROM STDIN` / `COPY … TO STDOUT` with the data streamed through the driver.

use std::fs::File;
use std::io::{self, BufRead, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use pg_driver::Connection;

use crate::Failure;

/// Files larger than this get a progress bar (when asked for).
pub const PROGRESS_THRESHOLD: u64 = 4 * 1024 * 1024;

/// How many bytes are read from a file at a time.
const CHUNK: usize = 64 * 1024;

/// Where the data of a `\copy` comes from or goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A file of the client's, relative to the current directory (`~/` is the home).
    File(PathBuf),
    /// psql's `pstdin`/`pstdout` (the process's): pgapi's standard input or output.
    Standard,
    /// `to stdout`: the query output (`\o`'s file, else standard output; see
    /// [`copy_out_to`]).
    Output,
    /// `from stdin`: where the commands come from, the lines after `\copy` up to `\.` in
    /// a script file (see [`copy_in_data`]); standard input otherwise.
    Input,
    /// The standard input or output of a shell command (`program 'command'`).
    Program(String),
}

/// A parsed `\copy` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCopy {
    /// What comes between `COPY` and `FROM`/`TO`: the table and its column list, or the
    /// parenthesised query, as written.
    pub subject: String,
    /// `FROM` (data to the server) rather than `TO`.
    pub from: bool,
    /// The file, standard stream or program.
    pub endpoint: Endpoint,
    /// The options after the file, as written (`with (format csv, header)`, `csv header`).
    pub options: String,
}

impl SlashCopy {
    /// The COPY statement the server runs.
    pub fn statement(&self) -> String {
        let direction = if self.from { "FROM STDIN" } else { "TO STDOUT" };
        match self.options.is_empty() {
            true => format!("COPY {} {direction}", self.subject),
            false => format!("COPY {} {direction} {}", self.subject, self.options),
        }
    }

    /// Whether the options ask for the binary format (text and CSV end at a `\.` line on a
    /// terminal; binary data does not).
    fn binary(&self) -> bool {
        let words = |s: &str| {
            s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w.eq_ignore_ascii_case("binary"))
        };
        words(&self.options) || self.subject.split_whitespace().next().is_some_and(words)
    }
}

/// Parses the text after `\copy ` as psql does: the subject up to the first `from` or `to`
/// outside quotes and parentheses, then the file (quoted with `'…'` or not; `stdin`,
/// `stdout`, `pstdin`, `pstdout`, or `program '…'`), then the options, passed through.
pub fn parse(args: &str) -> Result<SlashCopy, Failure> {
    let args = args.trim();
    if args.is_empty() {
        return Err(Failure::message("\\copy: arguments required"));
    }
    let parse_error = |at: &str| match at.split_whitespace().next() {
        Some(token) => Failure::message(format!("\\copy: parse error at \"{token}\"")),
        None => Failure::message("\\copy: parse error at end of line"),
    };
    // The subject: up to `from`/`to`, a word on its own outside quotes and parentheses.
    let bytes = args.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut direction = None;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
                i += 1;
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &args[start..i];
                let alone = start == 0 || !matches!(bytes[start - 1], b'.' | b'"');
                if depth == 0 && alone && start > 0 {
                    if word.eq_ignore_ascii_case("from") {
                        direction = Some((start, i, true));
                        break;
                    }
                    if word.eq_ignore_ascii_case("to") {
                        direction = Some((start, i, false));
                        break;
                    }
                }
            }
            _ => i += 1,
        }
    }
    let Some((keyword, after_keyword, from)) = direction else {
        return Err(parse_error(""));
    };
    let subject = args[..keyword].trim_end().to_owned();
    if subject.is_empty() || depth != 0 {
        return Err(parse_error(&args[keyword..]));
    }
    let rest = args[after_keyword..].trim_start();
    let (first, rest) = file_token(rest).ok_or_else(|| parse_error(rest))?;
    let endpoint = match first {
        Token::Quoted(name) => Endpoint::File(expand_tilde(&name)),
        Token::Bare(word) => match word.to_ascii_lowercase().as_str() {
            "stdin" if from => Endpoint::Input,
            "stdout" if !from => Endpoint::Output,
            "stdin" | "stdout" | "pstdin" | "pstdout" => Endpoint::Standard,
            "program" => match file_token(rest.trim_start()) {
                Some((Token::Quoted(command), after)) => {
                    let options = after.trim().to_owned();
                    return Ok(SlashCopy {
                        subject,
                        from,
                        endpoint: Endpoint::Program(command),
                        options,
                    });
                }
                // The shell command must be quoted.
                _ => return Err(parse_error(rest)),
            },
            _ => Endpoint::File(expand_tilde(&word)),
        },
    };
    Ok(SlashCopy {
        subject,
        from,
        endpoint,
        options: rest.trim().to_owned(),
    })
}

/// A file name as written: `'quoted'` (quotes doubled inside) or bare.
enum Token {
    Quoted(String),
    Bare(String),
}

/// The file name (or `stdin`, `program`…) at the start of `text`, and the text after it; a
/// bare one ends at white space or `;`.
fn file_token(text: &str) -> Option<(Token, &str)> {
    if let Some(body) = text.strip_prefix('\'') {
        let mut name = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                    chars.next();
                    name.push('\'');
                    continue;
                }
                return Some((Token::Quoted(name), &body[i + 1..]));
            }
            name.push(c);
        }
        // An unterminated quote: the name runs to the end, as psql takes it.
        return Some((Token::Quoted(name), ""));
    }
    let end = text
        .find(|c: char| c.is_whitespace() || c == ';')
        .unwrap_or(text.len());
    (end > 0).then(|| (Token::Bare(text[..end].to_owned()), &text[end..]))
}

/// `~/file` and `~` in the home directory.
/// A file name with a leading `~` (alone or before `/`) as the home directory, as psql
/// reads the names of `\copy`, `\i`, `\o`.
pub fn expand_tilde(name: &str) -> PathBuf {
    match (name.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(""), Some(home)) => PathBuf::from(home),
        (Some(rest), Some(home)) if rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(name),
    }
}

/// Runs `\copy` with `args`, the text after `\copy `, on `db`: returns the command tag
/// (`COPY 3`). With `progress`, files larger than [`PROGRESS_THRESHOLD`] show a progress
/// bar on standard error.
pub async fn run(db: &Connection, args: &str, progress: bool) -> Result<String, Failure> {
    let copy = parse(args)?;
    let rows = if copy.from {
        copy_in(db, &copy, progress).await?
    } else {
        copy_out(db, &copy, progress).await?
    };
    Ok(format!("COPY {rows}"))
}

/// Runs a `\copy … from stdin` whose data a script gave (the lines after it, see
/// [`Endpoint::Input`]); returns the command tag.
pub async fn copy_in_data(
    db: &Connection,
    copy: &SlashCopy,
    data: Vec<u8>,
) -> Result<String, Failure> {
    let prepared = db.prepare(&copy.statement()).await?;
    let source = futures::stream::iter([Ok::<_, io::Error>(Bytes::from(data))]);
    let rows = prepared.copy_in((), source).await?;
    Ok(format!("COPY {rows}"))
}

/// Runs a `\copy … to stdout` into `out`, the query output; returns the rows copied.
pub async fn copy_out_to(
    db: &Connection,
    copy: &SlashCopy,
    out: &mut dyn Write,
    progress: bool,
) -> Result<u64, Failure> {
    write_out(db, &copy.statement(), out, "stdout", progress).await
}

impl SlashCopy {
    /// Whether the data goes to a standard output (`stdout`, `pstdout`), where psql
    /// prints no command tag after it unless that tag goes elsewhere (`\o`).
    pub fn to_standard_output(&self) -> bool {
        !self.from && matches!(self.endpoint, Endpoint::Standard | Endpoint::Output)
    }

    /// Whether the data comes from the script's lines when there is one: `from stdin`,
    /// not binary (binary data has no lines).
    pub fn reads_script(&self) -> bool {
        self.endpoint == Endpoint::Input && !self.binary()
    }
}

/// A failure to open, read or write the file, naming it as psql does (`file: reason`).
fn file_failure(path: &std::path::Path, error: io::Error) -> Failure {
    let reason = match error.kind() {
        io::ErrorKind::NotFound => "No such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "Permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "cannot copy from/to a directory".to_owned(),
        _ => error.to_string(),
    };
    Failure::message(format!("\\copy: {}: {reason}", path.display()))
}

/// Opens a file to read, refusing a directory.
fn open_for_reading(path: &std::path::Path) -> Result<(File, u64), Failure> {
    let file = File::open(path).map_err(|e| file_failure(path, e))?;
    let metadata = file.metadata().map_err(|e| file_failure(path, e))?;
    if metadata.is_dir() {
        return Err(file_failure(path, io::ErrorKind::IsADirectory.into()));
    }
    Ok((file, metadata.len()))
}

/// A shell running `command`, its standard input or output piped to pgapi.
fn spawn(command: &str, from: bool) -> Result<Child, Failure> {
    let mut shell = Command::new("/bin/sh");
    shell.arg("-c").arg(command);
    if from {
        shell.stdout(Stdio::piped());
    } else {
        shell.stdin(Stdio::piped());
    }
    shell
        .spawn()
        .map_err(|e| Failure::message(format!("\\copy: could not run \"{command}\": {e}")))
}

/// Waits for a `program` and reports a failure of its.
fn reap(mut child: Child, command: &str) -> Result<(), Failure> {
    let status = child
        .wait()
        .map_err(|e| Failure::message(format!("\\copy: \"{command}\": {e}")))?;
    match status.success() {
        true => Ok(()),
        false => Err(Failure::message(format!(
            "\\copy: program \"{command}\" failed: {status}"
        ))),
    }
}

/// A byte stream of a reader, `CHUNK` bytes at a time, counted on `bar`.
fn chunks<R: Read + 'static>(
    reader: R,
    bar: Option<ProgressBar>,
) -> impl futures::Stream<Item = Result<Bytes, io::Error>> {
    futures::stream::unfold(Some(reader), move |reader| {
        let bar = bar.clone();
        async move {
            let mut reader = reader?;
            let mut buffer = vec![0u8; CHUNK];
            match reader.read(&mut buffer) {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    if let Some(bar) = &bar {
                        bar.inc(n as u64);
                    }
                    Some((Ok(Bytes::from(buffer)), Some(reader)))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    })
}

/// A progress bar for `total` bytes.
fn bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) \\copy",
    ) {
        bar.set_style(style);
    }
    bar
}

/// `\copy … from`: feeds the file, standard input or program to `COPY … FROM STDIN`.
async fn copy_in(db: &Connection, copy: &SlashCopy, progress: bool) -> Result<u64, Failure> {
    let statement = copy.statement();
    match &copy.endpoint {
        Endpoint::File(path) => {
            let (file, size) = open_for_reading(path)?;
            let prepared = db.prepare(&statement).await?;
            let bar = (progress && size > PROGRESS_THRESHOLD).then(|| bar(size));
            let rows = prepared.copy_in((), chunks(file, bar.clone())).await;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            Ok(rows?)
        }
        Endpoint::Program(command) => {
            let prepared = db.prepare(&statement).await?;
            let mut child = spawn(command, true)?;
            let Some(output) = child.stdout.take() else {
                return Err(Failure::message(
                    "\\copy: the program's output is not piped",
                ));
            };
            let rows = prepared.copy_in((), chunks(output, None)).await;
            let reaped = reap(child, command);
            let rows = rows?;
            reaped?;
            Ok(rows)
        }
        Endpoint::Standard | Endpoint::Input | Endpoint::Output => {
            let prepared = db.prepare(&statement).await?;
            if copy.binary() {
                return Ok(prepared.copy_in((), chunks(io::stdin(), None)).await?);
            }
            if io::stdin().is_terminal() {
                eprintln!(
                    "Enter data to be copied followed by a newline.\n\
                     End with a backslash and a period on a line by itself, or an EOF signal."
                );
            }
            // Lines up to the end of the input or a `\.` line, read through std's own
            // buffer of standard input, which a script reader of the shell shares: nothing
            // after the `\.` is taken from it.
            let source = futures::stream::unfold(true, |more| async move {
                if !more {
                    return None;
                }
                let mut line = Vec::new();
                match io::stdin().lock().read_until(b'\n', &mut line) {
                    Ok(0) => None,
                    Ok(_) if line == b"\\.\n" || line == b"\\.\r\n" || line == b"\\." => None,
                    Ok(_) => Some((Ok(Bytes::from(line)), true)),
                    Err(e) => Some((Err(e), false)),
                }
            });
            Ok(prepared.copy_in((), source).await?)
        }
    }
}

/// `\copy … to`: writes the output of `COPY … TO STDOUT` to the file, standard output or
/// program.
async fn copy_out(db: &Connection, copy: &SlashCopy, progress: bool) -> Result<u64, Failure> {
    let statement = copy.statement();
    let (mut out, shown, child): (Box<dyn Write>, String, Option<Child>) = match &copy.endpoint {
        Endpoint::File(path) => {
            if path.is_dir() {
                return Err(file_failure(path, io::ErrorKind::IsADirectory.into()));
            }
            let file = File::create(path).map_err(|e| file_failure(path, e))?;
            (
                Box::new(BufWriter::with_capacity(CHUNK, file)),
                path.display().to_string(),
                None,
            )
        }
        Endpoint::Standard | Endpoint::Input | Endpoint::Output => {
            (Box::new(io::stdout().lock()), "stdout".to_owned(), None)
        }
        Endpoint::Program(command) => {
            let mut child = spawn(command, false)?;
            let Some(input) = child.stdin.take() else {
                return Err(Failure::message("\\copy: the program's input is not piped"));
            };
            (Box::new(input), command.clone(), Some(child))
        }
    };
    let written = write_out(db, &statement, &mut out, &shown, progress).await;
    // The program sees the end of its input before it is waited for.
    drop(out);
    if let (Some(child), Endpoint::Program(command)) = (child, &copy.endpoint) {
        let reaped = reap(child, command);
        let rows = written?;
        reaped?;
        return Ok(rows);
    }
    written
}

async fn write_out(
    db: &Connection,
    statement: &str,
    out: &mut dyn Write,
    shown: &str,
    progress: bool,
) -> Result<u64, Failure> {
    let write_failure =
        |e: io::Error| Failure::message(format!("\\copy: could not write to {shown}: {e}"));
    let prepared = db.prepare(statement).await?;
    let mut pieces = prepared.copy_rows(())?;
    let mut bytes = 0u64;
    let mut bar: Option<ProgressBar> = None;
    while let Some(piece) = pieces.next().await {
        let piece = piece?;
        out.write_all(&piece).map_err(write_failure)?;
        bytes += piece.len() as u64;
        // The size is not known beforehand: a running count once it is large.
        if progress && bar.is_none() && bytes > PROGRESS_THRESHOLD {
            let spinner = ProgressBar::new_spinner();
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {bytes} ({bytes_per_sec}) \\copy")
            {
                spinner.set_style(style);
            }
            spinner.enable_steady_tick(Duration::from_millis(100));
            bar = Some(spinner);
        }
        if let Some(bar) = &bar {
            bar.set_position(bytes);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    out.flush().map_err(write_failure)?;
    pieces
        .rows_copied()
        .ok_or_else(|| Failure::message("\\copy: the server sent no row count"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(subject: &str, from: bool, path: &str, options: &str) -> SlashCopy {
        SlashCopy {
            subject: subject.into(),
            from,
            endpoint: Endpoint::File(path.into()),
            options: options.into(),
        }
    }

    #[test]
    fn parses_as_psql_does() {
        assert_eq!(
            parse("items from 'data.csv' with (format csv, header)").unwrap(),
            file("items", true, "data.csv", "with (format csv, header)")
        );
        assert_eq!(
            parse("s.\"Items\" (id, \"from\") FROM /tmp/x.txt").unwrap(),
            file("s.\"Items\" (id, \"from\")", true, "/tmp/x.txt", "")
        );
        assert_eq!(
            parse("(select 'to', 1 from t) to 'my file.txt' csv header").unwrap(),
            file(
                "(select 'to', 1 from t)",
                false,
                "my file.txt",
                "csv header"
            )
        );
        assert_eq!(parse("t to 'it''s'").unwrap(), file("t", false, "it's", ""));
        // `to` inside a name is no keyword; `stdout` is the query output, `stdin` the
        // commands' input, `pstdin`/`pstdout` the process's standard streams.
        let standard = parse("toys to stdout").unwrap();
        assert_eq!(standard.subject, "toys");
        assert_eq!(standard.endpoint, Endpoint::Output);
        assert_eq!(parse("t from STDIN").unwrap().endpoint, Endpoint::Input);
        assert_eq!(parse("t from PSTDIN").unwrap().endpoint, Endpoint::Standard);
        assert_eq!(parse("t to pstdout").unwrap().endpoint, Endpoint::Standard);
        // Quoted, `stdin` is a file.
        assert_eq!(
            parse("t from 'stdin'").unwrap().endpoint,
            Endpoint::File("stdin".into())
        );
        let program = parse("t to program 'gzip > x.gz' with binary").unwrap();
        assert_eq!(program.endpoint, Endpoint::Program("gzip > x.gz".into()));
        assert_eq!(program.options, "with binary");
        assert_eq!(parse("t to file;").unwrap().options, ";");
    }

    #[test]
    fn builds_the_statement() {
        assert_eq!(
            parse("items (a, b) from 'f' with (format csv)")
                .unwrap()
                .statement(),
            "COPY items (a, b) FROM STDIN with (format csv)"
        );
        assert_eq!(
            parse("(select 1) to stdout").unwrap().statement(),
            "COPY (select 1) TO STDOUT"
        );
        assert!(parse("t to f with (format binary)").unwrap().binary());
        assert!(parse("binary t to f").unwrap().binary());
        assert!(!parse("binary_data to f csv").unwrap().binary());
    }

    #[test]
    fn says_what_is_wrong() {
        let report = |args: &str| parse(args).unwrap_err().report;
        assert_eq!(report(""), "pgapi: \\copy: arguments required");
        assert_eq!(report("items"), "pgapi: \\copy: parse error at end of line");
        assert_eq!(
            report("from 'x'"),
            "pgapi: \\copy: parse error at end of line"
        );
        assert_eq!(
            report("items from"),
            "pgapi: \\copy: parse error at end of line"
        );
        assert_eq!(
            report("t to program gzip"),
            "pgapi: \\copy: parse error at \"gzip\""
        );
        assert_eq!(
            report("(select 1 to 'x'"),
            "pgapi: \\copy: parse error at end of line"
        );
    }

    #[test]
    fn expands_the_home() {
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(expand_tilde("~/x.csv"), PathBuf::from(home).join("x.csv"));
        }
        assert_eq!(expand_tilde("x~/y"), PathBuf::from("x~/y"));
    }
}

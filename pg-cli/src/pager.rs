//! The pager: output taller or wider than the terminal goes through `PSQL_PAGER`, `PAGER`
//! or `less -S`, as psql sends it (`\pset pager`).

use std::io::{self, IsTerminal, Write};
use std::process::{Command, Stdio};

use crate::print::{Settings, display_width};

/// The pager psql runs when neither `PSQL_PAGER` nor `PAGER` is set.
pub const DEFAULT_PAGER: &str = "less -S";

/// Shows text: through the pager when `terminal` says standard output is a terminal and
/// the destination, the `pager` setting is on, a pager is configured (see
/// [`pager_command`]) and the text is taller or wider than the terminal (see
/// [`needs_pager`]); written to `out` otherwise. The user quitting the pager before the
/// end is no error; a pager that cannot be started is skipped, as psql skips it.
pub fn show(
    text: &str,
    settings: &Settings,
    out: &mut dyn Write,
    terminal: bool,
) -> io::Result<()> {
    if !(terminal && settings.pager) {
        return out.write_all(text.as_bytes());
    }
    let size = terminal_size();
    let command = pager_command(
        std::env::var("PSQL_PAGER").ok().as_deref(),
        std::env::var("PAGER").ok().as_deref(),
    );
    show_with(text, true, out, size, command.as_deref())
}

/// [`show`] with the terminal's size (columns, rows; `None`: not a terminal) and the pager
/// command given: the decision without the environment.
fn show_with(
    text: &str,
    pager_on: bool,
    out: &mut dyn Write,
    size: Option<(usize, usize)>,
    command: Option<&str>,
) -> io::Result<()> {
    let command = match (pager_on, size, command) {
        (true, Some((columns, rows)), Some(command)) if needs_pager(text, columns, rows) => command,
        _ => return out.write_all(text.as_bytes()),
    };
    // What was written before goes to the terminal before the pager takes it.
    out.flush()?;
    let Ok(mut child) = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .spawn()
    else {
        return out.write_all(text.as_bytes());
    };
    let written = match child.stdin.take() {
        // Dropped at the end of the arm: the pager sees the end of its input.
        Some(mut stdin) => stdin.write_all(text.as_bytes()),
        None => Ok(()),
    };
    child.wait()?;
    match written {
        // The user quit the pager before the end.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The pager to run: `PSQL_PAGER`'s value if it is set, else `PAGER`'s, else
/// [`DEFAULT_PAGER`]; none when the value chosen is empty, blank or `off`.
pub fn pager_command(psql_pager: Option<&str>, pager: Option<&str>) -> Option<String> {
    match psql_pager.or(pager) {
        None => Some(DEFAULT_PAGER.to_owned()),
        Some(value) if value.trim().is_empty() || value.trim() == "off" => None,
        Some(value) => Some(value.to_owned()),
    }
}

/// Whether text needs the pager on a terminal of `columns` × `rows`: as many lines as
/// the terminal has rows or more (psql keeps a line for the prompt), or a line wider than
/// the terminal.
pub fn needs_pager(text: &str, columns: usize, rows: usize) -> bool {
    let mut lines = 0;
    let mut widest = 0;
    for line in text.lines() {
        lines += 1;
        widest = widest.max(display_width(line));
    }
    lines >= rows || widest > columns
}

/// The terminal's size (columns, rows) when standard output is a terminal.
fn terminal_size() -> Option<(usize, usize)> {
    let stdout = io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(&stdout)
        .map(|(width, height)| (usize::from(width.0), usize::from(height.0)))
}

/// The terminal's width for `\x auto`: `COLUMNS` when set to a number, else the
/// terminal's own; `None` when standard output is not a terminal.
pub fn terminal_width() -> Option<usize> {
    if !io::stdout().is_terminal() {
        return None;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .or_else(|| terminal_size().map(|(columns, _)| columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tall(lines: usize) -> String {
        (1..=lines).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn not_a_terminal_writes_to_out() {
        let text = tall(500);
        let mut out = Vec::new();
        show(&text, &Settings::default(), &mut out, false).unwrap();
        assert_eq!(out, text.as_bytes());
        // The pager setting off: to out, whatever the size.
        let mut out = Vec::new();
        show_with(&text, false, &mut out, Some((80, 24)), Some("cat")).unwrap();
        assert_eq!(out, text.as_bytes());
        // No terminal size known: to out.
        let mut out = Vec::new();
        show_with(&text, true, &mut out, None, Some("cat")).unwrap();
        assert_eq!(out, text.as_bytes());
        // No pager configured (PAGER empty or off): to out.
        let mut out = Vec::new();
        show_with(&text, true, &mut out, Some((80, 24)), None).unwrap();
        assert_eq!(out, text.as_bytes());
    }

    #[test]
    fn tall_or_wide_text_goes_through_the_pager() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("paged");
        let command = format!("cat > '{}'", file.display());
        // Taller than the terminal.
        let text = tall(30);
        let mut out = Vec::new();
        show_with(&text, true, &mut out, Some((80, 24)), Some(&command)).unwrap();
        assert!(out.is_empty());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        // Short and narrow: not paged.
        std::fs::remove_file(&file).unwrap();
        let text = tall(5);
        show_with(&text, true, &mut out, Some((80, 24)), Some(&command)).unwrap();
        assert_eq!(out, text.as_bytes());
        assert!(!file.exists());
        // Short but wider than the terminal (wide characters count twice): paged.
        let text = format!("{}\n", "日本".repeat(25));
        let mut out = Vec::new();
        show_with(&text, true, &mut out, Some((80, 24)), Some(&command)).unwrap();
        assert!(out.is_empty());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }

    #[test]
    fn a_pager_quitting_early_is_no_error() {
        // `true` reads nothing and exits: the write fails with a broken pipe.
        let text = tall(200_000);
        let mut out = Vec::new();
        show_with(&text, true, &mut out, Some((80, 24)), Some("true")).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn the_pager_is_chosen_as_psql_chooses_it() {
        assert_eq!(pager_command(None, None).as_deref(), Some("less -S"));
        assert_eq!(pager_command(None, Some("more")).as_deref(), Some("more"));
        assert_eq!(
            pager_command(Some("less -R"), Some("more")).as_deref(),
            Some("less -R")
        );
        // An empty PSQL_PAGER turns the pager off, whatever PAGER says.
        assert_eq!(pager_command(Some(""), Some("more")), None);
        assert_eq!(pager_command(None, Some("  ")), None);
        assert_eq!(pager_command(None, Some("off")), None);
        // psql's rule: as many lines as rows (a line kept for the prompt).
        assert!(!needs_pager(&tall(23), 80, 24));
        assert!(needs_pager(&tall(24), 80, 24));
        assert!(!needs_pager(&"x".repeat(80), 80, 24));
        assert!(needs_pager(&"x".repeat(81), 80, 24));
    }

    #[test]
    fn no_terminal_width_when_not_a_terminal() {
        // Tests run with standard output captured or redirected, not a terminal.
        if !io::stdout().is_terminal() {
            assert_eq!(terminal_width(), None);
        }
    }
}

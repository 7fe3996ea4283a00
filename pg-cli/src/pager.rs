//! The pager: output taller than the terminal goes through `PAGER` (`less -S` by default).

/// Writes `text` to `out`, through the pager when `terminal` says `out` is a terminal,
/// `settings.pager` allows it and the text is taller than the screen.
pub fn show(
    text: &str,
    settings: &crate::print::Settings,
    out: &mut dyn std::io::Write,
    terminal: bool,
) -> std::io::Result<()> {
    // placeholder: replaced at merge
    let _ = (settings, terminal);
    out.write_all(text.as_bytes())
}

/// The terminal's width in columns, when standard output is a terminal.
pub fn terminal_width() -> Option<usize> {
    // placeholder: replaced at merge
    None
}

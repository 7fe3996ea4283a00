//! Printing tables the way psql does: the shared shapes of a result ([`Table`]) and of the
//! printing options ([`Settings`], psql's `\pset`), used by the shell, the catalog
//! listings of [`crate::describe`] and the one-shot runner.

/// How rows are laid out (psql's `\pset format`, `-A`, `--csv`; `--json` is pgapi's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// psql's aligned format: a header, a `---+---` rule, padded cells.
    #[default]
    Aligned,
    /// psql's unaligned format (`-A`): cells joined by the field separator.
    Unaligned,
    /// CSV with a header line (`--csv`), as `psql --csv` prints it.
    Csv,
    /// One JSON object per row and line (`--json`).
    Json,
    /// A table drawn with box characters (pgapi's earlier default, `\pset format box`).
    Box,
}

/// Expanded display (psql's `\x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expanded {
    /// One line per row.
    #[default]
    Off,
    /// One block per row, a line per column (`-[ RECORD 1 ]-…`).
    On,
    /// Expanded when the aligned table would be wider than the terminal.
    Auto,
}

/// The printing options: psql's `\pset` and the options that set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The layout.
    pub layout: Layout,
    /// Expanded display.
    pub expanded: Expanded,
    /// Rows only: no header, title or footer (`-t`, `\t`).
    pub tuples_only: bool,
    /// The unaligned format's field separator (`-F`, `\pset fieldsep`), `|` by default.
    pub field_separator: String,
    /// The unaligned format's record separator (`-R`, `\pset recordsep`), a line break by
    /// default.
    pub record_separator: String,
    /// How NULL is shown (`\pset null`), empty by default.
    pub null: String,
    /// Whether the footer (`(3 rows)`, a listing's footers) is printed (`\pset footer`).
    pub footer: bool,
    /// Whether output taller than the terminal goes through the pager (`\pset pager`).
    pub pager: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            layout: Layout::Aligned,
            expanded: Expanded::Off,
            tuples_only: false,
            field_separator: "|".to_owned(),
            record_separator: "\n".to_owned(),
            null: String::new(),
            footer: true,
            pager: true,
        }
    }
}

/// A result to print: a query's rows, or a catalog listing of [`crate::describe`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// The title printed above the table, centred (`List of relations`,
    /// `Table "public.t"`); none for a query's rows.
    pub title: Option<String>,
    /// The column names.
    pub headers: Vec<String>,
    /// For each column, whether its cells are aligned to the right (numbers).
    pub right_aligned: Vec<bool>,
    /// The cells, row by row; `None` is NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// The lines printed under the table in place of the row count (`Indexes:`,
    /// `    "t_pkey" PRIMARY KEY, btree (id)`); when `None`, the footer is the row count
    /// (`(1 row)`, `(3 rows)`).
    pub footers: Option<Vec<String>>,
}

use std::io::{self, Write};

use pg_exceptions::Error;
use pg_types::{Columns, Row};
use unicode_width::UnicodeWidthChar;

use crate::output::{cell_text, row_count};

/// The type OIDs psql aligns to the right (`column_type_alignment` in psql's print.c):
/// int2, int4, int8, float4, float8, numeric, oid, xid, xid8, cid and money.
const RIGHT_ALIGNED_TYPES: [u32; 11] = [21, 23, 20, 700, 701, 1700, 26, 28, 5069, 29, 790];

/// Whether psql aligns a column of the type with this OID to the right.
pub fn right_aligned_type(oid: u32) -> bool {
    RIGHT_ALIGNED_TYPES.contains(&oid)
}

/// A query's rows as a [`Table`]: the column names as headers, the values in the
/// server's text form (`None` for NULL), numbers aligned to the right as psql aligns
/// them; no title, and the row count as the footer.
pub fn from_rows(columns: &Columns, rows: &[Row]) -> Result<Table, Error> {
    let mut cells = Vec::with_capacity(rows.len());
    for row in rows {
        cells.push(row.values()?.iter().map(cell_text).collect());
    }
    Ok(Table {
        title: None,
        headers: columns.names().map(str::to_owned).collect(),
        right_aligned: columns
            .iter()
            .map(|c| right_aligned_type(c.type_.oid()))
            .collect(),
        rows: cells,
        footers: None,
    })
}

/// Renders a table as psql 15 prints it with the settings (its default `border 1` and
/// `linestyle ascii`): aligned, unaligned, CSV, expanded; or as pgapi's own box-drawn
/// table or JSON lines.
///
/// `width` is the terminal's width, which `\x auto` compares the aligned (or box) table
/// with (`None`: never expanded automatically; the unaligned and CSV formats never are, as
/// in psql). As in psql, `footer` off hides the row count only, never a listing's own
/// footers, and the expanded format has no row count. The box layout expanded is psql's
/// expanded format. JSON lines ignore the title, the footers, `tuples_only`, `expanded`
/// and `null` (NULL is `null`).
pub fn render(
    table: &Table,
    settings: &Settings,
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let view = View::new(table, settings);
    let vertical = match settings.expanded {
        Expanded::On => true,
        Expanded::Off => false,
        // psql's `\x auto` applies to the aligned formats only.
        Expanded::Auto => match settings.layout {
            Layout::Aligned => view.too_wide(width, 0),
            // The box's outer borders: two columns more.
            Layout::Box => view.too_wide(width, 2),
            Layout::Unaligned | Layout::Csv | Layout::Json => false,
        },
    };
    match (settings.layout, vertical) {
        (Layout::Aligned, false) => view.aligned(out),
        (Layout::Aligned | Layout::Box, true) => view.vertical(out),
        (Layout::Unaligned, false) => view.unaligned(out),
        (Layout::Unaligned, true) => view.unaligned_vertical(out),
        (Layout::Csv, false) => view.csv(out),
        (Layout::Csv, true) => view.csv_vertical(out),
        (Layout::Json, _) => view.json(out),
        (Layout::Box, false) => view.boxed(out),
    }
}

/// One line of a cell as psql shows it: control characters spelled out (`\r`, `\x01`,
/// `\u0085`), tabs expanded to the next multiple of eight, and its display width.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    text: String,
    width: usize,
}

/// A character's display width as psql reckons it (`ucs_wcwidth`): `None` for a control
/// character, 0 for combining marks, 2 for wide (CJK) characters.
fn char_width(c: char) -> Option<usize> {
    let code = u32::from(c);
    if code == 0 {
        return Some(0);
    }
    if code < 0x20 || (0x7f..0xa0).contains(&code) {
        return None;
    }
    Some(c.width().unwrap_or(0))
}

/// The display width of a string of one line, as psql counts it (control characters
/// count nothing here: they are spelled out by the formats first).
pub fn display_width(text: &str) -> usize {
    text.chars().map(|c| char_width(c).unwrap_or(0)).sum()
}

/// A cell's text split into its display lines, as psql formats it (`pg_wcsformat`).
fn format_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut line = Line {
        text: String::new(),
        width: 0,
    };
    for c in text.chars() {
        match c {
            '\n' => lines.push(std::mem::replace(
                &mut line,
                Line {
                    text: String::new(),
                    width: 0,
                },
            )),
            '\r' => {
                line.text.push_str("\\r");
                line.width += 2;
            }
            '\t' => loop {
                line.text.push(' ');
                line.width += 1;
                if line.width.is_multiple_of(8) {
                    break;
                }
            },
            c => match char_width(c) {
                Some(w) => {
                    line.text.push(c);
                    line.width += w;
                }
                None if c.is_ascii() => {
                    line.text.push_str(&format!("\\x{:02X}", u32::from(c)));
                    line.width += 4;
                }
                None => {
                    line.text.push_str(&format!("\\u{:04X}", u32::from(c)));
                    line.width += 6;
                }
            },
        }
    }
    lines.push(line);
    lines
}

/// The widest line of formatted lines.
fn max_width(lines: &[Line]) -> usize {
    lines.iter().map(|l| l.width).max().unwrap_or(0)
}

/// `n` spaces.
fn pad(out: &mut dyn Write, n: usize) -> io::Result<()> {
    write!(out, "{:n$}", "")
}

/// `n` copies of `s`.
fn repeat(out: &mut dyn Write, s: &str, n: usize) -> io::Result<()> {
    out.write_all(s.repeat(n).as_bytes())
}

/// A table with its NULLs replaced by the `null` setting: what psql's printer is given.
struct View<'a> {
    table: &'a Table,
    settings: &'a Settings,
    /// The cells, row by row, NULL shown as the setting says.
    rows: Vec<Vec<&'a str>>,
}

impl<'a> View<'a> {
    fn new(table: &'a Table, settings: &'a Settings) -> View<'a> {
        let columns = table.headers.len();
        let rows = table
            .rows
            .iter()
            .map(|row| {
                (0..columns)
                    .map(|i| match row.get(i) {
                        Some(Some(text)) => text.as_str(),
                        _ => settings.null.as_str(),
                    })
                    .collect()
            })
            .collect();
        View {
            table,
            settings,
            rows,
        }
    }

    fn columns(&self) -> usize {
        self.table.headers.len()
    }

    fn right(&self, column: usize) -> bool {
        self.table
            .right_aligned
            .get(column)
            .copied()
            .unwrap_or(false)
    }

    /// Whether there are no cells (no rows, or no columns).
    fn no_cells(&self) -> bool {
        self.rows.is_empty() || self.columns() == 0
    }

    /// The footer lines: the table's own, else the row count when `footer` is on
    /// (psql's `footers_with_default`); none when printing rows only.
    fn footers(&self) -> Vec<String> {
        if self.settings.tuples_only {
            return Vec::new();
        }
        match &self.table.footers {
            Some(footers) => footers.clone(),
            None if self.settings.footer => vec![row_count(self.rows.len())],
            None => Vec::new(),
        }
    }

    /// The widths of the aligned format: each column's (its widest header or cell line),
    /// the whole table's and the headers' alone, rules included.
    fn widths(&self) -> (Vec<usize>, usize, usize) {
        let columns = self.columns();
        let mut widths: Vec<usize> = self
            .table
            .headers
            .iter()
            .map(|h| max_width(&format_lines(h)))
            .collect();
        let border = if columns > 0 { columns * 3 - 1 } else { 0 };
        let headers = border + widths.iter().sum::<usize>();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(max_width(&format_lines(cell)));
            }
        }
        let total = border + widths.iter().sum::<usize>();
        (widths, total, headers)
    }

    /// psql's `\x auto` rule: expanded when the aligned table (or its headers alone) would
    /// be wider than the terminal, and there is more than one column.
    /// `extra`: the columns the layout adds to the aligned format's width.
    fn too_wide(&self, width: Option<usize>, extra: usize) -> bool {
        let Some(width) = width.filter(|w| *w > 0) else {
            return false;
        };
        if self.columns() <= 1 {
            return false;
        }
        let (_, total, headers) = self.widths();
        width < headers + extra || width < total + extra
    }

    /// psql's aligned format (`print_aligned_text`, border 1).
    fn aligned(&self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self.columns();
        let (widths, total, _) = self.widths();
        let tuples_only = self.settings.tuples_only;
        if let (Some(title), false) = (&self.table.title, tuples_only) {
            let width = max_width(&format_lines(title));
            if width < total {
                pad(out, (total - width) / 2)?;
            }
            writeln!(out, "{title}")?;
        }
        if !tuples_only {
            let headers: Vec<Vec<Line>> =
                self.table.headers.iter().map(|h| format_lines(h)).collect();
            let mut done = vec![false; columns];
            let mut left = columns;
            let mut line = 0;
            while left > 0 {
                for (i, lines) in headers.iter().enumerate() {
                    out.write_all(b" ")?;
                    if done[i] {
                        pad(out, widths[i])?;
                    } else {
                        let this = &lines[line];
                        let spaces = widths[i] - this.width;
                        pad(out, spaces / 2)?;
                        out.write_all(this.text.as_bytes())?;
                        pad(out, spaces.div_ceil(2))?;
                        if line + 1 == lines.len() {
                            done[i] = true;
                            left -= 1;
                        }
                    }
                    out.write_all(if done[i] { b" " } else { b"+" })?;
                    if i + 1 < columns {
                        out.write_all(b"|")?;
                    }
                }
                line += 1;
                out.write_all(b"\n")?;
            }
            out.write_all(b"-")?;
            for (i, width) in widths.iter().enumerate() {
                repeat(out, "-", *width)?;
                if i + 1 < columns {
                    out.write_all(b"-+-")?;
                }
            }
            out.write_all(b"-\n")?;
        }
        // No columns, no data lines (psql prints the rule and the count only).
        for row in self.rows.iter().filter(|_| columns > 0) {
            let cells: Vec<Vec<Line>> = row.iter().map(|c| format_lines(c)).collect();
            let mut current = vec![0; columns];
            loop {
                let mut more = false;
                for (j, lines) in cells.iter().enumerate() {
                    let last = j + 1 == columns;
                    out.write_all(b" ")?;
                    let mut used = widths[j];
                    match lines.get(current[j]) {
                        None => {
                            if !last {
                                pad(out, widths[j])?;
                            }
                        }
                        Some(this) => {
                            used = this.width;
                            if self.right(j) {
                                pad(out, widths[j] - this.width)?;
                            }
                            out.write_all(this.text.as_bytes())?;
                            current[j] += 1;
                            if current[j] < lines.len() {
                                more = true;
                            }
                        }
                    }
                    let continued = current[j] < lines.len();
                    if !self.right(j) && (!last || continued) {
                        pad(out, widths[j] - used)?;
                    }
                    if continued {
                        out.write_all(b"+")?;
                    } else if !last {
                        out.write_all(b" ")?;
                    }
                    if !last {
                        out.write_all(b"|")?;
                    }
                }
                out.write_all(b"\n")?;
                if !more {
                    break;
                }
            }
        }
        for footer in self.footers() {
            writeln!(out, "{footer}")?;
        }
        out.write_all(b"\n")
    }

    /// A record's rule in the expanded format (`-[ RECORD 3 ]-+------`), or a plain rule
    /// (record 0) between the records of a tuples-only output.
    fn record_line(
        out: &mut dyn Write,
        record: usize,
        header_width: usize,
        data_width: usize,
    ) -> io::Result<()> {
        out.write_all(b"-")?;
        let mut reclen: isize = 0;
        if record > 0 {
            let label = format!("[ RECORD {record} ]");
            out.write_all(label.as_bytes())?;
            reclen = label.len() as isize;
        }
        reclen += 1;
        let hw = header_width as isize;
        if reclen < hw {
            repeat(out, "-", (hw - reclen) as usize)?;
        }
        reclen -= hw;
        for piece in ["-", "+", "-"] {
            if reclen <= 0 {
                out.write_all(piece.as_bytes())?;
            }
            reclen -= 1;
        }
        let reclen = reclen.max(0) as usize;
        if reclen < data_width {
            repeat(out, "-", data_width - reclen)?;
        }
        out.write_all(b"\n")
    }

    /// psql's expanded format (`print_aligned_vertical`, border 1).
    fn vertical(&self, out: &mut dyn Write) -> io::Result<()> {
        let tuples_only = self.settings.tuples_only;
        if self.no_cells() {
            for footer in self.footers() {
                writeln!(out, "{footer}")?;
            }
            return out.write_all(b"\n");
        }
        let headers: Vec<Vec<Line>> = self.table.headers.iter().map(|h| format_lines(h)).collect();
        let header_width = headers.iter().map(|l| max_width(l)).max().unwrap_or(0);
        let cells: Vec<Vec<Vec<Line>>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(|c| format_lines(c)).collect())
            .collect();
        let mut data_width = 0;
        let mut multiline = false;
        for lines in cells.iter().flatten() {
            data_width = data_width.max(max_width(lines));
            multiline |= lines.len() > 1;
        }
        if let (Some(title), false) = (&self.table.title, tuples_only) {
            writeln!(out, "{title}")?;
        }
        let spacer = 3 + usize::from(multiline);
        let record_width = if tuples_only {
            0
        } else {
            self.rows.len().to_string().len() + 12
        };
        let width = (header_width + spacer + data_width).max(record_width);
        let data_width = width - header_width - spacer;
        for (r, row) in cells.iter().enumerate() {
            if !tuples_only {
                Self::record_line(out, r + 1, header_width, data_width)?;
            } else if r > 0 {
                Self::record_line(out, 0, header_width, data_width)?;
            }
            for (c, data) in row.iter().enumerate() {
                let header = &headers[c];
                let (mut h, mut d) = (0, 0);
                let (mut h_done, mut d_done) = (false, false);
                while !h_done || !d_done {
                    if h_done {
                        pad(out, header_width + 1)?;
                    } else {
                        let line = &header[h];
                        out.write_all(line.text.as_bytes())?;
                        pad(out, header_width - line.width)?;
                        if h + 1 < header.len() {
                            out.write_all(b"+")?;
                            h += 1;
                        } else {
                            out.write_all(b" ")?;
                            h_done = true;
                        }
                    }
                    out.write_all(b"|")?;
                    if d_done {
                        out.write_all(b"\n")?;
                        continue;
                    }
                    let line = &data[d];
                    out.write_all(b" ")?;
                    out.write_all(line.text.as_bytes())?;
                    if d + 1 < data.len() {
                        if multiline {
                            pad(out, data_width - line.width)?;
                            out.write_all(b"+")?;
                        }
                        d += 1;
                    } else {
                        d_done = true;
                    }
                    out.write_all(b"\n")?;
                }
            }
        }
        if let (Some(footers), false) = (&self.table.footers, tuples_only) {
            out.write_all(b"\n")?;
            for footer in footers {
                writeln!(out, "{footer}")?;
            }
        }
        out.write_all(b"\n")
    }

    /// Writes the record separator, or the line break that ends the output (a zero byte
    /// when that is the separator, as `-0` makes it in psql).
    fn end_record(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.settings.record_separator == "\0" {
            out.write_all(b"\0")
        } else {
            out.write_all(b"\n")
        }
    }

    /// psql's unaligned format (`print_unaligned_text`).
    fn unaligned(&self, out: &mut dyn Write) -> io::Result<()> {
        let fs = self.settings.field_separator.as_bytes();
        let rs = self.settings.record_separator.as_bytes();
        let tuples_only = self.settings.tuples_only;
        let mut need_rs = false;
        if !tuples_only {
            if let Some(title) = &self.table.title {
                out.write_all(title.as_bytes())?;
                out.write_all(rs)?;
            }
            out.write_all(
                self.table
                    .headers
                    .join(&self.settings.field_separator)
                    .as_bytes(),
            )?;
            need_rs = true;
        }
        if self.columns() > 0 {
            for row in &self.rows {
                if need_rs {
                    out.write_all(rs)?;
                }
                for (i, cell) in row.iter().enumerate() {
                    if i > 0 {
                        out.write_all(fs)?;
                    }
                    out.write_all(cell.as_bytes())?;
                }
                need_rs = true;
            }
        }
        for footer in self.footers() {
            if need_rs {
                out.write_all(rs)?;
            }
            out.write_all(footer.as_bytes())?;
            need_rs = true;
        }
        if need_rs {
            self.end_record(out)?;
        }
        Ok(())
    }

    /// psql's unaligned expanded format (`print_unaligned_vertical`): `column|value`
    /// lines, a blank line between records.
    fn unaligned_vertical(&self, out: &mut dyn Write) -> io::Result<()> {
        let fs = self.settings.field_separator.as_bytes();
        let rs = self.settings.record_separator.as_bytes();
        let tuples_only = self.settings.tuples_only;
        let mut need_rs = false;
        if let (Some(title), false) = (&self.table.title, tuples_only) {
            out.write_all(title.as_bytes())?;
            need_rs = true;
        }
        if self.columns() > 0 {
            for row in &self.rows {
                for (i, cell) in row.iter().enumerate() {
                    if need_rs {
                        out.write_all(rs)?;
                        out.write_all(rs)?;
                        need_rs = false;
                    }
                    out.write_all(self.table.headers[i].as_bytes())?;
                    out.write_all(fs)?;
                    out.write_all(cell.as_bytes())?;
                    if i + 1 < row.len() {
                        out.write_all(rs)?;
                    } else {
                        need_rs = true;
                    }
                }
            }
        }
        if let (Some(footers), false) = (&self.table.footers, tuples_only) {
            out.write_all(rs)?;
            for footer in footers {
                out.write_all(rs)?;
                out.write_all(footer.as_bytes())?;
            }
        }
        if need_rs {
            self.end_record(out)?;
        }
        Ok(())
    }

    /// psql's CSV format: a header line unless rows only, no title or footer.
    fn csv(&self, out: &mut dyn Write) -> io::Result<()> {
        if !self.settings.tuples_only {
            let header: Vec<_> = self.table.headers.iter().map(|h| csv_field(h)).collect();
            writeln!(out, "{}", header.join(","))?;
        }
        if self.columns() > 0 {
            for row in &self.rows {
                let line: Vec<_> = row.iter().map(|c| csv_field(c)).collect();
                writeln!(out, "{}", line.join(","))?;
            }
        }
        Ok(())
    }

    /// psql's expanded CSV: a `column,value` line per cell.
    fn csv_vertical(&self, out: &mut dyn Write) -> io::Result<()> {
        for row in &self.rows {
            for (header, cell) in self.table.headers.iter().zip(row) {
                writeln!(out, "{},{}", csv_field(header), csv_field(cell))?;
            }
        }
        Ok(())
    }

    /// One JSON object per row and line, of the headers to the cells' text (`null` for
    /// NULL, whatever the `null` setting).
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        for row in &self.table.rows {
            out.write_all(b"{")?;
            for (i, header) in self.table.headers.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                let value = row.get(i).cloned().flatten();
                write!(
                    out,
                    "{}:{}",
                    serde_json::Value::String(header.clone()),
                    value.map_or(serde_json::Value::Null, serde_json::Value::String)
                )?;
            }
            out.write_all(b"}\n")?;
        }
        Ok(())
    }

    /// A table drawn with box characters (comfy-table), numbers to the right; the title
    /// above and the footers under it.
    fn boxed(&self, out: &mut dyn Write) -> io::Result<()> {
        use comfy_table::{CellAlignment, ContentArrangement, presets};
        let tuples_only = self.settings.tuples_only;
        let mut table = comfy_table::Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        if !tuples_only {
            table.set_header(&self.table.headers);
        }
        for row in &self.rows {
            table.add_row(row.clone());
        }
        for index in 0..self.columns() {
            if let Some(column) = table.column_mut(index).filter(|_| self.right(index)) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        if let (Some(title), false) = (&self.table.title, tuples_only) {
            writeln!(out, "{title}")?;
        }
        if self.columns() > 0 {
            writeln!(out, "{table}")?;
        }
        for footer in self.footers() {
            writeln!(out, "{footer}")?;
        }
        out.write_all(b"\n")
    }
}

/// A CSV field as `psql --csv` writes it: quoted (quotes doubled) when it holds a comma,
/// a quote or a line break, or is exactly `\.`; as it is otherwise (an empty string and
/// NULL alike are empty).
pub fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) || text == "\\." {
        std::borrow::Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(headers: &[&str], right: &[bool], rows: &[&[Option<&str>]]) -> Table {
        Table {
            title: None,
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            right_aligned: right.to_vec(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.map(str::to_owned)).collect())
                .collect(),
            footers: None,
        }
    }

    fn show(table: &Table, settings: &Settings, width: Option<usize>) -> String {
        let mut out = Vec::new();
        render(table, settings, width, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn with(f: impl FnOnce(&mut Settings)) -> Settings {
        let mut settings = Settings::default();
        f(&mut settings);
        settings
    }

    #[test]
    fn cells_are_formatted_as_psql_formats_them() {
        let lines = format_lines("a\tb\r\u{1}\u{85}\n日本\u{301}");
        assert_eq!(
            lines,
            [
                Line {
                    text: "a       b\\r\\x01\\u0085".to_owned(),
                    width: 8 + 1 + 2 + 4 + 6,
                },
                Line {
                    text: "日本\u{301}".to_owned(),
                    width: 4,
                },
            ]
        );
        // Tab stops count from the start of each line.
        assert_eq!(format_lines("x\n1234567\t|")[1].width, 9);
        assert_eq!(display_width("naïve"), 5);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("한국어"), 6);
    }

    #[test]
    fn aligned_numbers_to_the_right_and_line_breaks_marked() {
        let t = table(
            &["n", "text"],
            &[true, false],
            &[&[Some("1"), Some("a\nbb")], &[Some("1\n22"), None]],
        );
        assert_eq!(
            show(&t, &Settings::default(), None),
            " n  | text \n\
             ----+------\n\
             \x20 1 | a   +\n\
             \x20   | bb\n\
             \x20 1+| \n\
             \x2022 | \n\
             (2 rows)\n\n"
        );
    }

    #[test]
    fn multi_line_headers_are_centred_line_by_line() {
        let t = table(
            &["a\nlonger", "b"],
            &[false, false],
            &[&[Some("x"), Some("y")]],
        );
        assert_eq!(
            show(&t, &Settings::default(), None),
            "   a   +| b \n longer |   \n--------+---\n x      | y\n(1 row)\n\n"
        );
    }

    #[test]
    fn titles_footers_and_rows_only() {
        let mut t = table(&["a", "b"], &[false, false], &[&[Some("1"), Some("2")]]);
        t.title = Some("Title".to_owned());
        t.footers = Some(vec!["Indexes:".to_owned(), "    \"t_pkey\"".to_owned()]);
        assert_eq!(
            show(&t, &Settings::default(), None),
            " Title\n a | b \n---+---\n 1 | 2\nIndexes:\n    \"t_pkey\"\n\n"
        );
        // `footer` off hides the row count only, as in psql; the listing's footers stay.
        assert_eq!(
            show(&t, &with(|s| s.footer = false), None),
            show(&t, &Settings::default(), None)
        );
        // Rows only: no title, header or footer; psql's blank line stays.
        assert_eq!(
            show(&t, &with(|s| s.tuples_only = true), None),
            " 1 | 2\n\n"
        );
        // Expanded: the title above, the footers after a blank line.
        assert_eq!(
            show(&t, &with(|s| s.expanded = Expanded::On), None),
            "Title\n-[ RECORD 1 ]\na | 1\nb | 2\n\nIndexes:\n    \"t_pkey\"\n\n"
        );
        t.footers = None;
        assert_eq!(
            show(&t, &with(|s| s.footer = false), None),
            " Title\n a | b \n---+---\n 1 | 2\n\n"
        );
    }

    #[test]
    fn no_columns_and_no_rows() {
        let none = table(&[], &[], &[&[], &[]]);
        assert_eq!(show(&none, &Settings::default(), None), "--\n(2 rows)\n\n");
        let empty = table(&["a"], &[false], &[]);
        assert_eq!(
            show(&empty, &Settings::default(), None),
            " a \n---\n(0 rows)\n\n"
        );
        let expanded = with(|s| s.expanded = Expanded::On);
        assert_eq!(show(&empty, &expanded, None), "(0 rows)\n\n");
        assert_eq!(show(&none, &expanded, None), "(2 rows)\n\n");
        let unaligned = with(|s| s.layout = Layout::Unaligned);
        assert_eq!(show(&none, &unaligned, None), "\n(2 rows)\n");
        assert_eq!(show(&empty, &unaligned, None), "a\n(0 rows)\n");
        let csv = with(|s| s.layout = Layout::Csv);
        assert_eq!(show(&none, &csv, None), "\n");
        assert_eq!(show(&empty, &csv, None), "a\n");
        let json = with(|s| s.layout = Layout::Json);
        assert_eq!(show(&empty, &json, None), "");
    }

    #[test]
    fn expanded_records_are_sized_as_psql_sizes_them() {
        let rows: Vec<Vec<Option<&str>>> = (0..10).map(|_| vec![Some("x"), None]).collect();
        let rows: Vec<&[Option<&str>]> = rows.iter().map(Vec::as_slice).collect();
        let t = table(&["a", "bcd"], &[false, false], &rows);
        let text = show(&t, &with(|s| s.expanded = Expanded::On), None);
        // Ten records: the record lines are as wide as the widest label, "-[ RECORD 10 ]".
        assert!(
            text.starts_with("-[ RECORD 1 ]-\na   | x\nbcd | \n"),
            "{text}"
        );
        assert!(
            text.ends_with("-[ RECORD 10 ]\na   | x\nbcd | \n\n"),
            "{text}"
        );
        // Rows only: a plain rule between the records.
        let t = table(
            &["a", "bcd"],
            &[false, false],
            &[&[Some("1"), Some("x\ny")], &[Some("2"), Some("z")]],
        );
        assert_eq!(
            show(
                &t,
                &with(|s| {
                    s.expanded = Expanded::On;
                    s.tuples_only = true;
                }),
                None
            ),
            "a   | 1\nbcd | x+\n    | y\n----+--\na   | 2\nbcd | z\n\n"
        );
    }

    #[test]
    fn expanded_auto_needs_a_width_and_two_columns() {
        let wide = table(
            &["a", "b"],
            &[false, false],
            &[&[Some("0123456789"), Some("x")]],
        );
        let auto = with(|s| s.expanded = Expanded::Auto);
        // 16 columns wide: " 0123456789 | x".
        assert!(show(&wide, &auto, Some(15)).starts_with("-[ RECORD 1 ]"));
        assert!(show(&wide, &auto, Some(16)).starts_with("     a      | b"));
        assert!(show(&wide, &auto, None).starts_with("     a      | b"));
        // The box is two columns wider: "│ 0123456789 ┆ x │".
        let boxed = with(|s| {
            s.expanded = Expanded::Auto;
            s.layout = Layout::Box;
        });
        assert!(show(&wide, &boxed, Some(17)).starts_with("-[ RECORD 1 ]"));
        assert!(show(&wide, &boxed, Some(18)).starts_with('┌'));
        let one = table(&["a"], &[false], &[&[Some("0123456789")]]);
        assert!(show(&one, &auto, Some(5)).starts_with("     a"));
        // Not in the unaligned format.
        let unaligned = with(|s| {
            s.expanded = Expanded::Auto;
            s.layout = Layout::Unaligned;
        });
        assert_eq!(
            show(&wide, &unaligned, Some(5)),
            "a|b\n0123456789|x\n(1 row)\n"
        );
    }

    #[test]
    fn unaligned_separators_and_csv_quoting() {
        let t = table(
            &["a", "b,c"],
            &[true, false],
            &[
                &[Some("1"), Some("x\"y")],
                &[None, Some("")],
                &[Some("\\."), Some(" s")],
            ],
        );
        let settings = with(|s| {
            s.layout = Layout::Unaligned;
            s.field_separator = "\t".to_owned();
            s.record_separator = "\0".to_owned();
            s.null = "NULL".to_owned();
        });
        assert_eq!(
            show(&t, &settings, None),
            "a\tb,c\x001\tx\"y\0NULL\t\0\\.\t s\0(3 rows)\0"
        );
        let csv = with(|s| s.layout = Layout::Csv);
        assert_eq!(
            show(&t, &csv, None),
            "a,\"b,c\"\n1,\"x\"\"y\"\n,\n\"\\.\", s\n"
        );
        let csv_x = with(|s| {
            s.layout = Layout::Csv;
            s.expanded = Expanded::On;
        });
        assert_eq!(
            show(&t, &csv_x, None),
            "a,1\n\"b,c\",\"x\"\"y\"\na,\n\"b,c\",\na,\"\\.\"\n\"b,c\", s\n"
        );
    }

    #[test]
    fn json_lines_and_boxes() {
        let t = table(
            &["name", "n"],
            &[false, true],
            &[&[Some("a \"q\""), Some("1")], &[None, Some("22")]],
        );
        let json = with(|s| {
            s.layout = Layout::Json;
            s.null = "(null)".to_owned();
        });
        assert_eq!(
            show(&t, &json, None),
            "{\"name\":\"a \\\"q\\\"\",\"n\":\"1\"}\n{\"name\":null,\"n\":\"22\"}\n"
        );
        let boxed = show(&t, &with(|s| s.layout = Layout::Box), None);
        let lines: Vec<&str> = boxed.lines().collect();
        assert!(lines[0].starts_with('┌'), "{boxed}");
        assert!(lines.contains(&"│ a \"q\" ┆  1 │"), "{boxed}");
        assert!(lines.contains(&"│       ┆ 22 │"), "{boxed}");
        assert!(boxed.ends_with("┘\n(2 rows)\n\n"), "{boxed}");
    }

    #[test]
    fn ragged_tables_do_not_panic() {
        // Fewer cells than headers (shown as NULL), more (ignored), fewer alignments.
        let t = table(
            &["a", "b"],
            &[true],
            &[&[Some("1")], &[Some("1"), Some("2"), Some("3")]],
        );
        for layout in [
            Layout::Aligned,
            Layout::Unaligned,
            Layout::Csv,
            Layout::Json,
            Layout::Box,
        ] {
            for expanded in [Expanded::Off, Expanded::On, Expanded::Auto] {
                let settings = with(|s| {
                    s.layout = layout;
                    s.expanded = expanded;
                    s.null = "N".to_owned();
                });
                assert!(!show(&t, &settings, Some(1)).is_empty());
            }
        }
        assert_eq!(
            show(&t, &Settings::default(), None),
            " a | b \n---+---\n 1 | \n 1 | 2\n(2 rows)\n\n"
        );
    }

    #[test]
    fn psql_right_aligns_numbers_and_transaction_ids() {
        for oid in [20, 21, 23, 26, 28, 29, 700, 701, 790, 1700, 5069] {
            assert!(right_aligned_type(oid), "{oid}");
        }
        // text, bool, int4[], date, jsonb, regclass: to the left.
        for oid in [25, 16, 1007, 1082, 3802, 2205] {
            assert!(!right_aligned_type(oid), "{oid}");
        }
    }
}

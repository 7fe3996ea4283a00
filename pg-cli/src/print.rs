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

/// Prints `table` as `settings` say, `width` being the terminal's width (for `\x auto`).
pub fn render(
    table: &Table,
    settings: &Settings,
    width: Option<usize>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    // placeholder: replaced at merge
    let _ = width;
    (!settings.tuples_only)
        .then(|| {
            table
                .headers
                .iter()
                .map(|h| Some(h.clone()))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .chain(table.rows.iter().cloned())
        .try_for_each(|row| {
            writeln!(
                out,
                "{}",
                row.iter()
                    .map(|c| c.clone().unwrap_or_else(|| settings.null.clone()))
                    .collect::<Vec<_>>()
                    .join(if settings.layout == Layout::Csv {
                        ","
                    } else {
                        &settings.field_separator
                    })
            )
        })
}

/// A query's rows as a [`Table`]: the columns' names, numbers aligned to the right, the
/// cells in the server's text form.
pub fn from_rows(
    columns: &pg_types::Columns,
    rows: &[pg_types::Row],
) -> Result<Table, pg_exceptions::Error> {
    // placeholder: replaced at merge
    Ok(Table {
        headers: columns.names().map(str::to_owned).collect(),
        right_aligned: columns.iter().map(|_| false).collect(),
        rows: rows
            .iter()
            .map(|r| {
                r.values()
                    .map(|v| v.iter().map(crate::output::cell_text).collect())
            })
            .collect::<Result<_, _>>()?,
        ..Table::default()
    })
}

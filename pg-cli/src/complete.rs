//! Tab completion: SQL keywords, names from the catalog, meta-commands.

/// The names completion offers, read from the server's catalog.
#[derive(Default, Clone)]
pub struct Catalog {}

/// Reads the catalog's names.
pub async fn load(db: &pg_driver::Connection) -> Result<Catalog, pg_exceptions::Error> {
    // placeholder: replaced at merge
    let _ = db;
    Ok(Catalog::default())
}

/// The completions of the word before `pos` in `line`: where the replaced word starts, and
/// the candidates.
pub fn complete(line: &str, pos: usize, catalog: &Catalog) -> (usize, Vec<String>) {
    // placeholder: replaced at merge
    let _ = (line, catalog);
    (pos, Vec::new())
}

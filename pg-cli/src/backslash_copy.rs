//! psql's `\copy`: COPY with the client's files.

/// Runs `\copy ARGS` (`args` is what follows `\copy `); returns the command tag
/// (`COPY 3`). `progress` shows progress on standard error.
pub async fn run(
    db: &pg_driver::Connection,
    args: &str,
    progress: bool,
) -> Result<String, crate::Failure> {
    // placeholder: replaced at merge
    let _ = (db, progress);
    Err(crate::Failure::message(format!(
        "\\copy {args}: not available yet"
    )))
}

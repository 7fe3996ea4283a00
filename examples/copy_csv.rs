//! A CSV file loaded with COPY: the file is streamed to `COPY … FROM STDIN (FORMAT csv)` in
//! pieces, never read whole, and the row count comes back.
//!
//! ```sh
//! DATABASE_URL=postgresql://user@host/db cargo run --example copy_csv
//! ```
//! Without `DATABASE_URL` it runs against a throwaway cluster.

use futures::StreamExt;
use postgresql::driver;
use postgresql::exceptions::Error;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let iri = server()?;
    let db = driver::open(&iri).await?;

    // A CSV file of 10,000 rows, with a header, quotes and commas in the values.
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("cities.csv");
    let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
    file.write_all(b"id,name,population\n").await.map_err(io)?;
    for id in 1..=10_000 {
        let line = format!("{id},\"City {id}, Province {}\",{}\n", id % 13, id * 37);
        file.write_all(line.as_bytes()).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    drop(file);

    db.execute("CREATE TEMP TABLE cities (id int PRIMARY KEY, name text, population int)")
        .await?;
    let copy = db
        .prepare("COPY cities FROM STDIN (FORMAT csv, HEADER true)")
        .await?;
    // The file as a stream of 64 KiB pieces; COPY takes any split of CSV.
    let file = tokio::fs::File::open(&path).await.map_err(io)?;
    let pieces = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024)
        .map(|piece| piece.map_err(|e| e.to_string()));
    let loaded = copy.copy_in((), pieces).await?;
    println!("loaded {loaded} rows from {}", path.display());

    assert_eq!(loaded, 10_000);
    let name: String = db
        .query_first("SELECT name FROM cities WHERE id = $1", (42,))
        .await?;
    assert_eq!(name, "City 42, Province 3");
    Ok(())
}

fn io(e: std::io::Error) -> Error {
    Error::client(&postgresql::exceptions::OperationError, "the CSV file").with_cause(e)
}

/// `DATABASE_URL`, or a throwaway cluster's IRI.
fn server() -> Result<String, Error> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Ok(url),
        Err(_) => Ok(pg_cluster::Temporal::get()?.iri().to_owned()),
    }
}

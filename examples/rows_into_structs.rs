//! Rows into structs: `#[derive(FromRow)]` reads each field from the column of its name; a
//! nested struct is flattened from the same row; a row that does not fit is an error that
//! names the field and the column.
//!
//! ```sh
//! DATABASE_URL=postgresql://user@host/db cargo run --example rows_into_structs
//! ```
//! Without `DATABASE_URL` it runs against a throwaway cluster.

use chrono::{DateTime, Utc};
use postgresql::FromRow;
use postgresql::driver;
use postgresql::exceptions::{ColumnError, Error};
use rust_decimal::Decimal;

#[derive(FromRow, Debug)]
struct Address {
    city: String,
    country: String,
}

#[derive(FromRow, Debug)]
#[pg(rename_all = "snake_case")]
struct Customer {
    id: i64,
    #[pg(rename = "full_name")]
    name: String,
    joined: DateTime<Utc>,
    credit: Decimal,
    note: Option<String>,
    #[pg(flatten)]
    address: Address,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let iri = server()?;
    let db = driver::open(&iri).await?;
    db.execute(
        "CREATE TEMP TABLE customers (id int8 PRIMARY KEY, full_name text, joined timestamptz,
                                      credit numeric(10, 2), note text, city text, country text);
         INSERT INTO customers VALUES
             (1, 'Ada Lovelace', '2024-01-02 03:04:05+00', 12.50, NULL, 'London', 'UK'),
             (2, 'Alan Turing', '2024-05-06 07:08:09+00', 0, 'vip', 'Wilmslow', 'UK')",
    )
    .await?;

    let customers: Vec<Customer> = db
        .query_as("SELECT * FROM customers ORDER BY id", ())
        .await?;
    for customer in &customers {
        println!("{customer:?}");
    }
    assert_eq!(customers[0].credit, Decimal::new(1250, 2));
    assert_eq!(customers[1].note.as_deref(), Some("vip"));
    assert_eq!(customers[1].address.city, "Wilmslow");
    assert_eq!(customers[0].address.country, "UK");
    assert_eq!(customers[1].id, 2);
    assert_eq!(
        customers[0].joined.to_rfc3339(),
        "2024-01-02T03:04:05+00:00"
    );

    // One row, by a prepared statement.
    let by_id = db.prepare("SELECT * FROM customers WHERE id = $1").await?;
    let ada: Option<Customer> = by_id.first_as((1i64,)).await?;
    assert_eq!(ada.map(|c| c.name).as_deref(), Some("Ada Lovelace"));

    // A column missing from the row: a typed error, never a panic.
    let error = db
        .query_as::<Customer, _>("SELECT id, full_name FROM customers", ())
        .await
        .unwrap_err();
    assert!(error.is_a(&ColumnError));
    println!("as expected: {error}");
    Ok(())
}

/// `DATABASE_URL`, or a throwaway cluster's IRI.
fn server() -> Result<String, Error> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Ok(url),
        Err(_) => Ok(pg_cluster::Temporal::get()?.iri().to_owned()),
    }
}

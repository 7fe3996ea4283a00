use pg_types::FromRow;

#[derive(FromRow)]
#[pg(rename_everything = "snake_case")]
struct Account {
    #[pg(column = "account_id")]
    id: i64,
    #[pg(rename = "name", skip)]
    name: String,
}

fn main() {}

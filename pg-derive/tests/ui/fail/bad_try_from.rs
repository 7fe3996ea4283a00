use pg_types::FromRow;

#[derive(FromRow)]
struct Counter {
    #[pg(try_from = "i64 or i32")]
    count: u32,
    #[pg(try_from = 64)]
    limit: u32,
}

fn main() {}

use pg_types::FromRow;

#[derive(FromRow)]
struct Borrowed<'a> {
    name: &'a str,
}

fn main() {}

use pg_types::FromRow;

struct NotAColumn;

#[derive(FromRow)]
struct Holder {
    id: i32,
    value: NotAColumn,
}

fn main() {}

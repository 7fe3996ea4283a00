use pg_types::FromRow;

#[derive(FromRow)]
struct Inner {
    a: i32,
}

#[derive(FromRow)]
#[pg(rename_all = "Title Case")]
struct Outer {
    #[pg(flatten, rename = "inner")]
    inner: Inner,
}

#[derive(FromRow)]
struct ByPosition(#[pg(rename = "first")] i32, #[pg(flatten)] Inner);

fn main() {}

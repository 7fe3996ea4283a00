//! Input the derive takes: generics, raw identifiers, tuple and unit structs, every
//! attribute, and the crate path given explicitly.
use pg_types::FromRow;

#[derive(FromRow)]
struct Page<T> {
    total: i64,
    #[pg(flatten)]
    first: T,
}

#[derive(FromRow)]
struct Item {
    r#type: String,
    #[pg(rename = "n", default, try_from = "i64")]
    count: u32,
}

#[derive(FromRow)]
#[pg(rename_all = "SCREAMING_SNAKE_CASE", crate = "pg_types")]
struct Shouting {
    loud_name: Option<String>,
}

#[derive(FromRow)]
struct Pair(i32, #[pg(try_from = "i32")] u8);

#[derive(FromRow)]
struct Nothing;

fn takes<T: FromRow>() {}

fn main() {
    takes::<Page<Item>>();
    takes::<Shouting>();
    takes::<Pair>();
    takes::<Nothing>();
}

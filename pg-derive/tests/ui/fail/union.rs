use pg_types::FromRow;

#[derive(FromRow)]
union Number {
    int: i32,
    float: f32,
}

fn main() {}

use pg_types::FromRow;

#[derive(FromRow)]
enum Shape {
    Circle { radius: f64 },
    Square { side: f64 },
}

fn main() {}

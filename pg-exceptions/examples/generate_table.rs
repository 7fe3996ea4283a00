//! Writes `src/table.rs`, the SQLSTATE class table, from PostgreSQL's `errcodes.txt`.
//!
//! ```text
//! cargo run -p pg-exceptions --example generate_table -- \
//!     "$(pg_config --sharedir)/errcodes.txt" > pg-exceptions/src/table.rs
//! ```

#[path = "../src/codegen.rs"]
mod codegen;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        eprintln!("usage: generate_table PATH/TO/errcodes.txt > src/table.rs");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!(
                "generate_table: cannot read {}: {err}",
                path.to_string_lossy()
            );
            return ExitCode::FAILURE;
        }
    };
    match codegen::generate(&text) {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("generate_table: {}: {err}", path.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}

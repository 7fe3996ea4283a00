//! `pgapi`: see the `pg_cli` crate.

use std::process::ExitCode;

fn main() -> ExitCode {
    pg_cli::install_panic_hook();
    ExitCode::from(pg_cli::main(pg_cli::Cli::parse_ordered()))
}

//! `pg-exceptions CODE…`: prints the class each SQLSTATE resolves to and its ancestry.

use std::io::Write as _;
use std::process::ExitCode;

const USAGE: &str = "usage: pg-exceptions CODE...
Prints the class each SQLSTATE resolves to, with its ancestry, one line per code:
    UniqueError [23505] < ICVError < Error";

fn main() -> ExitCode {
    let mut codes: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    if codes.first().is_some_and(|first| first == "--") {
        codes.remove(0);
    }
    if codes.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    if codes.len() == 1 && (codes[0] == "-h" || codes[0] == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let mut stdout = std::io::stdout().lock();
    let mut status = ExitCode::SUCCESS;
    for code in &codes {
        match pg_exceptions::describe(code) {
            Ok(line) => {
                if writeln!(stdout, "{line}").is_err() {
                    // The reader went away (a closed pipe); nothing more can be shown.
                    return ExitCode::FAILURE;
                }
            }
            Err(err) => {
                eprintln!("pg-exceptions: {}", err.message());
                status = ExitCode::FAILURE;
            }
        }
    }
    if stdout.flush().is_err() {
        return ExitCode::FAILURE;
    }
    status
}

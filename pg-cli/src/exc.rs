//! `pgapi exc CODE…`: the SQLSTATE lookup, as the `pg-exceptions` program prints it.

use std::io::Write;

use crate::Failure;

/// Prints one line per code, `UniqueError [23505] < ICVError < Error`; a malformed code is
/// reported on standard error and makes the exit status 1, the other codes still printed.
pub fn run(codes: &[String], out: &mut impl Write) -> Result<u8, Failure> {
    let mut status = 0;
    for code in codes {
        match pg_exceptions::describe(code) {
            Ok(line) => writeln!(out, "{line}")?,
            Err(error) => {
                out.flush()?;
                eprintln!("pgapi: {}", error.message());
                status = 1;
            }
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_codes() {
        let mut out = Vec::new();
        let codes = ["23505".to_owned(), "bad".to_owned(), "42P01".to_owned()];
        assert_eq!(run(&codes, &mut out).unwrap(), 1);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "UniqueError [23505] < ICVError < Error\n\
             UndefinedTableError [42P01] < UndefinedError < SEARVError < Error\n"
        );
    }
}

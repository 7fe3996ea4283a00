//! One-line descriptions of codes: the class a code resolves to and its ancestry.

use crate::class::{ErrorClass, is_valid_code, lookup_any};
use crate::error::Error;
use crate::table::OperationError;

/// Describes the class `code` resolves to, as `NAME [CODE] < PARENT < … < ROOT`.
///
/// Warning codes (classes 00, 01, 02) resolve through the warning family, every other code
/// through the errors; a code the table lacks resolves to its class code, then to the root.
///
/// # Errors
///
/// A malformed code (not five characters of `0-9`, `A-Z` or `-`, and not one of the
/// driver's pseudo-codes) is an [`OperationError`](crate::OperationError).
///
/// ```
/// use pg_exceptions::describe;
///
/// assert_eq!(describe("23505").unwrap(), "UniqueError [23505] < ICVError < Error");
/// assert_eq!(describe("XX444").unwrap(), "InternalError [XX000] < Error");
/// assert_eq!(describe("01P01").unwrap(), "DeprecationWarning [01P01] < Warning");
/// assert!(describe("2350").is_err());
/// ```
pub fn describe(code: &str) -> Result<String, Error> {
    if !is_valid_code(code) {
        return Err(Error::client(
            &OperationError,
            format!("malformed SQLSTATE {code:?}: expected five characters of 0-9, A-Z or '-'"),
        ));
    }
    Ok(describe_class(lookup_any(code)))
}

/// Describes a class as `NAME [CODE] < PARENT < … < ROOT` (just `NAME` for a code-less root).
pub fn describe_class(class: &ErrorClass) -> String {
    let mut line = class.name().to_string();
    if !class.code().is_empty() {
        line.push_str(" [");
        line.push_str(class.code());
        line.push(']');
    }
    for ancestor in class.ancestors() {
        line.push_str(" < ");
        line.push_str(ancestor.name());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error as ErrorClassRoot, TypeError, lookup_name};

    #[test]
    fn describes_every_family() {
        let cases = [
            ("23505", "UniqueError [23505] < ICVError < Error"),
            (
                "25P02",
                "InFailedTransactionError [25P02] < ITSError < TransactionError < Error",
            ),
            ("XX444", "InternalError [XX000] < Error"),
            ("22P99", "DataError [22000] < Error"),
            ("ZZ999", "Error"),
            (
                "42804",
                "TypeMismatchError [42804] < TypeError < SEARVError < Error",
            ),
            ("01888", "Warning [01000]"),
            (
                "02001",
                "NoMoreSetsReturned [02001] < NoDataWarning < Warning",
            ),
            ("00000", "Notice [00000]"),
            (
                "01-TP",
                "TypeConversionWarning [01-TP] < DriverWarning < Warning",
            ),
            (
                "--cIO",
                "CompositeError [--cIO] < TypeIOError < DriverError < Error",
            ),
            ("--TOE", "ConnectTimeoutError [--TOE] < DriverError < Error"),
            (
                "57-TO",
                "QueryTimeoutError [57-TO] < QueryCanceledError < OIError < Error",
            ),
            ("--XYZ", "DriverError [--000] < Error"),
        ];
        for (code, expected) in cases {
            assert_eq!(describe(code).unwrap(), expected, "{code}");
        }
        assert_eq!(describe_class(&ErrorClassRoot), "Error");
        assert_eq!(
            describe_class(&TypeError),
            "TypeError [42000] < SEARVError < Error"
        );
        assert_eq!(lookup_name("TypeError"), Some(&TypeError));
    }

    #[test]
    fn rejects_malformed_codes() {
        for code in [
            "", "2350", "235050", "xx000", "--cio", "23 05", "2350é", "é2350",
        ] {
            let err = describe(code).unwrap_err();
            assert!(err.is_a(&OperationError), "{code}");
            assert!(err.message().contains("malformed SQLSTATE"), "{err}");
        }
    }
}

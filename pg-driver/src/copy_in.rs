//! COPY FROM STDIN run by something that has no data to give it (`call`, `first`, `rows`, the
//! query interface, `execute`): such a request is marked for the connection task, which
//! refuses the server's request for the data (see the task's `Responder::copy_in`).

use bytes::{Bytes, BytesMut};
use postgres_protocol::message::frontend;

/// Whether `sql` (one statement or several) may run COPY FROM STDIN: a statement whose first
/// word is COPY with `FROM STDIN` in it and no `TO STDOUT`. Quoted text and identifiers are
/// skipped (comments are not, so one that hides a COPY only costs pipelining). Statements
/// that may are run refusing the copy-in (see [`copy_in_refusal`]), since an execution
/// method with no data to give would leave the server waiting for it.
pub(crate) fn may_copy_in(sql: &str) -> bool {
    let mentions = |word: &[u8]| {
        sql.as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    // Most SQL never names stdin: one pass over the bytes, no allocation.
    if !mentions(b"stdin") || !mentions(b"copy") {
        return false;
    }
    pg_string::split_sql(sql).iter().any(|statement| {
        let mut words = Vec::new();
        for part in statement {
            if let pg_string::Part::Unquoted(text) = part {
                words.extend(
                    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                        .filter(|w| !w.is_empty())
                        .map(str::to_ascii_uppercase),
                );
            } else {
                words.push(String::new());
            }
        }
        let pair = |a: &str, b: &str| words.windows(2).any(|w| w[0] == a && w[1] == b);
        words.first().is_some_and(|w| w == "COPY") && pair("FROM", "STDIN") && !pair("TO", "STDOUT")
    })
}

/// What refuses a COPY FROM STDIN run with no data to feed it: CopyFail, and Sync after an
/// extended-protocol request (whose own Sync the server ignored in copy-in mode).
pub(crate) fn copy_in_refusal(extended: bool) -> Bytes {
    let mut buf = BytesMut::new();
    // The message has no NUL byte: encoding cannot fail.
    let _ = frontend::copy_fail(
        "COPY FROM STDIN needs its data: feed it with the statement's copy_in, copy_in_rows \
         or copy_in_chunks",
        &mut buf,
    );
    if extended {
        frontend::sync(&mut buf);
    }
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::may_copy_in;

    #[test]
    fn which_sql_may_run_copy_from_stdin() {
        for sql in [
            "COPY t FROM STDIN",
            "  copy \"T\" (a, b) from stdin with (format csv)",
            "SELECT 1; COPY t FROM STDIN; SELECT 2",
            "COPY t FROM\nSTDIN",
        ] {
            assert!(may_copy_in(sql), "{sql}");
        }
        for sql in [
            "SELECT 'COPY t FROM STDIN'",
            "COPY t TO STDOUT",
            "COPY (SELECT 1 FROM stdin) TO STDOUT",
            "COPY t FROM '/tmp/stdin'",
            "SELECT \"copy\", stdin FROM t",
            "INSERT INTO t SELECT * FROM stdin",
            "COPY \"from\" FROM \"stdin\"",
        ] {
            assert!(!may_copy_in(sql), "{sql}");
        }
    }
}

//! Turning the server's ErrorResponse into the project's Error.

use fallible_iterator::FallibleIterator;
use pg_exceptions::Error;
use postgres_protocol::message::backend::ErrorResponseBody;

/// The Error an ErrorResponse describes, with the class of its SQLSTATE and every field.
pub(crate) fn from_error_body(body: &ErrorResponseBody) -> Result<Error, Error> {
    let mut fields = body.fields();
    let mut collected = Vec::new();
    while let Some(field) = fields.next().map_err(protocol)? {
        collected.push((
            field.type_(),
            String::from_utf8_lossy(field.value_bytes()).into_owned(),
        ));
    }
    Ok(Error::from_fields(collected))
}

/// A malformed message from the server.
pub(crate) fn protocol(e: std::io::Error) -> Error {
    Error::client(
        &pg_exceptions::ProtocolError,
        "malformed message from the server",
    )
    .with_cause(e)
}

/// A statement given up by the client after `timeout` (see [`pg_exceptions::QueryTimeoutError`]).
pub(crate) fn timed_out(timeout: std::time::Duration) -> Error {
    Error::client(
        &pg_exceptions::QueryTimeoutError,
        format!(
            "the statement did not finish within its timeout ({timeout:?}); it was given up, \
             and cancelled on the server unless other requests were sent after it"
        ),
    )
}

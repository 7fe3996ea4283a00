//! The Error type: fields, builders, accessors and the layered report.

use std::error::Error as _;
use std::io;

use pg_exceptions::{
    AdminShutdownError, Context, DriverError, Error, ICVError, InternalError, ParameterError,
    QueryCanceledError, Source, SyntaxError, UniqueError, field,
};

fn server(fields: &[(u8, &str)]) -> Error {
    Error::from_fields(fields.iter().map(|(ty, value)| (*ty, value.to_string())))
}

const UNIQUE: &[(u8, &str)] = &[
    (b'S', "ERROR"),
    (b'V', "ERROR"),
    (b'C', "23505"),
    (
        b'M',
        "duplicate key value violates unique constraint \"t_pkey\"",
    ),
    (b'D', "Key (id)=(1) already exists."),
    (b'H', "Pick another id."),
    (b'P', "33"),
    (
        b'W',
        "SQL function \"f\" statement 1\nPL/pgSQL function g() line 3",
    ),
    (b's', "public"),
    (b't', "t"),
    (b'c', "id"),
    (b'd', "int4"),
    (b'n', "t_pkey"),
    (b'Y', "a field from the future"),
    (b'F', "nbtinsert.c"),
    (b'L', "664"),
    (b'R', "_bt_check_unique"),
];

#[test]
fn from_fields_keeps_every_field() {
    let err = server(UNIQUE);
    assert_eq!(err.class(), &UniqueError);
    assert!(err.is_a(&UniqueError) && err.is_a(&ICVError) && err.is_a(&pg_exceptions::Error));
    assert!(!err.is_a(&SyntaxError));
    assert_eq!(err.code(), "23505");
    assert_eq!(
        err.message(),
        "duplicate key value violates unique constraint \"t_pkey\""
    );
    assert_eq!(err.severity(), Some("ERROR"));
    assert_eq!(err.severity_nonlocalized(), Some("ERROR"));
    assert_eq!(err.detail(), Some("Key (id)=(1) already exists."));
    assert_eq!(err.hint(), Some("Pick another id."));
    assert_eq!(err.position(), Some(33));
    assert_eq!(err.internal_position(), None);
    assert_eq!(err.internal_query(), None);
    assert!(err.context().unwrap().starts_with("SQL function"));
    assert_eq!(err.schema(), Some("public"));
    assert_eq!(err.table(), Some("t"));
    assert_eq!(err.column(), Some("id"));
    assert_eq!(err.datatype(), Some("int4"));
    assert_eq!(err.constraint(), Some("t_pkey"));
    assert_eq!(err.file(), Some("nbtinsert.c"));
    assert_eq!(err.line(), Some(664));
    assert_eq!(err.routine(), Some("_bt_check_unique"));
    assert_eq!(err.field(b'Y'), Some("a field from the future"));
    assert_eq!(err.fields().len(), UNIQUE.len());
    assert_eq!(err.source_kind(), Source::Server);
    assert!(!err.is_fatal() && !err.is_disconnection());
    assert!(err.contexts().is_empty() && err.statement().is_none() && err.cause().is_none());
}

#[test]
fn the_report_is_layered_with_a_caret() {
    let err = server(UNIQUE)
        .with_statement("INSERT INTO t (id)\n\tVALUES (1), (1)\nRETURNING id")
        .with_connection("[idle] pid 4242")
        .with_connector("pq://alice:s3cret@db.example:5432/app");
    assert_eq!(
        format!("{err:#}"),
        r#"UniqueError: duplicate key value violates unique constraint "t_pkey"
  CODE: 23505
  SEVERITY: ERROR
  DETAIL: Key (id)=(1) already exists.
  HINT: Pick another id.
  CONTEXT: SQL function "f" statement 1
    PL/pgSQL function g() line 3
  SCHEMA: public
  TABLE: t
  COLUMN: id
  DATA TYPE: int4
  CONSTRAINT: t_pkey
  FIELD 'Y': a field from the future
  LOCATION: File "nbtinsert.c", line 664, in _bt_check_unique from SERVER
STATEMENT:
  INSERT INTO t (id)
  	VALUES (1), (1)
  	            ^
  RETURNING id
CONNECTION: [idle] pid 4242
CONNECTOR: pq://alice:***@db.example:5432/app"#
    );
    assert!(!format!("{err:?}").contains("s3cret"));
}

#[test]
fn caret_counts_characters_and_survives_bad_positions() {
    let statement = "SELECT 'ünïcödé', nope";
    let err = server(&[
        (b'C', "42703"),
        (b'M', "column \"nope\" does not exist"),
        (b'P', "19"),
    ])
    .with_statement(statement);
    assert!(
        format!("{err:#}").ends_with("STATEMENT:\n  SELECT 'ünïcödé', nope\n                    ^"),
        "{err:#}"
    );
    // End of input: one past the last character.
    let err = server(&[
        (b'C', "42601"),
        (b'M', "syntax error at end of input"),
        (b'P', "11"),
    ])
    .with_statement("SELECT 1 +");
    assert!(
        format!("{err:#}").ends_with("\n  SELECT 1 +\n            ^"),
        "{err:#}"
    );
    for position in ["0", "999", "-3", "x", "18446744073709551616"] {
        let err =
            server(&[(b'C', "42601"), (b'M', "bad"), (b'P', position)]).with_statement("SELECT\n1");
        let report = format!("{err:#}");
        assert!(!report.contains('^'), "{report}");
        assert!(report.contains("\n  SELECT\n  1"), "{report}");
    }
    let err = server(&[(b'C', "42601"), (b'M', "bad"), (b'P', "999")]).with_statement("SELECT");
    assert!(
        format!("{err:#}").ends_with("(position 999 is outside the text)"),
        "{err:#}"
    );
    // No statement: the position is reported as a field.
    let err = server(&[(b'C', "42601"), (b'M', "bad"), (b'P', "5")]);
    assert!(format!("{err:#}").contains("\n  POSITION: 5\n"), "{err:#}");
    // An internal query gets its own caret.
    let err = server(&[
        (b'C', "42P01"),
        (b'M', "relation \"nope\" does not exist"),
        (b'q', "SELECT * FROM nope"),
        (b'p', "15"),
    ]);
    assert!(
        format!("{err:#}")
            .contains("\n  INTERNAL QUERY:\n    SELECT * FROM nope\n                  ^"),
        "{err:#}"
    );
    assert_eq!(err.internal_position(), Some(15));
    assert_eq!(err.internal_query(), Some("SELECT * FROM nope"));
}

#[test]
fn secret_layers_and_passwords_never_print() {
    let err = Error::client(&DriverError, "could not connect")
        .with_secret_context("PASSWORD", "hunter2")
        .with_connector("host=db user=u password='hunter2'")
        .with_context("NOTE", "multi\nline");
    let report = format!("{err:#}");
    let debug = format!("{err:?}");
    for shown in [&report, &debug] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    assert!(
        report.contains("\nCONNECTOR: host=db user=u password=***"),
        "{report}"
    );
    assert!(report.ends_with("\nNOTE:\n  multi\n  line"), "{report}");
    assert_eq!(err.contexts().len(), 3);
    assert!(err.contexts()[0].is_secret());
    assert_eq!(err.contexts()[0].text(), "hunter2");
    // A secret statement is not drawn either, and the position falls back to a field.
    let err = server(&[(b'C', "42601"), (b'M', "bad"), (b'P', "3")])
        .with_layer(Context::secret(Context::STATEMENT, "SELECT 'hunter2'"));
    assert!(!format!("{err:#}").contains("hunter2"));
    assert!(format!("{err:#}").contains("POSITION: 3"));
    assert_eq!(err.statement(), Some("SELECT 'hunter2'"));
}

#[test]
fn client_errors_and_builders() {
    let err = Error::client(&ParameterError, "cannot encode parameter $1")
        .with_detail("value out of range for int2")
        .with_hint("use a bigger type")
        .with_field(field::SCHEMA, "public");
    assert_eq!(err.source_kind(), Source::Client);
    assert_eq!(err.code(), "--PIO");
    assert_eq!(err.severity(), None);
    assert_eq!(
        format!("{err:#}"),
        "ParameterError: cannot encode parameter $1\n  CODE: --PIO\n  \
         DETAIL: value out of range for int2\n  HINT: use a bigger type\n  SCHEMA: public\n  \
         LOCATION: CLIENT"
    );
    // `new` takes the class's own source.
    assert_eq!(
        Error::new(&QueryCanceledError, "x").source_kind(),
        Source::Server
    );
    assert_eq!(Error::new(&DriverError, "x").source_kind(), Source::Client);
    // The root class has no code line.
    let err = Error::new(&pg_exceptions::Error, "something");
    assert_eq!(err.code(), "");
    assert_eq!(format!("{err:#}"), "Error: something\n  LOCATION: SERVER");
    let mut err = Error::new(&UniqueError, "dup");
    err.push_context(Context::new("CONNECTION", "c1"));
    assert_eq!(err.contexts()[0].label(), "CONNECTION");
}

#[test]
fn code_can_be_more_specific_than_the_class() {
    let err = server(&[(b'S', "ERROR"), (b'C', "XX444"), (b'M', "odd")]);
    assert_eq!(err.class(), &InternalError);
    assert_eq!(err.code(), "XX444");
    assert!(format!("{err:#}").contains("CODE: XX444"));
    let err = server(&[(b'M', "no code at all")]);
    assert_eq!(err.class(), &pg_exceptions::Error);
    assert_eq!(err.code(), "");
    assert_eq!(server(&[]).message(), "");
}

#[derive(Debug)]
struct Wrapper(io::Error);

impl std::fmt::Display for Wrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("wrapper")
    }
}

impl std::error::Error for Wrapper {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn causes_chain_through_source() {
    let io = io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer");
    let inner = Error::client(&DriverError, "read failed").with_cause(io);
    let outer = Error::new(&AdminShutdownError, "terminating connection").with_cause(inner.clone());
    let source = outer.source().expect("a cause");
    assert!(source.to_string().starts_with("DriverError: read failed"));
    let root = source.source().expect("the io error");
    assert_eq!(root.to_string(), "connection reset by peer");
    assert!(root.downcast_ref::<io::Error>().is_some());
    assert!(outer.cause().is_some());
    let report = format!("{outer:#}");
    // A cause that is itself an Error brings its own causes, nested one level deeper.
    assert_eq!(
        report,
        "AdminShutdownError: terminating connection\n  CODE: 57P01\n  LOCATION: SERVER\n\
         CAUSE: DriverError: read failed\n    CODE: --000\n    LOCATION: CLIENT\n  \
         CAUSE: connection reset by peer"
    );
    // Plain causes are listed one after the other.
    let chained = Error::new(&UniqueError, "x").with_cause(Wrapper(io::Error::other("deep")));
    assert!(
        format!("{chained:#}").ends_with("\nCAUSE: wrapper\nCAUSE: deep"),
        "{chained:#}"
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = "plain text cause".into();
    let err = Error::new(&UniqueError, "x").with_boxed_cause(boxed);
    assert_eq!(err.source().unwrap().to_string(), "plain text cause");
    let debug = format!("{err:?}");
    assert!(
        debug.starts_with("Error { class: \"UniqueError\", code: \"23505\""),
        "{debug}"
    );
    assert!(debug.contains("plain text cause"), "{debug}");
}

#[test]
fn disconnection_and_fatality() {
    assert!(server(&[(b'C', "57P01"), (b'S', "FATAL")]).is_disconnection());
    assert!(server(&[(b'C', "08006")]).is_disconnection());
    assert!(Error::client(&pg_exceptions::ConnectTimeoutError, "slow").is_disconnection());
    // A FATAL error ends the session whatever its class.
    let fatal = server(&[(b'S', "FATAL"), (b'C', "3D000"), (b'M', "no such database")]);
    assert!(fatal.is_fatal() && fatal.is_disconnection());
    // The non-localized severity wins over a localized one.
    let panic = server(&[(b'S', "PANIK"), (b'V', "PANIC"), (b'C', "XX000")]);
    assert!(panic.is_fatal());
    assert!(!server(&[(b'S', "ERROR"), (b'C', "57014")]).is_disconnection());
}

#[test]
fn error_is_a_well_behaved_error_type() {
    fn assert_traits<T: std::error::Error + Send + Sync + Clone + 'static>() {}
    assert_traits::<Error>();
    assert_eq!(
        std::mem::size_of::<Result<(), Error>>(),
        std::mem::size_of::<usize>()
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(server(UNIQUE));
    assert!(
        boxed
            .downcast_ref::<Error>()
            .is_some_and(|err| err.is_a(&UniqueError))
    );
}

#[test]
fn display_is_one_line_and_the_report_is_the_alternate_form() {
    let err = server(&[
        (b'S', "ERROR"),
        (b'C', "23505"),
        (
            b'M',
            "duplicate key value violates unique constraint \"t_pkey\"",
        ),
        (b'D', "Key (id)=(1) already exists."),
        (b'P', "8"),
    ])
    .with_statement("INSERT INTO t VALUES (1)");
    assert_eq!(
        err.to_string(),
        "UniqueError: duplicate key value violates unique constraint \"t_pkey\" (SQLSTATE 23505)"
    );
    let report = format!("{err:#}");
    assert!(
        report.contains("\n  DETAIL: Key (id)=(1) already exists."),
        "{report}"
    );
    assert!(
        report.contains("\n  INSERT INTO t VALUES (1)\n         ^"),
        "{report}"
    );
    // A message of several lines still prints on one.
    let multi = Error::client(&DriverError, "first\nsecond");
    assert_eq!(
        multi.to_string(),
        "DriverError: first second (SQLSTATE --000)"
    );
    // The root class has no code to show.
    assert_eq!(Error::new(&Error, "bare").to_string(), "Error: bare");
    // Causes are reached through source(), each printing its own line.
    let io = io::Error::other("socket gone");
    let chained = Error::client(&DriverError, "outer")
        .with_cause(Error::client(&DriverError, "inner").with_cause(io));
    let mut lines = vec![chained.to_string()];
    let mut cause = chained.source();
    while let Some(current) = cause {
        lines.push(current.to_string());
        cause = current.source();
    }
    assert_eq!(
        lines,
        [
            "DriverError: outer (SQLSTATE --000)",
            "DriverError: inner (SQLSTATE --000)",
            "socket gone"
        ]
    );
}

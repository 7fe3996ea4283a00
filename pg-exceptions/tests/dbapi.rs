//! DB-API categories: every SQLSTATE of the table against psycopg2's class rule, written out
//! here class by class, and the client's own errors.

use pg_exceptions::{
    AuthenticationMethodError, ClientCannotConnectError, ClusterError, ColumnError, CompositeError,
    ConnectTimeoutError, ConnectionDoesNotExistError, ConnectionFailureError, CursorNameError,
    DbApiCategory, DriverError, Error, InFailedTransactionError, InsecurityError, OperationError,
    ParameterError, ProtocolError, QueryCanceledError, StatementNameError, TypeIOError, classes,
    dbapi_category,
};

use DbApiCategory::*;

/// Every class of PostgreSQL's SQLSTATEs (the appendix "PostgreSQL Error Codes") with the
/// category psycopg2 raises its errors as (psycopg/error_type.c); `None` for the classes of
/// warnings and notices, which raise nothing.
const CLASSES: &[(&str, Option<DbApiCategory>)] = &[
    ("00", None),                    // successful completion
    ("01", None),                    // warning
    ("02", None),                    // no data
    ("03", Some(DatabaseError)),     // SQL statement not yet complete
    ("08", Some(OperationalError)),  // connection exception
    ("09", Some(DatabaseError)),     // triggered action exception
    ("0A", Some(NotSupportedError)), // feature not supported
    ("0B", Some(DatabaseError)),     // invalid transaction initiation
    ("0F", Some(DatabaseError)),     // locator exception
    ("0L", Some(DatabaseError)),     // invalid grantor
    ("0P", Some(DatabaseError)),     // invalid role specification
    ("0Z", Some(DatabaseError)),     // diagnostics exception
    ("10", Some(DatabaseError)),     // XQuery error
    ("20", Some(ProgrammingError)),  // case not found
    ("21", Some(ProgrammingError)),  // cardinality violation
    ("22", Some(DataError)),         // data exception
    ("23", Some(IntegrityError)),    // integrity constraint violation
    ("24", Some(InternalError)),     // invalid cursor state
    ("25", Some(InternalError)),     // invalid transaction state
    ("26", Some(OperationalError)),  // invalid SQL statement name
    ("27", Some(OperationalError)),  // triggered data change violation
    ("28", Some(OperationalError)),  // invalid authorization specification
    ("2B", Some(InternalError)),     // dependent privilege descriptors still exist
    ("2D", Some(InternalError)),     // invalid transaction termination
    ("2F", Some(InternalError)),     // SQL routine exception
    ("34", Some(OperationalError)),  // invalid cursor name
    ("38", Some(InternalError)),     // external routine exception
    ("39", Some(InternalError)),     // external routine invocation exception
    ("3B", Some(InternalError)),     // savepoint exception
    ("3D", Some(ProgrammingError)),  // invalid catalog name
    ("3F", Some(ProgrammingError)),  // invalid schema name
    ("40", Some(OperationalError)),  // transaction rollback
    ("42", Some(ProgrammingError)),  // syntax error or access rule violation
    ("44", Some(ProgrammingError)),  // WITH CHECK OPTION violation
    ("53", Some(OperationalError)),  // insufficient resources
    ("54", Some(OperationalError)),  // program limit exceeded
    ("55", Some(OperationalError)),  // object not in prerequisite state
    ("57", Some(OperationalError)),  // operator intervention
    ("58", Some(OperationalError)),  // system error
    ("72", Some(DatabaseError)),     // snapshot failure
    ("F0", Some(InternalError)),     // configuration file error
    ("HV", Some(OperationalError)),  // foreign data wrapper error
    ("P0", Some(InternalError)),     // PL/pgSQL error
    ("XX", Some(InternalError)),     // internal error
];

/// The category of `code` by the list above.
fn expected(code: &str) -> Option<DbApiCategory> {
    let class = &code[..2];
    match CLASSES.iter().find(|(listed, _)| *listed == class) {
        Some((_, category)) => *category,
        None => panic!(
            "SQLSTATE {code}: class {class} is new to this test; decide its category from \
             psycopg2's base_exception_from_sqlstate and list it"
        ),
    }
}

#[test]
fn every_sqlstate_of_the_table_has_psycopg2s_category() {
    let mut checked = 0;
    for class in classes() {
        let code = class.code();
        // Real SQLSTATEs only: no driver pseudo-codes, no grouping classes without a code.
        if code.len() != 5 || code.contains('-') {
            continue;
        }
        let Some(want) = expected(code) else {
            assert!(
                class.is_warning(),
                "{code} ({}) raises nothing",
                class.name()
            );
            continue;
        };
        assert_eq!(dbapi_category(code), want, "{code} ({})", class.name());
        let from_server = Error::from_fields([(b'C', code.to_string())]);
        assert_eq!(
            from_server.dbapi_category(),
            want,
            "{code} ({}) from the server",
            class.name()
        );
        checked += 1;
    }
    assert!(checked > 200, "the table's codes were checked ({checked})");
}

#[test]
fn psycopg2s_named_subclasses_are_operational_errors() {
    // QueryCanceledError and TransactionRollbackError.
    assert_eq!(dbapi_category("57014"), OperationalError);
    assert_eq!(dbapi_category("40001"), OperationalError);
    assert_eq!(dbapi_category("40P01"), OperationalError);
}

#[test]
fn codes_beyond_the_table_follow_the_class() {
    assert_eq!(dbapi_category("22P99"), DataError);
    assert_eq!(dbapi_category("5A000"), OperationalError);
    assert_eq!(dbapi_category("FX000"), InternalError);
    assert_eq!(dbapi_category("HW000"), OperationalError);
    assert_eq!(dbapi_category("ZZ999"), DatabaseError);
    assert_eq!(dbapi_category(""), DatabaseError);
    assert_eq!(dbapi_category("2"), DatabaseError);
    assert_eq!(dbapi_category("é"), DatabaseError);
}

#[test]
fn the_clients_own_errors_by_kind() {
    let cases = [
        // Using what is closed.
        (
            Error::client(&ConnectionDoesNotExistError, "closed"),
            InterfaceError,
        ),
        (
            Error::client(&CursorNameError, "closed cursor"),
            InterfaceError,
        ),
        (
            Error::client(&StatementNameError, "closed statement"),
            InterfaceError,
        ),
        // A connection lost, or never made.
        (
            Error::client(&ConnectionFailureError, "lost"),
            OperationalError,
        ),
        (
            Error::client(&ClientCannotConnectError, "refused"),
            OperationalError,
        ),
        (Error::client(&ProtocolError, "malformed"), OperationalError),
        (
            Error::client(&AuthenticationMethodError, "gss"),
            OperationalError,
        ),
        (Error::client(&InsecurityError, "no TLS"), OperationalError),
        (
            Error::client(&ConnectTimeoutError, "timeout"),
            OperationalError,
        ),
        (Error::client(&ClusterError, "no initdb"), OperationalError),
        // Values.
        (
            Error::client(&ParameterError, "can't encode"),
            ProgrammingError,
        ),
        (Error::client(&TypeIOError, "can't decode"), DataError),
        (Error::client(&ColumnError, "can't decode"), DataError),
        (Error::client(&CompositeError, "can't decode"), DataError),
        // Misuse.
        (Error::client(&OperationError, "not now"), InterfaceError),
        (Error::client(&DriverError, "driver"), InterfaceError),
        // Server classes the client raises as the server would.
        (
            Error::client(&QueryCanceledError, "cancelled"),
            OperationalError,
        ),
        (
            Error::client(&InFailedTransactionError, "failed block"),
            InternalError,
        ),
    ];
    for (error, want) in cases {
        assert_eq!(error.dbapi_category(), want, "{}", error.class().name());
    }
    // The server's own invalid cursor name is psycopg2's OperationalError.
    let server = Error::from_fields([(b'C', "34000".to_string())]);
    assert_eq!(server.dbapi_category(), OperationalError);
}

#[test]
fn categories_name_themselves_and_sit_under_database_error() {
    let names: Vec<&str> = DbApiCategory::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "InterfaceError",
            "DatabaseError",
            "DataError",
            "OperationalError",
            "IntegrityError",
            "InternalError",
            "ProgrammingError",
            "NotSupportedError"
        ]
    );
    for category in DbApiCategory::ALL {
        assert_eq!(category.to_string(), category.name());
        assert_eq!(category.is_database_error(), category != InterfaceError);
    }
}

//! The class hierarchy and its lookups.

use pg_exceptions::*;

#[test]
fn the_documented_examples() {
    assert_eq!(lookup("23505"), &UniqueError);
    assert_eq!(lookup("XX444"), &InternalError);
    assert_eq!(lookup("22P99"), &DataError);
    assert_eq!(lookup("ZZ999"), &Error);
    assert_eq!(lookup_warning("01888"), &Warning);
    assert_eq!(lookup_name("UniqueError"), Some(&UniqueError));
    assert_eq!(lookup_name("NoSuchError"), None);
}

#[test]
fn py_postgresql_names() {
    let expected = [
        (&UniqueError, "UniqueError", "23505"),
        (&ICVError, "ICVError", "23000"),
        (&SEARVError, "SEARVError", "42000"),
        (&ITSError, "ITSError", "25000"),
        (
            &InFailedTransactionError,
            "InFailedTransactionError",
            "25P02",
        ),
        (
            &ReadOnlyTransactionError,
            "ReadOnlyTransactionError",
            "25006",
        ),
        (&SyntaxError, "SyntaxError", "42601"),
        (&UndefinedTableError, "UndefinedTableError", "42P01"),
        (&UndefinedColumnError, "UndefinedColumnError", "42703"),
        (&TypeMismatchError, "TypeMismatchError", "42804"),
        (&ZeroDivisionError, "ZeroDivisionError", "22012"),
        (&QueryCanceledError, "QueryCanceledError", "57014"),
        (&AdminShutdownError, "AdminShutdownError", "57P01"),
        (&CrashShutdownError, "CrashShutdownError", "57P02"),
        (&InvalidPasswordError, "InvalidPasswordError", "28P01"),
        (
            &AuthenticationSpecificationError,
            "AuthenticationSpecificationError",
            "28000",
        ),
        (
            &ConnectionDoesNotExistError,
            "ConnectionDoesNotExistError",
            "08003",
        ),
        (&ConnectionFailureError, "ConnectionFailureError", "08006"),
        (&ServerNotReadyError, "ServerNotReadyError", "57P03"),
        (&CursorNameError, "CursorNameError", "34000"),
        (&InternalError, "InternalError", "XX000"),
        (&DataError, "DataError", "22000"),
        (&DeadlockError, "DeadlockError", "40P01"),
        (&SerializationError, "SerializationError", "40001"),
        (&EscapeCharacterError, "EscapeCharacterError", "2200C"),
        (&LimitValueError, "LimitValueError", "2201W"),
    ];
    for (class, name, code) in expected {
        assert_eq!((class.name(), class.code()), (name, code));
        assert_eq!(lookup(code), class, "{code}");
        assert_eq!(lookup_name(name), Some(class));
    }
    // Derived names for codes py-postgresql lacks.
    assert_eq!(lookup("23P01"), &ExclusionViolationError);
    assert_eq!(lookup("22019"), &InvalidEscapeCharacterError);
    assert_eq!(lookup("58030"), &IOError);
    assert_eq!(lookup("HV00N"), &FDWUnableToEstablishConnectionError);
    assert_eq!(
        ExclusionViolationError.condition(),
        Some("exclusion_violation")
    );
    assert_eq!(Error.condition(), None);
    // py-postgresql maps an old server's 22020 to LimitValueError as well.
    assert_eq!(lookup("22020"), &LimitValueError);
}

#[test]
fn parent_links() {
    assert_eq!(UniqueError.parent(), Some(&ICVError));
    assert_eq!(ICVError.parent(), Some(&Error));
    assert_eq!(Error.parent(), None);
    let chain: Vec<&str> = InFailedTransactionError
        .ancestors()
        .map(ErrorClass::name)
        .collect();
    assert_eq!(chain, ["ITSError", "TransactionError", "Error"]);
    assert!(UniqueError.is_a(&UniqueError));
    assert!(UniqueError.is_a(&ICVError));
    assert!(UniqueError.is_a(&Error));
    assert!(!UniqueError.is_a(&DataError));
    assert!(!ICVError.is_a(&UniqueError));
    assert!(InFailedTransactionError.is_a(&TransactionError));
    assert!(TRError.is_a(&TransactionError));
    assert!(UndefinedTableError.is_a(&UndefinedError) && UndefinedTableError.is_a(&SEARVError));
    assert!(DuplicateTableError.is_a(&DuplicateError));
    assert!(AmbiguousColumnError.is_a(&AmbiguityError));
    assert!(TableDefinitionError.is_a(&DefinitionError));
    assert!(CatalogNameError.is_a(&NameError));
    assert_eq!(UniqueError.root(), &Error);
    assert_eq!(Error.root(), &Error);
    assert_eq!(NoMoreSetsReturned.root(), &Warning);
    assert_eq!(UniqueError.to_string(), "UniqueError");
    assert_eq!(
        format!("{UniqueError:?}"),
        r#"ErrorClass { name: "UniqueError", code: "23505", parent: Some("ICVError"), disconnection: false }"#
    );
}

#[test]
fn grouping_classes_are_not_found_by_code() {
    // As in py-postgresql, they carry their parent's code but the code means the parent.
    assert_eq!(TypeError.code(), "42000");
    assert_eq!(lookup("42000"), &SEARVError);
    assert_eq!(TransactionError.code(), "");
    assert_eq!(lookup_name("TransactionError"), Some(&TransactionError));
}

#[test]
fn warnings_are_their_own_family() {
    assert_eq!(lookup_warning("01000"), &Warning);
    assert_eq!(lookup_warning("02000"), &NoDataWarning);
    assert_eq!(lookup_warning("02001"), &NoMoreSetsReturned);
    assert_eq!(lookup_warning("02999"), &NoDataWarning);
    assert_eq!(lookup_warning("01P01"), &DeprecationWarning);
    assert_eq!(lookup_warning("00000"), &Notice);
    assert_eq!(lookup_warning("01-00"), &DriverWarning);
    assert_eq!(lookup_warning("01-CP"), &IgnoredClientParameterWarning);
    assert_eq!(lookup_warning("01-TP"), &TypeConversionWarning);
    assert_eq!(lookup_warning("23505"), &Warning);
    assert!(DeprecationWarning.is_a(&Warning));
    assert!(!DeprecationWarning.is_a(&Error));
    assert!(DeprecationWarning.is_warning() && Notice.is_warning());
    assert!(!UniqueError.is_warning());
    // Error lookups do not see warnings, as py-postgresql's ErrorLookup.
    assert_eq!(lookup("01P01"), &Error);
    assert_eq!(lookup_any("01P01"), &DeprecationWarning);
    assert_eq!(lookup_any("00000"), &Notice);
    assert_eq!(lookup_any("23505"), &UniqueError);
    assert!(is_warning_code("01000") && is_warning_code("02001") && is_warning_code("00000"));
    assert!(!is_warning_code("23505") && !is_warning_code("0"));
}

#[test]
fn driver_pseudo_codes() {
    let expected = [
        ("--000", &DriverError, "Error"),
        ("--AUT", &AuthenticationMethodError, "DriverError"),
        ("--CIO", &ColumnError, "TypeIOError"),
        ("--cIO", &CompositeError, "TypeIOError"),
        ("--TIO", &TypeIOError, "DriverError"),
        ("--PIO", &ParameterError, "TypeIOError"),
        ("--OPE", &OperationError, "DriverError"),
        ("--SEC", &InsecurityError, "DriverError"),
        ("--TOE", &ConnectTimeoutError, "DriverError"),
    ];
    for (code, class, parent) in expected {
        assert_eq!(lookup(code), class, "{code}");
        assert_eq!(class.parent().map(ErrorClass::name), Some(parent), "{code}");
        assert_eq!(class.source(), Source::Client, "{code}");
        assert!(class.is_a(&DriverError));
    }
    assert_eq!(lookup("--ZZZ"), &DriverError);
    assert_eq!(UniqueError.source(), Source::Server);
    assert_eq!(DriverWarning.source(), Source::Client);
}

#[test]
fn disconnections() {
    for class in [
        &AdminShutdownError,
        &CrashShutdownError,
        &ServerNotReadyError,
        &ConnectionError,
        &ConnectionFailureError,
        &ConnectionDoesNotExistError,
        &ClientCannotConnectError,
        &ProtocolError,
        &AuthenticationSpecificationError,
        &InvalidPasswordError,
        &ConnectTimeoutError,
        &AuthenticationMethodError,
        &InsecurityError,
        &IdleSessionTimeoutError,
    ] {
        assert!(class.is_disconnection(), "{class}");
    }
    for class in [
        &Error,
        &UniqueError,
        &QueryCanceledError,
        &OIError,
        &DriverError,
        &TypeIOError,
    ] {
        assert!(!class.is_disconnection(), "{class}");
    }
}

#[test]
fn every_class_is_consistent() {
    let all: Vec<&ErrorClass> = classes().collect();
    assert!(all.len() >= 280, "{}", all.len());
    let mut names = std::collections::HashSet::new();
    for class in &all {
        assert!(names.insert(class.name()), "duplicate {}", class.name());
        assert_eq!(lookup_name(class.name()), Some(*class));
        assert!(
            is_valid_code(class.code()) || class.code().is_empty(),
            "{class}"
        );
        // Everything but the grouping classes and the root is found by its own code.
        let grouping = class.condition().is_none() && class.source() == Source::Server;
        if !grouping {
            assert_eq!(lookup_any(class.code()), *class, "{class}");
        }
        let root = class.root();
        assert!(
            root == &Error || root == &Warning || root == &Notice,
            "{class}"
        );
        assert!(class.is_a(root));
        // The disconnection mark is inherited.
        if class.parent().is_some_and(ErrorClass::is_disconnection) {
            assert!(class.is_disconnection(), "{class}");
        }
    }
}

#[test]
fn lookups_never_panic_on_odd_input() {
    for code in [
        "",
        "2",
        "23",
        "é",
        "éé",
        "2é000",
        "\u{0}\u{0}\u{0}\u{0}\u{0}",
        "23505 ",
        "💥💥",
    ] {
        let _ = lookup(code);
        let _ = lookup_warning(code);
        let _ = lookup_any(code);
        let _ = is_valid_code(code);
        let _ = describe(code);
    }
    assert_eq!(lookup("23"), &ICVError);
    assert_eq!(lookup("é"), &Error);
    assert!(is_valid_code("--cIO") && is_valid_code("ZZ999") && is_valid_code("-----"));
    assert!(!is_valid_code("--cio") && !is_valid_code("zz999") && !is_valid_code("2350"));
}

#[test]
fn cluster_classes_have_py_postgresqls_codes_and_levels() {
    // postgresql.cluster's classes: ClusterError and its kinds, ClusterWarning a Warning.
    let levels = [
        (&ClusterError, "-C000", &Error),
        (&ClusterInitializationError, "-Cini", &ClusterError),
        (&InitDBError, "-Cidb", &ClusterInitializationError),
        (&ClusterStartupError, "-Cbot", &ClusterError),
        (&ClusterNotRunningError, "-Cdwn", &ClusterError),
        (&ClusterTimeoutError, "-Cout", &ClusterError),
        (&ClusterWarning, "-Cwrn", &Warning),
    ];
    for (class, code, parent) in levels {
        assert_eq!(class.code(), code);
        assert_eq!(class.parent(), Some(parent), "{}", class.name());
        assert_eq!(lookup_any(code), class, "{code}");
        assert!(is_valid_code(code));
    }
    assert!(InitDBError.is_a(&ClusterError));
    assert!(!ClusterWarning.is_a(&ClusterError));
    // An unknown cluster code falls back to the class code, ClusterError.
    assert_eq!(lookup("-Cxyz"), &ClusterError);
}

//! Settings against a real server: the mapping over the session's parameters, values kept
//! verbatim, scopes restored after Ok and Err, reported parameters read without a query, and
//! the blocking facade.

mod common;

use pg_driver::TransactionStatus;
use pg_exceptions::{Error, InFailedTransactionError, OperationError, UndefinedObjectError};

#[tokio::test]
async fn get_set_reset_and_contains() {
    let db = common::connect().await;
    let settings = db.settings();
    let original = settings.get("work_mem").await.unwrap().unwrap();
    settings.set("work_mem", "12MB").await.unwrap();
    assert_eq!(
        settings.get("work_mem").await.unwrap().as_deref(),
        Some("12MB")
    );
    assert_eq!(common::scalar(&db, "SHOW work_mem").await.unwrap(), "12MB");
    // Names are PostgreSQL's: any case.
    assert_eq!(
        settings.get("WORK_MEM").await.unwrap().as_deref(),
        Some("12MB")
    );
    settings.reset("Work_Mem").await.unwrap();
    assert_eq!(settings.get("work_mem").await.unwrap(), Some(original));

    assert_eq!(settings.get("no_such_setting").await.unwrap(), None);
    assert!(!settings.contains("no_such_setting").await.unwrap());
    assert!(settings.contains("work_mem").await.unwrap());
    assert_eq!(settings.get("myapp.flag").await.unwrap(), None);
    settings.set("myapp.flag", "on").await.unwrap();
    assert_eq!(
        settings.get("myapp.flag").await.unwrap().as_deref(),
        Some("on")
    );
    assert!(settings.contains("myapp.flag").await.unwrap());

    let error = settings.set("no_such_setting", "1").await.unwrap_err();
    assert!(error.is_a(&UndefinedObjectError), "{error}");
    // A setting made inside a block that rolls back is undone.
    let x = db.xact();
    x.start().await.unwrap();
    settings.set("work_mem", "5MB").await.unwrap();
    x.rollback().await.unwrap();
    assert_ne!(
        settings.get("work_mem").await.unwrap().as_deref(),
        Some("5MB")
    );
}

#[tokio::test]
async fn values_with_quotes_and_semicolons_are_stored_verbatim() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();
    let settings = db.settings();
    let hostile = "x'; DROP TABLE t; --";
    settings.set("application_name", hostile).await.unwrap();
    assert_eq!(
        settings.get("application_name").await.unwrap().as_deref(),
        Some(hostile)
    );
    assert_eq!(
        db.parameter_status("application_name").as_deref(),
        Some(hostile)
    );
    let shown: String = db
        .query_first("SELECT current_setting('application_name')", ())
        .await
        .unwrap();
    assert_eq!(shown, hostile);
    let custom = "a\"b'c;d $$ e";
    settings.set("myapp.text", custom).await.unwrap();
    assert_eq!(
        settings.get("myapp.text").await.unwrap().as_deref(),
        Some(custom)
    );
    settings
        .update([
            ("myapp.other", "'); SELECT 1; --"),
            ("application_name", "o'k"),
        ])
        .await
        .unwrap();
    assert_eq!(
        settings
            .getset(["myapp.other", "application_name"])
            .await
            .unwrap(),
        [
            ("myapp.other".to_owned(), "'); SELECT 1; --".to_owned()),
            ("application_name".to_owned(), "o'k".to_owned())
        ]
    );
    // A hostile name is a name, not SQL.
    assert!(settings.reset("work_mem; DROP TABLE t").await.is_err());
    assert!(
        settings
            .set("work_mem'; DROP TABLE t; --", "1MB")
            .await
            .is_err()
    );
    let count: i64 = db.query_first("SELECT count(*) FROM t", ()).await.unwrap();
    assert_eq!(count, 0, "the table is still there");
}

#[tokio::test]
async fn getset_names_the_missing_keys_and_update_is_all_or_nothing() {
    let db = common::connect().await;
    let settings = db.settings();
    settings.set("work_mem", "6MB").await.unwrap();
    let values = settings
        .getset(["work_mem", "TimeZone", "statement_timeout", "DateStyle"])
        .await
        .unwrap();
    let keys: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["work_mem", "TimeZone", "statement_timeout", "DateStyle"]
    );
    assert_eq!(values[0].1, "6MB");
    assert_eq!(Some(&values[1].1), db.parameter_status("TimeZone").as_ref());
    assert_eq!(values[2].1, "0");

    let error = settings
        .getset(["work_mem", "no_such_a", "search_path", "no_such_b"])
        .await
        .unwrap_err();
    assert!(error.is_a(&UndefinedObjectError), "{error}");
    assert!(
        error.message().contains("\"no_such_a\"") && error.message().contains("\"no_such_b\""),
        "{error}"
    );
    assert!(!error.message().contains("work_mem"), "{error}");

    settings
        .update([("work_mem", "7MB"), ("statement_timeout", "5s")])
        .await
        .unwrap();
    assert_eq!(
        settings
            .getset(["work_mem", "statement_timeout"])
            .await
            .unwrap(),
        [
            ("work_mem".to_owned(), "7MB".to_owned()),
            ("statement_timeout".to_owned(), "5s".to_owned())
        ]
    );
    let error = settings
        .update([("work_mem", "9MB"), ("no_such_x", "1")])
        .await
        .unwrap_err();
    assert!(error.is_a(&UndefinedObjectError), "{error}");
    assert_eq!(
        settings.get("work_mem").await.unwrap().as_deref(),
        Some("7MB")
    );
    settings.update(Vec::<(&str, &str)>::new()).await.unwrap();
}

#[tokio::test]
async fn keys_values_items_and_len_come_from_pg_settings() {
    let db = common::connect().await;
    let settings = db.settings();
    let len = settings.len().await.unwrap();
    assert!(len > 100, "{len} settings");
    assert!(!settings.is_empty().await.unwrap());
    let keys = settings.keys().await.unwrap();
    assert_eq!(keys.len(), len);
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "sorted");
    assert!(keys.iter().any(|k| k == "work_mem"));
    let values = settings.values().await.unwrap();
    assert_eq!(values.len(), len);
    let items = settings.items().await.unwrap();
    let names: Vec<&String> = items.iter().map(|(k, _)| k).collect();
    assert_eq!(names, keys.iter().collect::<Vec<_>>());
    let work_mem = settings.get("work_mem").await.unwrap().unwrap();
    assert!(items.contains(&("work_mem".to_owned(), work_mem)));
}

#[tokio::test]
async fn a_scope_restores_the_previous_values_after_ok_and_err() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let settings = db.settings();
    let path = settings.get("search_path").await.unwrap().unwrap();
    let work_mem = settings.get("work_mem").await.unwrap().unwrap();
    let app = settings.get("application_name").await.unwrap().unwrap();

    let seen = settings
        .scoped(
            [
                ("search_path", "public"),
                ("work_mem", "3MB"),
                ("application_name", "scoped"),
            ],
            |db| async move {
                let path: String = db
                    .query_first("SELECT current_setting('search_path')", ())
                    .await?;
                Ok::<_, Error>((path, db.parameter_status("application_name")))
            },
        )
        .await
        .unwrap();
    assert_eq!(seen, ("public".to_owned(), Some("scoped".to_owned())));
    assert_eq!(
        settings.get("search_path").await.unwrap().as_ref(),
        Some(&path)
    );
    assert_eq!(
        settings.get("work_mem").await.unwrap().as_ref(),
        Some(&work_mem)
    );
    assert_eq!(db.parameter_status("application_name").as_ref(), Some(&app));

    let result: Result<(), Error> = settings
        .scoped([("work_mem", "4MB")], |db| async move {
            assert_eq!(db.settings().get("work_mem").await?.as_deref(), Some("4MB"));
            Err(Error::client(&OperationError, "inside the scope"))
        })
        .await;
    assert_eq!(result.unwrap_err().message(), "inside the scope");
    assert_eq!(
        settings.get("work_mem").await.unwrap().as_ref(),
        Some(&work_mem)
    );

    // Err in a failed block: the restore fails there and the closure's error wins; the block's
    // rollback undoes the scope's settings.
    let x = db.xact();
    x.start().await.unwrap();
    let result: Result<(), Error> = settings
        .scoped([("work_mem", "8MB")], |db| async move {
            db.execute("SELECT 1/0").await?;
            Ok(())
        })
        .await;
    assert!(result.is_err());
    x.rollback().await.unwrap();
    assert_eq!(
        settings.get("work_mem").await.unwrap().as_ref(),
        Some(&work_mem)
    );

    // The guard: explicit restore, and restore queued by its drop.
    let scope = settings
        .scope([
            ("work_mem", "2MB"),
            ("WORK_MEM", "1MB"),
            ("myapp.scoped", "yes"),
        ])
        .await
        .unwrap();
    assert_eq!(
        scope.previous(),
        [
            ("work_mem".to_owned(), Some(work_mem.clone())),
            ("myapp.scoped".to_owned(), None)
        ]
    );
    assert_eq!(
        settings.get("work_mem").await.unwrap().as_deref(),
        Some("1MB")
    );
    scope.restore().await.unwrap();
    assert_eq!(
        settings.get("work_mem").await.unwrap().as_ref(),
        Some(&work_mem)
    );
    // A setting that did not exist before is reset: its value is no longer the scope's.
    assert_ne!(
        settings.get("myapp.scoped").await.unwrap().as_deref(),
        Some("yes")
    );

    let scope = settings.scope([("work_mem", "2MB")]).await.unwrap();
    drop(scope);
    assert_eq!(
        settings.get("work_mem").await.unwrap().as_ref(),
        Some(&work_mem)
    );
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn reported_parameters_are_read_without_a_query() {
    let db = common::connect().await;
    let settings = db.settings();
    let reported = db.parameters();
    for name in [
        "application_name",
        "client_encoding",
        "DateStyle",
        "IntervalStyle",
        "is_superuser",
        "server_encoding",
        "server_version",
        "session_authorization",
        "standard_conforming_strings",
        "TimeZone",
        "integer_datetimes",
    ] {
        assert!(reported.contains_key(name), "{name} is reported");
    }
    settings.set("TimeZone", "America/New_York").await.unwrap();
    settings.set("application_name", "reported").await.unwrap();
    // Inside a failed block every query fails: these answers come from ParameterStatus.
    let x = db.xact();
    x.start().await.unwrap();
    db.execute("SELECT 1/0").await.unwrap_err();
    assert_eq!(
        settings.get("timezone").await.unwrap().as_deref(),
        Some("America/New_York")
    );
    assert_eq!(
        settings.reported("TIMEZONE").as_deref(),
        Some("America/New_York")
    );
    assert_eq!(
        settings.get("application_name").await.unwrap().as_deref(),
        Some("reported")
    );
    assert_eq!(
        settings
            .getset(["DateStyle", "client_encoding"])
            .await
            .unwrap()[1]
            .1,
        "UTF8"
    );
    let error = settings.get("work_mem").await.unwrap_err();
    assert!(error.is_a(&InFailedTransactionError), "{error}");
    x.rollback().await.unwrap();
    // search_path is reported from PostgreSQL 18 only.
    if db.server_version().unwrap() < 180000 {
        assert_eq!(settings.reported("search_path"), None);
        assert!(settings.get("search_path").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn the_search_path_as_a_list() {
    let db = common::connect().await;
    let settings = db.settings();
    settings
        .set_search_path(["My Schema", "public"])
        .await
        .unwrap();
    assert_eq!(
        settings.get("search_path").await.unwrap().as_deref(),
        Some("\"My Schema\", public")
    );
    assert_eq!(
        settings.search_path().await.unwrap(),
        ["My Schema", "public"]
    );
}

#[test]
fn the_blocking_facade_reads_and_scopes_settings() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    let settings = db.settings();
    let work_mem = settings.get("work_mem").unwrap().unwrap();
    settings
        .set("application_name", "x'; DROP TABLE t; --")
        .unwrap();
    assert_eq!(
        settings.get("application_name").unwrap().as_deref(),
        Some("x'; DROP TABLE t; --")
    );
    assert_eq!(
        settings.reported("application_name"),
        db.parameter_status("application_name")
    );
    settings.update([("work_mem", "10MB")]).unwrap();
    assert_eq!(settings.getset(["work_mem"]).unwrap()[0].1, "10MB");
    settings.reset("work_mem").unwrap();
    assert_eq!(settings.get("work_mem").unwrap().as_ref(), Some(&work_mem));
    assert!(
        settings
            .getset(["nope_a"])
            .unwrap_err()
            .message()
            .contains("nope_a")
    );
    assert!(settings.len().unwrap() > 100);
    assert_eq!(
        settings.keys().unwrap().len(),
        settings.values().unwrap().len()
    );
    assert!(settings.contains("work_mem").unwrap());
    assert!(!settings.items().unwrap().is_empty());

    let inside = settings
        .scoped([("work_mem", "3MB")], |db| db.settings().get("work_mem"))
        .unwrap();
    assert_eq!(inside.as_deref(), Some("3MB"));
    let failed: Result<(), Error> = settings.scoped([("work_mem", "3MB")], |_| {
        Err(Error::client(&OperationError, "no"))
    });
    assert!(failed.is_err());
    assert_eq!(settings.get("work_mem").unwrap().as_ref(), Some(&work_mem));

    let scope = settings.scope([("work_mem", "4MB")]).unwrap();
    assert_eq!(scope.previous()[0].1.as_ref(), Some(&work_mem));
    scope.restore().unwrap();
    let scope = settings.scope([("work_mem", "4MB")]).unwrap();
    drop(scope);
    assert_eq!(settings.get("work_mem").unwrap().as_ref(), Some(&work_mem));
}

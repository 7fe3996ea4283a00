//! The process's shared throwaway cluster and its sandboxes.

mod common;

use common::{scalar, text};
use pg_cluster::{ClusterError, Temporal};
use pg_driver::PeerAddr;

fn shared() -> &'static Temporal {
    Temporal::get().unwrap_or_else(|e| panic!("throwaway cluster: {e}"))
}

#[test]
fn shared_cluster_runs_sql() {
    let pg = shared();
    assert!(
        std::ptr::eq(pg, Temporal::get().unwrap()),
        "one per process"
    );
    if pg.cluster().is_none() {
        // PGTEST_IRI names the server: only the SQL path can be checked.
        assert_eq!(pg.admin_sql("SELECT 1").unwrap(), "1");
        return;
    }
    let cluster = pg.cluster().unwrap();
    assert!(cluster.running());
    assert_eq!(pg.user(), "test");
    assert_eq!(pg.database(), "test");
    assert_eq!(pg.host(), "127.0.0.1");
    assert_eq!(pg.iri(), format!("pq://test@127.0.0.1:{}/test", pg.port()));
    assert_eq!(
        pg.uri(),
        format!("postgresql://test@127.0.0.1:{}/test", pg.port())
    );
    assert_eq!(cluster.address().unwrap().port, pg.port());
    let socket_dir = pg.socket_dir().unwrap();
    assert_eq!(socket_dir, cluster.data_directory());
    assert!(socket_dir.join(format!(".s.PGSQL.{}", pg.port())).exists());
    let root = cluster.data_directory().parent().unwrap();
    assert!(
        root.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(pg_cluster::cleanup::DIRECTORY_PREFIX),
        "{}",
        root.display()
    );

    assert_eq!(
        pg.admin_sql("SELECT current_user, current_database()")
            .unwrap(),
        "test|test"
    );
    let settings = pg
        .admin_sql(
            "SELECT string_agg(name || '=' || setting, ',' ORDER BY name) FROM pg_settings \
             WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'listen_addresses')",
        )
        .unwrap();
    assert_eq!(
        settings,
        "fsync=off,full_page_writes=off,listen_addresses=127.0.0.1,synchronous_commit=off"
    );
    let max: u32 = pg
        .admin_sql("SHOW max_connections")
        .unwrap()
        .parse()
        .unwrap();
    assert!(max >= 100);

    // The cluster's connections go through the unix socket.
    let db = pg.connect_blocking().unwrap();
    assert_eq!(
        db.as_async().peer(),
        PeerAddr::Unix(socket_dir.join(format!(".s.PGSQL.{}", pg.port())))
    );
    let answer = db.simple("SELECT 40 + 2, current_user").unwrap();
    assert_eq!(text(&answer), "42|test");
    db.close();

    // Several statements, NULLs, the results themselves.
    assert_eq!(
        pg.admin_sql("SET work_mem = '2MB'; SELECT NULL, 'a'; SHOW work_mem")
            .unwrap(),
        "|a\n2MB"
    );
    let results = pg
        .admin_query("SELECT 1 AS one; CREATE TEMP TABLE x ()")
        .unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].columns, ["one"]);
    assert_eq!(results[0].tag, "SELECT 1");
    assert_eq!(results[1].tag, "CREATE TABLE");

    // A server error keeps the server's report.
    let err = pg.admin_sql("SELECT * FROM no_such_table").unwrap_err();
    assert!(
        err.to_string()
            .contains("relation \"no_such_table\" does not exist"),
        "{err}"
    );
    assert_eq!(err.name(), "UndefinedTableError");
    match &err {
        ClusterError::Database { error } => assert_eq!(error.code(), "42P01"),
        other => panic!("expected the driver's error, got {other:?}"),
    }
}

#[test]
fn sandboxes_isolate_tests() {
    let pg = shared();
    let one = pg.sandbox().unwrap();
    let two = pg.sandbox().unwrap();
    assert_ne!(one.schema(), two.schema());
    assert!(
        one.schema()
            .starts_with(&format!("sandbox_{}_", std::process::id()))
    );

    one.admin_sql("CREATE TABLE t (v text); INSERT INTO t VALUES ('one')")
        .unwrap();
    two.admin_sql("CREATE TABLE t (v text); INSERT INTO t VALUES ('two')")
        .unwrap();
    assert_eq!(one.admin_sql("SELECT v FROM t").unwrap(), "one");
    assert_eq!(two.admin_sql("SELECT v FROM t").unwrap(), "two");

    // A connection of the sandbox finds the sandbox first in its path.
    let db = one.connect_blocking().unwrap();
    let search_path = db.simple("SHOW search_path").unwrap();
    assert_eq!(scalar(&search_path), Some(one.search_path()));
    assert_eq!(text(&db.simple("SELECT v FROM t").unwrap()), "one");
    db.close();
    // So does one made from its IRI with the driver.
    let by_iri = pg_driver::blocking::Connector::new(
        pg_driver::params::Keywords::parse(&one.iri())
            .unwrap()
            .build()
            .unwrap(),
    );
    let db = by_iri.connect().unwrap();
    assert_eq!(text(&db.simple("SELECT v FROM t").unwrap()), "one");
    db.close();
    assert_eq!(
        one.iri(),
        format!("{}?search_path={},public", pg.iri(), one.schema())
    );

    let schema = one.schema().to_owned();
    let exists = |name: &str| {
        pg.admin_sql(&format!(
            "SELECT count(*) FROM pg_namespace WHERE nspname = '{name}'"
        ))
        .unwrap()
    };
    assert_eq!(exists(&schema), "1");
    drop(one);
    assert_eq!(
        exists(&schema),
        "0",
        "dropping the sandbox drops its schema"
    );
    assert_eq!(exists(two.schema()), "1");
}

/// The shared cluster and sandboxes from async code: `Temporal::get` and the sandboxes'
/// administrative SQL run on threads of their own, so they work inside a runtime.
#[tokio::test]
async fn sandbox_connections_in_async_code() -> Result<(), pg_exceptions::Error> {
    let pg = Temporal::get()?;
    let one = pg.sandbox()?;
    let two = pg.sandbox()?;
    let db_one = one.connect().await?;
    let db_two = two.connect().await?;

    let shown = db_one.simple("SHOW search_path").await?;
    assert_eq!(scalar(&shown), Some(format!("{},public", one.schema())));
    let first = db_one.simple("SELECT (current_schemas(false))[1]").await?;
    assert_eq!(scalar(&first).as_deref(), Some(one.schema()));

    // Two sandboxes do not see each other's tables.
    db_one
        .execute("CREATE TABLE mine (v text); INSERT INTO mine VALUES ('one')")
        .await?;
    db_two.execute("CREATE TABLE theirs (v int)").await?;
    assert_eq!(
        scalar(&db_one.simple("SELECT v FROM mine").await?).as_deref(),
        Some("one")
    );
    let unseen = db_two.simple("SELECT * FROM mine").await.unwrap_err();
    assert_eq!(unseen.code(), "42P01", "{unseen}");
    let unseen = db_one.simple("SELECT * FROM theirs").await.unwrap_err();
    assert_eq!(unseen.code(), "42P01", "{unseen}");
    // Qualified, the other sandbox's table is there: isolation is by search path only.
    let qualified = format!("SELECT count(*) FROM {}.mine", one.schema());
    assert_eq!(
        scalar(&db_two.simple(&qualified).await?).as_deref(),
        Some("1")
    );

    // Administrative SQL works here too, with the sandbox first in its path.
    assert_eq!(one.admin_sql("SELECT v FROM mine")?, "one");
    let temporal = pg.connect().await?;
    let count = temporal
        .simple(&format!(
            "SELECT count(*) FROM pg_tables WHERE schemaname IN ('{}', '{}')",
            one.schema(),
            two.schema()
        ))
        .await?;
    assert_eq!(scalar(&count).as_deref(), Some("2"));

    // The blocking facade refuses to run here, and says so.
    let refused = pg.connect_blocking().unwrap_err();
    assert!(
        refused.to_string().contains("inside an async runtime"),
        "{refused}"
    );

    db_one.close();
    db_two.close();
    drop(one);
    let left = temporal
        .simple(&format!(
            "SELECT count(*) FROM pg_namespace WHERE nspname = '{}'",
            two.schema()
        ))
        .await?;
    assert_eq!(scalar(&left).as_deref(), Some("1"));
    temporal.close();
    Ok(())
}

/// A multi-threaded runtime, where the admin thread must not interfere either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_in_a_multi_threaded_runtime() -> Result<(), pg_exceptions::Error> {
    let sandbox = Temporal::get()?.sandbox()?;
    let db = sandbox.connect().await?;
    db.execute("CREATE TABLE t (a int); INSERT INTO t SELECT generate_series(1, 10)")
        .await?;
    let sum = db.simple("SELECT sum(a) FROM t").await?;
    assert_eq!(scalar(&sum).as_deref(), Some("55"));
    assert_eq!(sandbox.admin_sql("SELECT count(*) FROM t")?, "10");
    db.close();
    Ok(())
}

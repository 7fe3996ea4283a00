//! The process's shared throwaway cluster and its sandboxes.

mod common;

use common::psql;
use pg_cluster::Temporal;

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

    // A real client through the unix socket works too.
    let via_socket = psql(
        &format!(
            "host={} port={} user=test dbname=test",
            socket_dir.display(),
            pg.port()
        ),
        &[],
        "SELECT 40 + 2",
    );
    assert_eq!(via_socket.unwrap(), "42");

    let err = pg.admin_sql("SELECT * FROM no_such_table").unwrap_err();
    assert!(err.to_string().contains("no_such_table"), "{err}");
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

    // A client connecting with the sandbox's URI finds the sandbox first in its path.
    let search_path = psql(&one.uri(), &[], "SHOW search_path").unwrap();
    assert_eq!(search_path, one.search_path());
    assert_eq!(psql(&one.uri(), &[], "SELECT v FROM t").unwrap(), "one");
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

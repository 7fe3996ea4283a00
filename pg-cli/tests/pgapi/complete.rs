//! Tab completion's catalog, read from a real server.

use pg_cli::complete::{complete, load};

use crate::sandbox;

#[test]
fn completes_names_read_from_the_server() {
    let sandbox = sandbox();
    let schema = sandbox.schema().to_owned();
    sandbox
        .admin_sql(
            "create table widgets (widget_id int primary key, \"Widget Name\" text, weight real); \
             create view widget_view as select widget_id from widgets",
        )
        .unwrap();
    let runtime = pg_cli::runtime().unwrap();
    let catalog = runtime.block_on(async {
        let db = sandbox.connect().await.unwrap();
        // The session's own temporary tables are offered too.
        db.execute("create temporary table scratch_pad (note text)")
            .await
            .unwrap();
        load(&db).await.unwrap()
    });
    let scratch = catalog
        .relations
        .iter()
        .find(|r| r.name == "scratch_pad")
        .expect("the temporary table");
    assert!(scratch.schema.starts_with("pg_temp_") && scratch.visible);
    // What was read: the sandbox schema, its relations with their kinds, their columns.
    assert!(catalog.schemas.contains(&schema), "{:?}", catalog.schemas);
    assert!(!catalog.schemas.iter().any(|s| s == "pg_toast"));
    assert!(!catalog.relations.iter().any(|r| r.schema == "pg_toast"));
    let widgets = catalog
        .relations
        .iter()
        .find(|r| r.schema == schema && r.name == "widgets")
        .expect("the table");
    assert_eq!(widgets.kind, 'r');
    assert!(widgets.visible, "the sandbox is first in the search path");
    let kinds: Vec<(&str, char)> = catalog
        .relations
        .iter()
        .filter(|r| r.schema == schema)
        .map(|r| (r.name.as_str(), r.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("widget_view", 'v'),
            ("widgets", 'r'),
            ("widgets_pkey", 'i')
        ]
    );
    let database = sandbox.temporal().database().to_owned();
    assert!(catalog.databases.contains(&database));

    // Completing from it.
    let at_end = |line: &str| complete(line, line.len(), &catalog);
    assert_eq!(at_end("select * from widg").1, ["widget_view", "widgets"]);
    assert_eq!(at_end("\\dt widg").1, ["widgets"]);
    assert_eq!(at_end("\\di widg").1, ["widgets_pkey"]);
    let qualified = format!("select * from {schema}.w");
    assert_eq!(
        at_end(&qualified),
        (
            14,
            vec![format!("{schema}.widget_view"), format!("{schema}.widgets")]
        )
    );
    assert_eq!(
        at_end("select * from widgets where w").1,
        [
            "\"Widget Name\"",
            "weight",
            "when",
            "where",
            "widget_id",
            "window",
            "with",
            "work",
            "write"
        ]
    );
    assert_eq!(
        at_end("select widgets.").1,
        [
            "widgets.\"Widget Name\"",
            "widgets.weight",
            "widgets.widget_id"
        ]
    );
    assert_eq!(at_end("select * from scratch").1, ["scratch_pad"]);
    let line = format!("\\c {}", &database[..1]);
    assert!(at_end(&line).1.contains(&database));
}

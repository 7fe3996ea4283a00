//! Streaming standbys of a throwaway primary: base backup, streaming, hot-standby reads,
//! promotion, and removal.

mod common;

use std::time::Duration;

use pg_cluster::{ClusterError, Temporal};

#[test]
fn a_standby_streams_serves_reads_and_is_promoted() -> Result<(), ClusterError> {
    let primary = Temporal::builder().replication(true).build()?;
    let primary_cluster = primary.cluster().expect("a throwaway primary");
    let rules = primary_cluster.hba().rules()?;
    let replication = |rule: &String| {
        let words: Vec<&str> = rule.split_whitespace().collect();
        words.get(1..3) == Some(&["replication", "test"][..])
    };
    assert!(rules.iter().any(replication), "{rules:?}");
    assert_eq!(
        primary_cluster.settings().get("wal_level")?.as_deref(),
        Some("replica")
    );
    primary.admin_sql("CREATE TABLE replicated (i int); INSERT INTO replicated VALUES (1)")?;

    let standby = primary.standby()?;
    let standby_dir = standby
        .cluster()
        .expect("a throwaway standby")
        .data_directory()
        .to_owned();
    assert_ne!(standby.port(), primary.port());
    assert!(standby.in_recovery()?);
    assert!(!primary.in_recovery()?);
    assert!(standby_dir.join("standby.signal").is_file());
    // The primary sees its WAL sender; the standby its receiver.
    assert_eq!(
        primary.admin_sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")?,
        "1"
    );
    // What was there before the backup, and what is written after, reaches the standby.
    primary.admin_sql("INSERT INTO replicated VALUES (2)")?;
    assert!(
        common::eventually(Duration::from_secs(30), || {
            standby
                .admin_sql("SELECT count(*) FROM replicated")
                .is_ok_and(|n| n == "2")
        }),
        "the standby never saw the second row"
    );
    // Hot standby: reads work, writes are refused.
    let refused = standby
        .admin_sql("INSERT INTO replicated VALUES (3)")
        .unwrap_err();
    assert!(refused.to_string().contains("read-only"), "{refused}");
    assert_eq!(standby.admin_sql("SHOW in_hot_standby")?, "on");

    standby.promote()?;
    assert!(!standby.in_recovery()?);
    assert!(!standby_dir.join("standby.signal").exists());
    standby.admin_sql("INSERT INTO replicated VALUES (3)")?;
    assert_eq!(standby.admin_sql("SELECT count(*) FROM replicated")?, "3");
    // The old primary goes on by itself.
    assert_eq!(primary.admin_sql("SELECT count(*) FROM replicated")?, "2");

    let primary_dir = primary_cluster.data_directory().to_owned();
    drop(standby);
    assert!(!standby_dir.exists(), "the standby's directory is removed");
    drop(primary);
    assert!(!primary_dir.exists());
    Ok(())
}

#[test]
fn waits_give_up_and_promoting_a_primary_fails() -> Result<(), ClusterError> {
    let primary = Temporal::builder().replication(true).build()?;
    let cluster = primary.cluster().expect("a throwaway primary");
    // A primary never streams: the wait ends at its timeout.
    let waited = cluster
        .wait_until_streaming(Duration::from_millis(300))
        .unwrap_err();
    assert!(matches!(waited, ClusterError::Timeout { .. }), "{waited}");
    // pg_ctl refuses to promote a server that is not in standby mode.
    let refused = cluster.promote().unwrap_err();
    assert!(
        refused.to_string().contains("not in standby mode"),
        "{refused}"
    );
    // A primary is promoted already.
    cluster.wait_until_promoted(Duration::from_secs(5))?;
    Ok(())
}

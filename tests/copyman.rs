//! The copy manager against a real server: one producer, several receivers, faults.

mod common;

use pg_driver::{CopyFault, CopyManager, transfer};

async fn count(db: &pg_driver::Connection, table: &str) -> i64 {
    db.query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap()
}

#[tokio::test]
async fn transfer_to_three_receivers_makes_three_identical_tables() {
    let sandbox = common::temporal().sandbox().unwrap();
    let source = sandbox.connect().await.unwrap();
    let producer = source
        .prepare("COPY (SELECT i, md5(i::text) FROM generate_series(1, 10000) i) TO STDOUT")
        .await
        .unwrap();
    let mut targets = Vec::new();
    let mut receivers = Vec::new();
    for n in 0..3 {
        let db = sandbox.connect().await.unwrap();
        db.execute(&format!("CREATE TABLE r{n} (i int, h text)"))
            .await
            .unwrap();
        receivers.push(db.prepare(&format!("COPY r{n} FROM STDIN")).await.unwrap());
        targets.push(db);
    }
    let progress = transfer(&producer, &receivers).await.unwrap();
    assert_eq!(progress.messages, 10000);
    assert!(progress.bytes > 10000 * 35);
    for n in 0..3 {
        assert_eq!(count(&source, &format!("r{n}")).await, 10000);
    }
    let differing = "SELECT count(*) FROM ((SELECT * FROM r0 EXCEPT SELECT * FROM r1) \
                     UNION ALL (SELECT * FROM r1 EXCEPT SELECT * FROM r2)) d";
    assert_eq!(
        source.query_first::<i64, _>(differing, ()).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn a_failing_receiver_faults_alone_and_reconciles() {
    let sandbox = common::temporal().sandbox().unwrap();
    let source = sandbox.connect().await.unwrap();
    // Row 30000 repeats row 1: the receiver with a unique index fails there.
    let producer = source
        .prepare(
            "COPY (SELECT CASE WHEN i = 30000 THEN 1 ELSE i END FROM generate_series(1, 100000) i) \
             TO STDOUT",
        )
        .await
        .unwrap();
    let good = sandbox.connect().await.unwrap();
    good.execute("CREATE TABLE good (i int)").await.unwrap();
    let strict = sandbox.connect().await.unwrap();
    strict
        .execute("CREATE TABLE strict (i int UNIQUE)")
        .await
        .unwrap();
    let receivers = [
        good.prepare("COPY good FROM STDIN").await.unwrap(),
        strict.prepare("COPY strict FROM STDIN").await.unwrap(),
    ];
    let mut copy = CopyManager::new(&producer, &receivers).unwrap();
    let mut faults = 0;
    while let Some(step) = copy.next().await {
        match step {
            Ok(_) => {}
            Err(CopyFault::Receiver {
                receiver, error, ..
            }) => {
                faults += 1;
                assert_eq!(receiver, 1);
                assert!(error.is_a(&pg_exceptions::UniqueError), "{error}");
                assert_eq!(copy.receivers(), [0]);
                // The problem is dealt with: the receiver takes what comes from now on.
                strict
                    .execute("ALTER TABLE strict DROP CONSTRAINT strict_i_key")
                    .await
                    .unwrap();
                copy.reconcile(1).unwrap();
                assert_eq!(copy.receivers(), [0, 1]);
            }
            Err(other) => panic!("unexpected fault: {other}"),
        }
    }
    assert_eq!(faults, 1);
    assert!(
        copy.reconcile(0).is_err(),
        "a receiver that has not faulted"
    );
    let rows = copy.finish().await.into_result().unwrap();
    assert_eq!(rows[0], 100000);
    assert_eq!(count(&good, "good").await, 100000);
    // The failed COPY left nothing; the reconciled one holds only what came after the fault.
    let later = count(&strict, "strict").await;
    assert_eq!(rows[1] as i64, later);
    assert!(later > 0 && later < 70000, "{later}");
    let first_kept: i32 = strict
        .query_first("SELECT min(i) FROM strict", ())
        .await
        .unwrap();
    assert!(first_kept > 30000, "{first_kept}");
}

#[tokio::test]
async fn a_failing_producer_and_no_receivers_left() {
    let sandbox = common::temporal().sandbox().unwrap();
    let source = sandbox.connect().await.unwrap();
    let killer = sandbox.connect().await.unwrap();
    let target = sandbox.connect().await.unwrap();
    target.execute("CREATE TABLE t (i int)").await.unwrap();
    let receiver = target.prepare("COPY t FROM STDIN").await.unwrap();
    let producer = source
        .prepare("COPY (SELECT i FROM generate_series(1, 5000000) i) TO STDOUT")
        .await
        .unwrap();
    let mut copy = CopyManager::new(&producer, std::slice::from_ref(&receiver)).unwrap();
    copy.next().await.unwrap().unwrap();
    let pid = source.backend_id().unwrap();
    killer
        .execute(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
    let fault = loop {
        match copy.next().await {
            Some(Ok(_)) => continue,
            Some(Err(fault)) => break fault,
            None => panic!("the producer's loss went unnoticed"),
        }
    };
    match fault {
        CopyFault::Producer(error) => assert!(error.is_disconnection(), "{error}"),
        other => panic!("a producer fault, not {other}"),
    }
    // The data is incomplete: ending the copy keeps nothing, and says why.
    let error = copy.finish().await.into_result().unwrap_err();
    assert!(error.is_disconnection(), "{error}");
    assert_eq!(count(&target, "t").await, 0);

    // Every receiver failing leaves the copy with nowhere to go.
    let source = sandbox.connect().await.unwrap();
    let producer = source
        .prepare("COPY (SELECT 'not a number' FROM generate_series(1, 100)) TO STDOUT")
        .await
        .unwrap();
    let mut copy = CopyManager::new(&producer, std::slice::from_ref(&receiver)).unwrap();
    let mut saw_receiver_fault = false;
    let last = loop {
        match copy.next().await {
            Some(Ok(_)) => continue,
            Some(Err(CopyFault::Receiver { .. })) => saw_receiver_fault = true,
            Some(Err(fault)) => break Some(fault),
            None => break None,
        }
    };
    // Either the fault shows on the cycle that carried the data, or at the end.
    if !saw_receiver_fault {
        assert!(copy.finish().await.into_result().is_err());
    } else {
        assert!(matches!(last, Some(CopyFault::NoReceivers) | None));
    }
    assert_eq!(
        target.query_first::<i32, _>("SELECT 1", ()).await.unwrap(),
        1
    );
}

/// Receivers on connections of their own, each with an empty table `name{n}`; the last one's
/// table has a unique index, so a repeated value fails its COPY.
async fn receivers(
    sandbox: &pg_cluster::Sandbox<'_>,
    n: usize,
) -> (Vec<pg_driver::Connection>, Vec<pg_driver::Statement>) {
    let mut targets = Vec::new();
    let mut statements = Vec::new();
    for i in 0..n {
        let db = sandbox.connect().await.unwrap();
        let unique = if i + 1 == n { " UNIQUE" } else { "" };
        db.execute(&format!("CREATE TABLE r{i} (i int{unique})"))
            .await
            .unwrap();
        statements.push(db.prepare(&format!("COPY r{i} FROM STDIN")).await.unwrap());
        targets.push(db);
    }
    (targets, statements)
}

/// Rows in `r0` … `r{n-1}`, each counted on its own connection.
async fn counts(targets: &[pg_driver::Connection]) -> Vec<i64> {
    let mut counts = Vec::new();
    for (i, db) in targets.iter().enumerate() {
        counts.push(count(db, &format!("r{i}")).await);
    }
    counts
}

#[tokio::test]
async fn a_failed_transfer_commits_nothing_on_any_receiver() {
    let sandbox = common::temporal().sandbox().unwrap();
    let source = sandbox.connect().await.unwrap();
    // A receiver fails at row 150000 (it repeats row 1); the others must not keep their part.
    let producer = source
        .prepare(
            "COPY (SELECT CASE WHEN i = 150000 THEN 1 ELSE i END \
             FROM generate_series(1, 200000) i) TO STDOUT",
        )
        .await
        .unwrap();
    let (targets, statements) = receivers(&sandbox, 3).await;
    let error = transfer(&producer, &statements).await.unwrap_err();
    assert!(error.is_a(&pg_exceptions::UniqueError), "{error}");
    assert_eq!(counts(&targets).await, [0, 0, 0]);

    // The producer fails: run() and finish() after the fault commit nothing either.
    let killer = sandbox.connect().await.unwrap();
    let source = sandbox.connect().await.unwrap();
    let producer = source
        .prepare("COPY (SELECT i FROM generate_series(1, 5000000) i) TO STDOUT")
        .await
        .unwrap();
    let mut copy = CopyManager::new(&producer, &statements[..2]).unwrap();
    copy.next().await.unwrap().unwrap();
    let pid = source.backend_id().unwrap();
    killer
        .execute(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
    let fault = loop {
        match copy.next().await {
            Some(Ok(_)) => continue,
            Some(Err(fault)) => break fault,
            None => panic!("the producer's loss went unnoticed"),
        }
    };
    assert!(matches!(fault, CopyFault::Producer(_)), "{fault}");
    let error = copy.finish().await.into_result().unwrap_err();
    assert!(error.is_disconnection(), "{error}");
    assert_eq!(counts(&targets[..2]).await, [0, 0]);
}

#[tokio::test]
async fn an_abandoned_transfer_commits_nothing() {
    let sandbox = common::temporal().sandbox().unwrap();
    let source = sandbox.connect().await.unwrap();
    let producer = source
        .prepare("COPY (SELECT i FROM generate_series(1, 5000000) i) TO STDOUT")
        .await
        .unwrap();
    let (targets, statements) = receivers(&sandbox, 2).await;
    let mut others = Vec::new();
    for _ in 0..2 {
        others.push(sandbox.connect().await.unwrap());
    }
    // Counted on connections of their own, once the receivers had time to end their COPY (a
    // request on a receiver's own connection would cut its COPY short whatever the manager
    // did).
    let settled = async || {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        counts(&others).await
    };
    // The manager dropped after some cycles.
    let mut copy = CopyManager::new(&producer, &statements).unwrap();
    for _ in 0..5 {
        copy.next().await.unwrap().unwrap();
    }
    drop(copy);
    assert_eq!(settled().await, [0, 0]);
    // transfer() given up by a timeout.
    let given_up = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        transfer(&producer, &statements),
    )
    .await;
    assert!(
        given_up.is_err(),
        "the transfer finished within the timeout"
    );
    assert_eq!(settled().await, [0, 0]);
    for db in &targets {
        assert_eq!(db.query_first::<i32, _>("SELECT 7", ()).await.unwrap(), 7);
    }
    // The producer's connection is in sync too.
    assert_eq!(
        source.query_first::<i32, _>("SELECT 8", ()).await.unwrap(),
        8
    );
}

#[tokio::test]
async fn call_receivers_a_null_producer_and_a_report_per_receiver() {
    use pg_driver::{CallReceiver, CopyReceiver, NullProducer, ReceiverOutcome};
    use std::sync::{Arc, Mutex};

    let sandbox = common::temporal().sandbox().unwrap();
    let source = sandbox.connect().await.unwrap();
    let producer = source
        .prepare("COPY (SELECT i FROM generate_series(1, 3000) i) TO STDOUT")
        .await
        .unwrap();
    let (targets, statements) = receivers(&sandbox, 2).await;
    // A closure receives every line; another fails at the cycle carrying line 2000.
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    let collecting = CallReceiver::new(move |pieces| {
        sink.lock().unwrap().extend(pieces.iter().cloned());
        Ok(())
    });
    let failing =
        CallReceiver::new(
            move |pieces| match pieces.iter().any(|p| &p[..] == b"2000\n") {
                false => Ok(()),
                true => Err(pg_exceptions::Error::client(
                    &pg_exceptions::OperationError,
                    "the closure gives up",
                )),
            },
        );
    let list: Vec<CopyReceiver> = vec![
        statements[0].clone().into(),
        collecting.into(),
        failing.into(),
    ];
    let mut copy = CopyManager::with(&producer, list).unwrap();
    let mut faults = 0;
    while let Some(step) = copy.next().await {
        if let Err(fault) = step {
            faults += 1;
            assert!(
                matches!(fault, CopyFault::Receiver { receiver: 2, .. }),
                "{fault}"
            );
        }
    }
    assert_eq!(faults, 1);
    assert_eq!(copy.total().messages, 3000);
    // Going on past the fault: the others commit, and the report says what became of each.
    let report = copy.finish().await;
    assert_eq!(report.total.messages, 3000);
    let outcomes: Vec<_> = report.receivers.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            ReceiverOutcome::Finished,
            ReceiverOutcome::Finished,
            ReceiverOutcome::Faulted
        ]
    );
    assert_eq!(report.rows(), [3000, 3000, 0]);
    assert_eq!(report.receivers[2].errors.len(), 1);
    assert!(report.receivers[2].errors[0].message().contains("gives up"));
    assert!(!report.is_complete());
    assert_eq!(report.receivers[0].rows, 3000);
    assert_eq!(report.receivers[1].rows, 3000);
    assert_eq!(got.lock().unwrap().len(), 3000);
    assert_eq!(&got.lock().unwrap()[41][..], b"42\n");
    assert_eq!(count(&targets[0], "r0").await, 3000);

    // A null producer: the receivers begin and end, empty.
    let copy = CopyManager::with(NullProducer, [&statements[1]]).unwrap();
    let report = copy.run().await.unwrap();
    assert_eq!(report.1, [0]);
    assert_eq!(count(&targets[1], "r1").await, 0);
}

#[test]
fn the_blocking_copy_manager() {
    use pg_driver::blocking::{self, CopyManager as BlockingManager};
    use pg_driver::{CallReceiver, ReceiverOutcome};
    use std::sync::{Arc, Mutex};

    let sandbox = common::temporal().sandbox().unwrap();
    let iri = sandbox.iri();
    let source = blocking::open(&iri).unwrap();
    let producer = source
        .prepare("COPY (SELECT i FROM generate_series(1, 20000) i) TO STDOUT")
        .unwrap();
    let mut targets = Vec::new();
    let mut statements = Vec::new();
    for i in 0..2 {
        let db = blocking::open(&iri).unwrap();
        let unique = if i == 1 { " UNIQUE" } else { "" };
        db.execute(&format!("CREATE TABLE b{i} (i int{unique})"))
            .unwrap();
        statements.push(db.prepare(&format!("COPY b{i} FROM STDIN")).unwrap());
        targets.push(db);
    }
    let count = |db: &blocking::Connection, table: &str| -> i64 {
        db.prepare(&format!("SELECT count(*) FROM {table}"))
            .unwrap()
            .first(())
            .unwrap()
    };
    // All or nothing, and a closure beside the statements.
    let heard = Arc::new(Mutex::new(0usize));
    let ear = heard.clone();
    let call = CallReceiver::new(move |pieces| {
        *ear.lock().unwrap() += pieces.len();
        Ok(())
    });
    let list: Vec<blocking::CopyReceiver> = vec![
        statements[0].clone().into(),
        statements[1].clone().into(),
        call.into(),
    ];
    let manager = BlockingManager::with(&producer, list);
    let (progress, rows) = manager.run().unwrap();
    assert_eq!(progress.messages, 20000);
    assert_eq!(rows, [20000, 20000, 20000]);
    assert_eq!(*heard.lock().unwrap(), 20000);
    assert_eq!(count(&targets[0], "b0"), 20000);
    assert_eq!(count(&targets[1], "b1"), 20000);

    // Again: b1's unique index fails its COPY, and run() commits nothing anywhere.
    let error = blocking::transfer(&producer, &statements).unwrap_err();
    assert!(error.is_a(&pg_exceptions::UniqueError), "{error}");
    assert_eq!(count(&targets[0], "b0"), 20000);
    // report() goes on past the fault: b0 receives again and commits, b1 faults.
    let report = BlockingManager::new(&producer, &statements)
        .report()
        .unwrap();
    let outcomes: Vec<_> = report.receivers.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [ReceiverOutcome::Finished, ReceiverOutcome::Faulted]
    );
    assert_eq!(report.rows(), [20000, 0]);
    assert!(report.receivers[1].errors[0].is_a(&pg_exceptions::UniqueError));
    assert_eq!(count(&targets[0], "b0"), 40000);
    assert_eq!(count(&targets[1], "b1"), 20000);
}

//! Advisory locks against a real server: contention between sessions, re-entrance, guards.

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use pg_driver::{ALock, Connection, LockId, LockMode};
use pg_exceptions::{OperationError, ParameterError};

/// Lock identifiers of this test process's own (advisory locks are database-wide).
fn ids(n: usize) -> Vec<i64> {
    static NEXT: AtomicI64 = AtomicI64::new(0);
    let base = i64::from(std::process::id()) << 20;
    (0..n)
        .map(|_| base + NEXT.fetch_add(1, Ordering::Relaxed))
        .collect()
}

/// How many advisory locks the session holds, as the server sees it.
async fn held_by(observer: &Connection, db: &Connection) -> i64 {
    observer
        .query_first(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1",
            (db.backend_id().unwrap(),),
        )
        .await
        .unwrap()
}

/// Waits until `check` holds, within a bound.
async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(Instant::now() < deadline, "the condition never held");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn share_and_exclusive_contend_as_they_should() {
    let sandbox = common::temporal().sandbox().unwrap();
    let (a, b, c) = (
        sandbox.connect().await.unwrap(),
        sandbox.connect().await.unwrap(),
        sandbox.connect().await.unwrap(),
    );
    let id = ids(1);
    let share_a = ALock::share(&a, id.clone());
    let share_b = ALock::new(&b, LockMode::Share, id.clone());
    let exclusive_c = ALock::exclusive(&c, id.clone());
    assert_eq!(share_a.mode(), LockMode::Share);
    assert_eq!(share_a.identifiers(), [LockId::Key(id[0])]);
    // Shared holders coexist; an exclusive one cannot join them.
    assert!(share_a.acquire(false).await.unwrap());
    assert!(share_b.acquire(false).await.unwrap());
    assert!(share_a.locked() && share_b.locked());
    assert!(!exclusive_c.acquire(false).await.unwrap());
    assert!(!exclusive_c.locked());
    share_a.release().await.unwrap();
    assert!(!exclusive_c.acquire(false).await.unwrap());
    share_b.release().await.unwrap();
    // Exclusive: no one else, shared or not.
    assert!(exclusive_c.acquire(false).await.unwrap());
    assert!(!share_a.acquire(false).await.unwrap());
    assert!(
        !ALock::exclusive(&b, id.clone())
            .acquire(false)
            .await
            .unwrap()
    );
    exclusive_c.release().await.unwrap();
    assert!(share_a.acquire(false).await.unwrap());
    share_a.release().await.unwrap();
    assert_eq!(held_by(&c, &a).await, 0);
}

#[tokio::test]
async fn a_blocking_acquire_waits_for_the_release() {
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect().await.unwrap();
    let b = sandbox.connect().await.unwrap();
    let id = ids(1);
    for (held, wanted) in [
        (LockMode::Exclusive, LockMode::Share),
        (LockMode::Share, LockMode::Exclusive),
    ] {
        let holder = ALock::new(&a, held, id.clone());
        assert!(holder.acquire(true).await.unwrap());
        let waiter = ALock::new(&b, wanted, id.clone());
        let start = Instant::now();
        let waiting = tokio::spawn({
            let waiter = waiter.clone();
            async move {
                let got = waiter.acquire(true).await.unwrap();
                (got, start.elapsed())
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished());
        holder.release().await.unwrap();
        let (got, waited) = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the waiter gets the lock")
            .unwrap();
        assert!(got && waited >= Duration::from_millis(250), "{waited:?}");
        assert!(waiter.locked());
        waiter.release().await.unwrap();
    }
}

#[tokio::test]
async fn acquiring_is_reentrant() {
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect().await.unwrap();
    let b = sandbox.connect().await.unwrap();
    let id = ids(2);
    let lock = ALock::exclusive(&a, id.clone());
    let other = ALock::exclusive(&b, id.clone());
    assert!(lock.acquire(true).await.unwrap());
    assert!(lock.clone().acquire(false).await.unwrap());
    // Only the outermost acquire went to the server: one hold per identifier.
    assert_eq!(held_by(&b, &a).await, 2);
    lock.release().await.unwrap();
    assert!(lock.locked());
    assert!(!other.acquire(false).await.unwrap());
    lock.release().await.unwrap();
    assert!(!lock.locked());
    assert!(other.acquire(false).await.unwrap());
    other.release().await.unwrap();
    let error = lock.release().await.unwrap_err();
    assert!(error.is_a(&OperationError), "{error}");
}

#[tokio::test]
async fn a_partial_acquire_releases_what_it_took() {
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect().await.unwrap();
    let b = sandbox.connect().await.unwrap();
    let id = ids(3);
    let middle = ALock::exclusive(&b, [id[1]]);
    assert!(middle.acquire(false).await.unwrap());
    let all = ALock::exclusive(&a, id.clone());
    assert!(!all.acquire(false).await.unwrap());
    assert!(!all.locked());
    assert_eq!(held_by(&b, &a).await, 0);
    let ends = ALock::exclusive(&b, [id[0], id[2]]);
    assert!(ends.acquire(false).await.unwrap());
    ends.release().await.unwrap();
    middle.release().await.unwrap();
    assert!(all.acquire(false).await.unwrap());
    assert_eq!(held_by(&b, &a).await, 3);
    all.release().await.unwrap();
    assert_eq!(held_by(&b, &a).await, 0);
}

#[tokio::test]
async fn release_without_acquire_and_empty_locks_are_errors() {
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect().await.unwrap();
    let lock = ALock::exclusive(&a, ids(1));
    let error = lock.release().await.unwrap_err();
    assert!(error.is_a(&OperationError), "{error}");
    assert!(!lock.locked());
    let empty = ALock::exclusive(&a, Vec::<i64>::new());
    let error = empty.acquire(true).await.unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
}

#[tokio::test]
async fn a_closed_connection_holds_no_lock() {
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect().await.unwrap();
    let b = sandbox.connect().await.unwrap();
    let id = ids(1);
    let lock = ALock::exclusive(&a, id.clone());
    assert!(lock.acquire(true).await.unwrap());
    a.close();
    assert!(!lock.locked());
    // The count is still owed, but nothing goes to the server.
    lock.release().await.unwrap();
    let other = ALock::exclusive(&b, id);
    eventually(|| {
        let other = other.clone();
        async move { other.acquire(false).await.unwrap() }
    })
    .await;
    other.release().await.unwrap();
}

#[tokio::test]
async fn pairs_are_their_own_identifiers() {
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect().await.unwrap();
    let b = sandbox.connect().await.unwrap();
    let key = ids(1)[0];
    let pair = ((key >> 32) as i32, key as i32);
    let lock = ALock::exclusive(&a, [pair]);
    assert_eq!(lock.identifiers(), [LockId::Pair(pair.0, pair.1)]);
    assert!(lock.acquire(false).await.unwrap());
    assert!(!ALock::share(&b, [pair]).acquire(false).await.unwrap());
    // The key with the same bits is a different lock.
    let same_bits = ALock::exclusive(&b, [key]);
    assert!(same_bits.acquire(false).await.unwrap());
    same_bits.release().await.unwrap();
    // Keys and pairs mix in one lock.
    let mixed = ALock::new(&b, LockMode::Share, [LockId::Key(key), LockId::from(pair)]);
    assert!(!mixed.acquire(false).await.unwrap());
    lock.release().await.unwrap();
    assert!(mixed.acquire(false).await.unwrap());
    assert_eq!(held_by(&a, &b).await, 2);
    mixed.release().await.unwrap();
}

#[tokio::test]
async fn guards_and_closures_release() {
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect().await.unwrap();
    let b = sandbox.connect().await.unwrap();
    let id = ids(1);
    let lock = ALock::exclusive(&a, id.clone());
    let other = ALock::exclusive(&b, id.clone());
    {
        let guard = lock.guard().await.unwrap();
        assert!(guard.lock().locked());
        assert!(other.try_guard().await.unwrap().is_none());
    }
    // Dropped: the release was queued without waiting.
    eventually(|| {
        let other = other.clone();
        async move { other.acquire(false).await.unwrap() }
    })
    .await;
    assert!(lock.try_guard().await.unwrap().is_none());
    other.release().await.unwrap();
    let guard = lock.try_guard().await.unwrap().expect("free");
    guard.release().await.unwrap();
    assert!(!lock.locked());
    let inside = lock.with(|| async { held_by(&b, &a).await }).await.unwrap();
    assert_eq!(inside, 1);
    assert_eq!(held_by(&b, &a).await, 0);
}

#[tokio::test]
async fn a_cancelled_acquire_leaves_nothing_held() {
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect().await.unwrap();
    let b = sandbox.connect().await.unwrap();
    let id = ids(2);
    let holder = ALock::exclusive(&a, [id[1]]);
    assert!(holder.acquire(true).await.unwrap());
    let waiter = ALock::exclusive(&b, id.clone());
    let gave_up = tokio::time::timeout(Duration::from_millis(200), waiter.acquire(true)).await;
    assert!(gave_up.is_err());
    assert!(!waiter.locked());
    // The first identifier was taken before the wait on the second was given up.
    assert_eq!(held_by(&a, &b).await, 1);
    holder.release().await.unwrap();
    // The abandoned request takes the lock once it is free, and is undone at once.
    eventually(|| async { held_by(&a, &b).await == 0 }).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(held_by(&a, &b).await, 0);
    assert!(waiter.acquire(false).await.unwrap());
    assert_eq!(held_by(&a, &b).await, 2);
    waiter.release().await.unwrap();
}

#[test]
fn blocking_locks() {
    use pg_driver::blocking::ALock;
    let sandbox = common::temporal().sandbox().unwrap();
    let a = sandbox.connect_blocking().unwrap();
    let b = sandbox.connect_blocking().unwrap();
    let id = ids(2);
    let share_a = ALock::share(&a, id.clone());
    let share_b = ALock::share(&b, id.clone());
    let exclusive_b = ALock::exclusive(&b, id.clone());
    assert!(share_a.acquire(false).unwrap());
    assert!(share_b.acquire(false).unwrap());
    assert!(!exclusive_b.acquire(false).unwrap());
    share_b.release().unwrap();
    // A blocking acquire in another thread waits for the release.
    let waiter = exclusive_b.clone();
    let start = Instant::now();
    let thread = std::thread::spawn(move || {
        let got = waiter.acquire(true).unwrap();
        (got, start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!thread.is_finished());
    // Re-entrant: two acquires, two releases.
    assert!(share_a.acquire(true).unwrap());
    share_a.release().unwrap();
    assert!(share_a.locked());
    share_a.release().unwrap();
    let (got, waited) = thread.join().unwrap();
    assert!(got && waited >= Duration::from_millis(250), "{waited:?}");
    assert!(!share_a.acquire(false).unwrap());
    exclusive_b.release().unwrap();
    let error = exclusive_b.release().unwrap_err();
    assert!(error.is_a(&OperationError), "{error}");
    // Guards wait for the server when dropped; closures release afterwards.
    {
        let _guard = share_a.guard().unwrap();
        assert!(exclusive_b.try_guard().unwrap().is_none());
    }
    assert!(exclusive_b.try_guard().unwrap().is_some());
    let value = share_a.with(|| 42).unwrap();
    assert_eq!(value, 42);
    assert!(!share_a.locked());
    let key = ids(1)[0];
    let pair = ALock::exclusive(&a, [((key >> 32) as i32, key as i32), (0, key as i32)]);
    assert!(pair.acquire(false).unwrap());
    a.close();
    assert!(!pair.locked());
}

//! Concurrency: atomic increments, consume-once, readers during writes,
//! two stores (as two processes) on one file.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::TimeZone;
use common::*;
use kavach_store_core::prelude::*;
use kavach_store_sqlite::{SqliteOptions, SqliteStore, rusqlite};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_increments_count_sixty_four() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let (_, a) = user_and_agent(store.as_ref()).await;
    let window = chrono::Utc.timestamp_opt(1_774_234_500, 0).unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (store, agent) = (store.clone(), a.id.clone());
            tokio::spawn(async move {
                store
                    .increment_rate_limit(&agent, "tool:x", window)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut counts: Vec<i64> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        (1..=64).collect::<Vec<_>>(),
        "every caller saw a distinct count"
    );
    assert_eq!(
        store
            .get_rate_limit(&a.id, "tool:x", window)
            .await
            .unwrap()
            .unwrap()
            .count,
        64
    );
    println!("64 concurrent increments: final count 64, counts 1..=64 each seen once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_one_time_token_is_consumed_exactly_once() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let token = OneTimeToken {
        id: "t1".into(),
        token_hash: "hash".into(),
        purpose: TokenPurpose::EmailVerify,
        identifier: "a@example.com".into(),
        expires_at: now() + chrono::Duration::hours(1),
        created_at: now(),
        ..OneTimeToken::default()
    };
    store.create(token).await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .consume_one_time_token("hash", None, now())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let winners = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|r| r.as_ref().unwrap().is_some())
        .count();
    assert_eq!(winners, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_progress_while_a_write_transaction_is_open() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let (u, a) = user_and_agent(store.as_ref()).await;
    let tx = store.begin_transaction().await.unwrap();
    for i in 0..100 {
        tx.create_audit_log(audit(&format!("e{i}"), &a.id, &u.id, now()))
            .await
            .unwrap();
    }
    // The transaction stays open (writer held) while 4 tasks read.
    let open = Arc::new(AtomicBool::new(true));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (store, open, reads, hash) = (
                store.clone(),
                open.clone(),
                reads.clone(),
                a.token_hash.clone(),
            );
            tokio::spawn(async move {
                while open.load(Ordering::Relaxed) {
                    assert!(
                        store
                            .find_agent_by_token_hash(&hash)
                            .await
                            .unwrap()
                            .is_some()
                    );
                    let uncommitted = store
                        .count_audit_logs(&AuditFilter::default())
                        .await
                        .unwrap();
                    assert_eq!(uncommitted, 0, "readers never see uncommitted rows");
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = reads.load(Ordering::Relaxed);
    open.store(false, Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    tx.commit().await.unwrap();
    assert!(
        during > 50,
        "only {during} reads completed in 300 ms while the transaction was open"
    );
    assert_eq!(
        store
            .count_audit_logs(&AuditFilter::default())
            .await
            .unwrap(),
        100
    );
    println!("reads completed during an open write transaction (300 ms, 4 tasks): {during}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inserts_from_many_tasks_all_land() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let (u, a) = user_and_agent(store.as_ref()).await;
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let (store, u, a) = (store.clone(), u.id.clone(), a.id.clone());
            tokio::spawn(async move {
                for i in 0..25 {
                    store
                        .create_audit_log(audit(&format!("e{t}-{i}"), &a, &u, now()))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .for_each(Result::unwrap);
    assert_eq!(
        store
            .count_audit_logs(&AuditFilter::agent(a.id))
            .await
            .unwrap(),
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_share_the_write_lock() {
    // Two stores have separate connections, like two processes: they
    // serialise on SQLite's file lock (BEGIN IMMEDIATE / busy_timeout).
    let path =
        std::env::temp_dir().join(format!("kavach-two-{}.db", uuid::Uuid::now_v7().simple()));
    let a = Arc::new(SqliteOptions::file(&path).readers(1).open().await.unwrap());
    let b = Arc::new(SqliteOptions::file(&path).readers(1).open().await.unwrap());
    let (_, agent) = user_and_agent(a.as_ref()).await;
    let window = chrono::Utc.timestamp_opt(1_774_234_500, 0).unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let agent = agent.id.clone();
            tokio::spawn(async move {
                store
                    .increment_rate_limit(&agent, "tool:y", window)
                    .await
                    .unwrap()
            })
        })
        .collect();
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .for_each(|r| {
            r.unwrap();
        });
    assert_eq!(
        b.get_rate_limit(&agent.id, "tool:y", window)
            .await
            .unwrap()
            .unwrap()
            .count,
        40
    );
    println!(
        "40 increments split over two stores on one file: {:?}",
        started.elapsed()
    );
    drop((a, b));
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_beyond_the_reader_count_queue_and_all_complete() {
    let store = Arc::new(SqliteOptions::temporary().readers(2).open().await.unwrap());
    let (_, a) = user_and_agent(store.as_ref()).await;
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (store, hash) = (store.clone(), a.token_hash.clone());
            tokio::spawn(async move {
                store
                    .find_agent_by_token_hash(&hash)
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let found = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(found, 200);
}

#[tokio::test]
async fn a_panicking_job_fails_its_caller_and_leaves_the_threads_serving() {
    let store = SqliteOptions::temporary().readers(1).open().await.unwrap();
    let err = store
        .with_read_connection(|_| -> rusqlite::Result<()> { panic!("caller bug") })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    let err = store
        .with_connection(|_| -> rusqlite::Result<()> { panic!("caller bug") })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    let (u, _) = user_and_agent(&store).await;
    assert!(store.get_user(&u.id).await.unwrap().is_some());
}

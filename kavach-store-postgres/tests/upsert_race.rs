//! Concurrent first increments of one rate-limit bucket: the row's primary
//! key is derived from the bucket, so racing inserts collide on two unique
//! indexes at once (the `ON CONFLICT` target and the primary key).

mod common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use common::TestDb;
use conformance_tests::fixtures::{Variant, sample_row};
use kavach_store_core::prelude::*;
use kavach_store_postgres::PgStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_first_increments_never_fail() {
    let Some(db) = TestDb::new("racing_first_increments_never_fail").await else {
        return;
    };
    let store = Arc::new(
        PgStore::connect_with(&common::url(), db.options().max_connections(8))
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let users = table_by_name("kavach_users").unwrap();
    let mut u = sample_row(users, Variant::Minimal, &[]);
    u[0] = "u1".into();
    store.insert_rows(users, vec![u]).await.unwrap();
    let agents = table_by_name("kavach_agents").unwrap();
    let mut a = sample_row(agents, Variant::Minimal, &[("owner_id", "u1".into())]);
    a[0] = "a1".into();
    store.insert_rows(agents, vec![a]).await.unwrap();
    for w in 0..40 {
        let window = Utc
            .timestamp_millis_opt(1_774_234_500_000 + w * 300_000)
            .unwrap();
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.increment_rate_limit("a1", "tool", window).await })
            })
            .collect();
        let mut counts = Vec::new();
        for t in tasks {
            counts.push(
                t.await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("window {w}: {e:?}")),
            );
        }
        counts.sort();
        assert_eq!(counts, (1..=32).collect::<Vec<i64>>());
    }
    // The same race with every increment in a transaction of its own: each
    // attempt runs under a savepoint, so losing a race aborts nothing.
    for w in 40..60 {
        let window = Utc
            .timestamp_millis_opt(1_774_234_500_000 + w * 300_000)
            .unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move {
                    let tx = s.begin().await?;
                    let n = tx.increment_rate_limit("a1", "tool", window).await?;
                    tx.commit().await?;
                    Ok::<i64, StoreError>(n)
                })
            })
            .collect();
        let mut counts = Vec::new();
        for t in tasks {
            counts.push(
                t.await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("window {w} in a transaction: {e:?}")),
            );
        }
        counts.sort();
        assert_eq!(counts, (1..=16).collect::<Vec<i64>>());
    }
    store.close().await;
    db.finish().await;
}

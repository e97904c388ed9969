//! The store's transactions and the caller's own SQL inside them.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kavach_store_core::prelude::*;
use kavach_store_sqlite::{SqliteOptions, SqliteStore};

/// A table of the caller's own, next to KavachOS's.
async fn with_orders_table(store: &SqliteStore) {
    store
        .with_connection(|c| {
            c.execute_batch("CREATE TABLE orders (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES kavach_agents(id))")
        })
        .await
        .unwrap();
}

async fn orders(store: &SqliteStore) -> i64 {
    store
        .with_read_connection(|c| c.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0)))
        .await
        .unwrap()
}

#[tokio::test]
async fn caller_sql_commits_with_the_store() {
    let store = SqliteStore::open_temporary().await.unwrap();
    with_orders_table(&store).await;
    let owner = store.create_user(user("owner")).await.unwrap();

    let tx = store.begin_transaction().await.unwrap();
    tx.create_agent(agent("a1", &owner.id, "h1")).await.unwrap();
    // The caller's statement sees the agent inserted in the same transaction
    // (its foreign key is checked against it).
    tx.with_connection(|c| c.execute("INSERT INTO orders (id, agent_id) VALUES ('o1', 'a1')", []))
        .await
        .unwrap();
    // Outside, nothing yet.
    assert!(store.get_agent("a1").await.unwrap().is_none());
    assert_eq!(orders(&store).await, 0);
    tx.commit().await.unwrap();

    assert!(store.get_agent("a1").await.unwrap().is_some());
    assert_eq!(orders(&store).await, 1);
}

#[tokio::test]
async fn caller_sql_rolls_back_with_the_store_explicitly_and_on_drop() {
    let store = SqliteStore::open_temporary().await.unwrap();
    with_orders_table(&store).await;
    let owner = store.create_user(user("owner")).await.unwrap();

    let tx = store.begin_transaction().await.unwrap();
    tx.create_agent(agent("a1", &owner.id, "h1")).await.unwrap();
    tx.with_connection(|c| c.execute("INSERT INTO orders VALUES ('o1', 'a1')", []))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(store.get_agent("a1").await.unwrap().is_none());
    assert_eq!(orders(&store).await, 0);

    {
        let tx = store.begin_transaction().await.unwrap();
        tx.create_agent(agent("a2", &owner.id, "h2")).await.unwrap();
        tx.with_connection(|c| c.execute("INSERT INTO orders VALUES ('o2', 'a2')", []))
            .await
            .unwrap();
        // dropped without commit
    }
    assert!(store.get_agent("a2").await.unwrap().is_none());
    assert_eq!(orders(&store).await, 0);

    // A caller error is mapped like the store's own and leaves the
    // transaction usable.
    let tx = store.begin_transaction().await.unwrap();
    let err = tx
        .with_connection(|c| c.execute("INSERT INTO orders VALUES ('o3', 'no-such-agent')", []))
        .await
        .unwrap_err();
    assert!(err.is_reference(), "{err:?}");
    tx.create_agent(agent("a3", &owner.id, "h3")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.get_agent("a3").await.unwrap().is_some());
}

#[tokio::test]
async fn caller_sql_cannot_end_the_transaction() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let tx = store.begin_transaction().await.unwrap();
    tx.create_user(user("u1")).await.unwrap();
    let err = tx
        .with_connection(|c| c.execute_batch("COMMIT"))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    // The transaction is gone: further use fails instead of running in autocommit.
    assert!(tx.create_user(user("u2")).await.is_err());
    drop(tx);
    // The store keeps working.
    store.create_user(user("u3")).await.unwrap();
}

#[tokio::test]
async fn dyn_transactions_nest_as_savepoints() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let store: &dyn KavachStore = &store;
    let tx = store.begin().await.unwrap();
    tx.create_user(user("outer")).await.unwrap();
    {
        let inner = tx.begin().await.unwrap();
        inner.create_user(user("kept")).await.unwrap();
        inner.commit().await.unwrap();
    }
    {
        let inner = tx.begin().await.unwrap();
        inner.create_user(user("undone")).await.unwrap();
        assert!(
            inner.get_user("undone").await.unwrap().is_some(),
            "reads see own writes"
        );
        inner.rollback().await.unwrap();
    }
    {
        let inner = tx.begin().await.unwrap();
        inner.create_user(user("dropped")).await.unwrap();
    }
    assert_eq!(tx.count::<User>(Cond::All).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut ids: Vec<String> = store
        .find_all::<User>(Cond::All, &[], None)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["kept", "outer"]);
}

#[tokio::test]
async fn transaction_helper_commits_on_ok_and_rolls_back_on_err() {
    let store = SqliteStore::open_temporary().await.unwrap();
    transaction(&store, |tx| {
        Box::pin(async move { tx.create_user(user("ok")).await.map(drop) })
    })
    .await
    .unwrap();
    let err = transaction(&store, |tx| {
        Box::pin(async move {
            tx.create_user(user("gone")).await?;
            tx.create_user(user("ok")).await.map(drop) // Conflict
        })
    })
    .await
    .unwrap_err();
    assert!(err.is_conflict());
    assert!(store.get_user("gone").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn other_writes_wait_for_the_transaction_then_proceed() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let tx = store.begin_transaction().await.unwrap();
    tx.create_user(user("in-tx")).await.unwrap();
    let other = store.clone();
    let waiting = tokio::spawn(async move { other.create_user(user("outside")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiting.is_finished(),
        "a write waits while a transaction holds the writer"
    );
    tx.commit().await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(store.count::<User>(Cond::All).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_blocked_longer_than_busy_timeout_fails_retryably_instead_of_hanging() {
    let store = SqliteOptions::temporary()
        .busy_timeout(Duration::from_millis(200))
        .open()
        .await
        .unwrap();
    let tx = store.begin_transaction().await.unwrap();
    // The same task writes outside its own transaction: on one SQLite
    // connection this would self-deadlock; here it times out like SQLITE_BUSY.
    let started = Instant::now();
    let err = store.create_user(user("outside")).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(150));
    // A second transaction times out the same way.
    assert!(store.begin_transaction().await.unwrap_err().is_retryable());
    tx.commit().await.unwrap();
    store.create_user(user("after")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_begin_does_not_leave_the_writer_locked() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let tx = store.begin_transaction().await.unwrap();
    // A second begin queued behind the first, then abandoned.
    let abandoned =
        tokio::time::timeout(Duration::from_millis(50), store.begin_transaction()).await;
    assert!(abandoned.is_err(), "the second begin was still waiting");
    tx.commit().await.unwrap();
    // The abandoned transaction started and was rolled back at once.
    tokio::time::timeout(Duration::from_secs(2), store.create_user(user("u")))
        .await
        .expect("writer not stuck")
        .unwrap();
}

#[tokio::test]
async fn in_memory_store_is_shared_by_its_connections() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    let (u, a) = user_and_agent(&store).await;
    // Reads run on reader connections: they see the writer's commits.
    assert_eq!(
        store
            .find_agent_by_token_hash(&a.token_hash)
            .await
            .unwrap()
            .unwrap()
            .owner_id,
        u.id
    );
    let tx = store.begin_transaction().await.unwrap();
    tx.create_user(user("uncommitted")).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(store.get_user("uncommitted").await.unwrap().is_none());
    // Two in-memory stores are independent.
    let other = SqliteStore::open_in_memory().await.unwrap();
    assert_eq!(other.count::<User>(Cond::All).await.unwrap(), 0);
}

//! The store's transactions, and store operations inside the caller's own
//! sqlx transaction (with a table of the test's own).

mod common;

use common::TestDb;
use conformance_tests::fixtures::{Variant, sample_row};
use kavach_store_core::prelude::*;
use kavach_store_postgres::PgStore;

fn users() -> &'static TableDef {
    table_by_name("kavach_users").expect("users")
}

fn user_row(id: &str) -> Row {
    let def = users();
    let mut row = sample_row(def, Variant::Minimal, &[]);
    row[def.primary_key_index()] = id.into();
    row
}

async fn count_users(store: &dyn RowStore, id: &str) -> u64 {
    store
        .count_rows(users(), &Cond::eq("id", id))
        .await
        .unwrap()
}

async fn orders(store: &PgStore, note: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM app_orders WHERE note = $1")
        .bind(note)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_transactions_commit_roll_back_and_nest() {
    let Some(db) = TestDb::new("own_transactions_commit_roll_back_and_nest").await else {
        return;
    };
    let store = db.store().await;

    // Commit: visible after, invisible to other readers before.
    let tx = store.begin().await.unwrap();
    tx.insert_rows(users(), vec![user_row("c1")]).await.unwrap();
    assert_eq!(count_users(tx.as_ref(), "c1").await, 1);
    assert_eq!(
        count_users(&store, "c1").await,
        0,
        "uncommitted rows are invisible outside"
    );
    tx.commit().await.unwrap();
    assert_eq!(count_users(&store, "c1").await, 1);

    // Explicit rollback, and drop without commit.
    let tx = store.begin().await.unwrap();
    tx.insert_rows(users(), vec![user_row("r1")]).await.unwrap();
    tx.rollback().await.unwrap();
    {
        let tx = store.begin().await.unwrap();
        tx.insert_rows(users(), vec![user_row("d1")]).await.unwrap();
    }
    assert_eq!(count_users(&store, "r1").await, 0);
    assert_eq!(count_users(&store, "d1").await, 0);

    // Nested = savepoint: inner rollback undoes only the inner work.
    let outer = store.begin().await.unwrap();
    outer
        .insert_rows(users(), vec![user_row("o1")])
        .await
        .unwrap();
    {
        let inner = outer.begin().await.unwrap();
        inner
            .insert_rows(users(), vec![user_row("i1")])
            .await
            .unwrap();
        inner.rollback().await.unwrap();
    }
    {
        let inner = outer.begin().await.unwrap();
        inner
            .insert_rows(users(), vec![user_row("i2")])
            .await
            .unwrap();
        // The outer transaction cannot be used while the nested one is open.
        assert!(outer.count_rows(users(), &Cond::All).await.is_err());
        inner.commit().await.unwrap();
    }
    {
        // Dropped nested transaction: rolled back to its savepoint.
        let inner = outer.begin().await.unwrap();
        inner
            .insert_rows(users(), vec![user_row("i3")])
            .await
            .unwrap();
    }
    assert_eq!(count_users(outer.as_ref(), "i1").await, 0);
    assert_eq!(count_users(outer.as_ref(), "i2").await, 1);
    assert_eq!(count_users(outer.as_ref(), "i3").await, 0);
    outer.commit().await.unwrap();
    assert_eq!(count_users(&store, "o1").await, 1);
    assert_eq!(count_users(&store, "i2").await, 1);

    // A failed statement aborts the transaction on PostgreSQL: later
    // operations and commit report it instead of a silent rollback.
    let tx = store.begin().await.unwrap();
    tx.insert_rows(users(), vec![user_row("p1")]).await.unwrap();
    assert!(
        tx.insert_rows(users(), vec![user_row("c1")])
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(tx.count_rows(users(), &Cond::All).await.is_err());
    assert!(tx.commit().await.is_err());
    assert_eq!(count_users(&store, "p1").await, 0);

    // ...but a failure inside a nested transaction, rolled back, leaves the
    // outer one usable.
    let tx = store.begin().await.unwrap();
    tx.insert_rows(users(), vec![user_row("q1")]).await.unwrap();
    {
        let inner = tx.begin().await.unwrap();
        assert!(
            inner
                .insert_rows(users(), vec![user_row("c1")])
                .await
                .unwrap_err()
                .is_conflict()
        );
        inner.rollback().await.unwrap();
    }
    tx.insert_rows(users(), vec![user_row("q2")]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        count_users(&store, "q1").await + count_users(&store, "q2").await,
        2
    );

    // The pool is healthy afterwards (no connection left inside a transaction).
    for _ in 0..8 {
        assert_eq!(count_users(&store, "d1").await, 0);
    }
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_transaction_commits_and_rolls_back_with_ours() {
    let Some(db) = TestDb::new("callers_transaction_commits_and_rolls_back_with_ours").await else {
        return;
    };
    let store = db.store().await;
    sqlx::raw_sql("CREATE TABLE app_orders (id BIGSERIAL PRIMARY KEY, user_id TEXT NOT NULL REFERENCES kavach_users(id), note TEXT NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();

    // Commit: the caller's row and ours land together, and the caller gets
    // the transaction back to commit it.
    let mut tx = store.pool().begin().await.unwrap();
    let attached = store.attach_connection(&mut tx);
    attached
        .insert_rows(users(), vec![user_row("buyer")])
        .await
        .unwrap();
    drop(attached);
    sqlx::query("INSERT INTO app_orders (user_id, note) VALUES ($1, 'committed')")
        .bind("buyer")
        .execute(&mut *tx)
        .await
        .unwrap();
    let attached = store.attach(tx);
    assert_eq!(count_users(&attached, "buyer").await, 1);
    assert_eq!(
        count_users(&store, "buyer").await,
        0,
        "not visible before the caller commits"
    );
    attached.into_inner().commit().await.unwrap();
    assert_eq!(count_users(&store, "buyer").await, 1);
    assert_eq!(orders(&store, "committed").await, 1);

    // Rollback: both disappear.
    let mut tx = store.pool().begin().await.unwrap();
    sqlx::query("INSERT INTO app_orders (user_id, note) VALUES ('buyer', 'rolled back')")
        .execute(&mut *tx)
        .await
        .unwrap();
    let attached = store.attach(tx);
    attached
        .insert_rows(users(), vec![user_row("ghost")])
        .await
        .unwrap();
    // Our own queries through the wrapper, without taking it apart:
    let n: i64 = attached
        .with_connection(async |conn| {
            sqlx::query_scalar("SELECT COUNT(*) FROM app_orders")
                .fetch_one(conn)
                .await
                .unwrap()
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    attached.into_inner().rollback().await.unwrap();
    assert_eq!(count_users(&store, "ghost").await, 0);
    assert_eq!(orders(&store, "rolled back").await, 0);

    // Nested store transaction inside the caller's: a savepoint.
    let mut tx = store.pool().begin().await.unwrap();
    {
        let attached = store.attach_connection(&mut tx);
        attached
            .insert_rows(users(), vec![user_row("kept")])
            .await
            .unwrap();
        let inner = attached.begin().await.unwrap();
        inner
            .insert_rows(users(), vec![user_row("undone")])
            .await
            .unwrap();
        inner.rollback().await.unwrap();
        // A domain operation that opens its own transaction nests too.
        let agent = Agent {
            id: "ag1".into(),
            owner_id: "kept".into(),
            name: "n".into(),
            token_hash: "th".into(),
            token_prefix: "kv_".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            ..Default::default()
        };
        attached
            .create_agent_with_permissions(agent, &[])
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO app_orders (user_id, note) VALUES ('kept', 'nested')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count_users(&store, "kept").await, 1);
    assert_eq!(count_users(&store, "undone").await, 0);
    assert_eq!(
        store.count::<Agent>(Cond::eq("id", "ag1")).await.unwrap(),
        1
    );
    assert_eq!(orders(&store, "nested").await, 1);

    // A bare connection: `begin` on the wrapper opens a real transaction.
    let mut conn = store.pool().acquire().await.unwrap();
    {
        let attached = store.attach_connection(&mut conn);
        let t = attached.begin().await.unwrap();
        t.insert_rows(users(), vec![user_row("bare")])
            .await
            .unwrap();
        drop(t);
    }
    // The queued ROLLBACK ran before the connection's next statement.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kavach_users WHERE id = 'bare'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 0);
    drop(conn);
    assert_eq!(count_users(&store, "bare").await, 0);
    store.close().await;
    db.finish().await;
}

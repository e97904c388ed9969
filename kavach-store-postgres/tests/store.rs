//! The row primitives against a real server: round trips, atomic
//! primitives under concurrency, query rendering, errors.

mod common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use common::TestDb;
use conformance_tests::fixtures::{Variant, insert_with_parents, sample_row};
use kavach_store_core::prelude::*;
use kavach_store_postgres::{PgStore, PgStoreOptions};

fn table(name: &str) -> &'static TableDef {
    table_by_name(name).expect("table")
}

fn set(def: &TableDef, row: &mut Row, column: &str, value: impl Into<Value>) {
    row[def.expect_column(column)] = value.into();
}

/// A user row with a given id.
async fn user(store: &PgStore, id: &str) {
    let def = table("kavach_users");
    let mut row = sample_row(def, Variant::Minimal, &[]);
    set(def, &mut row, "id", id);
    store.insert_rows(def, vec![row]).await.expect("user");
}

async fn agent(store: &PgStore, id: &str, owner: &str, token_hash: &str) -> Row {
    let def = table("kavach_agents");
    let mut row = sample_row(def, Variant::Minimal, &[("owner_id", owner.into())]);
    set(def, &mut row, "id", id);
    set(def, &mut row, "token_hash", token_hash);
    store
        .insert_rows(def, vec![row.clone()])
        .await
        .expect("agent");
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_round_trips_on_our_schema() {
    let Some(db) = TestDb::new("every_table_round_trips_on_our_schema").await else {
        return;
    };
    let store = db.store().await;
    for &t in all_tables() {
        for variant in [Variant::Minimal, Variant::Full, Variant::Empty] {
            let row = insert_with_parents(&store, t, variant).await;
            let key = row[t.primary_key_index()].clone();
            let got = store
                .select_rows(&Select::new(t, Cond::Cmp(t.primary_key, CmpOp::Eq, key)))
                .await
                .unwrap();
            assert_eq!(got, vec![row], "{} {variant:?}", t.name);
        }
    }
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn atomic_primitives_hold_under_concurrency() {
    let Some(db) = TestDb::new("atomic_primitives_hold_under_concurrency").await else {
        return;
    };
    let store = Arc::new(
        PgStore::connect_with(&common::url(), db.options().max_connections(8))
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    user(&store, "u1").await;
    agent(&store, "a1", "u1", "h1").await;

    // 64 concurrent increments of one bucket: exactly 64.
    let window = Utc.timestamp_millis_opt(1_774_234_500_000).unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .increment_rate_limit("a1", "tool:x", window)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort();
    assert_eq!(counts, (1..=64).collect::<Vec<i64>>());

    // Consume-once: 32 racers flip used=false → true; exactly one gets the row.
    let def = table("kavach_one_time_tokens");
    let mut row = sample_row(def, Variant::Minimal, &[]);
    set(def, &mut row, "id", "ott1");
    set(def, &mut row, "used", false);
    store.insert_rows(def, vec![row]).await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let update = Update {
                    table: def,
                    filter: Cond::eq("id", "ott1").and(Cond::eq("used", false)),
                    set: vec![Assign::Set("used", true.into())],
                };
                store.update_rows_returning(&update).await.unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        let rows = t.await.unwrap();
        if let Some(r) = rows.first() {
            assert_eq!(
                r[def.expect_column("used")],
                Value::Bool(true),
                "returned as after the update"
            );
            winners += 1;
        }
    }
    assert_eq!(winners, 1);

    // Delete-returning race: each row to exactly one caller.
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .delete_rows_returning(&Delete {
                        table: def,
                        filter: Cond::eq("id", "ott1"),
                    })
                    .await
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let mut deleted = 0;
    for t in tasks {
        deleted += t.await.unwrap();
    }
    assert_eq!(deleted, 1);
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_order_and_aggregates() {
    let Some(db) = TestDb::new("conditions_order_and_aggregates").await else {
        return;
    };
    let store = db.store().await;
    let users = table("kavach_users");
    // Names chosen so byte order differs from a case-insensitive or
    // linguistic order: "B" < "a" < "b" < "é".
    let names = ["a", "B", "é", "b", "50%_off", "50xxoff"];
    let rows: Vec<Row> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut r = sample_row(users, Variant::Minimal, &[]);
            set(users, &mut r, "id", format!("u{i}"));
            set(users, &mut r, "name", *name);
            r
        })
        .collect();
    store.insert_rows(users, rows).await.unwrap();
    let id_col = users.expect_column("id");
    let name_col = users.expect_column("name");
    let names_of = |rows: Vec<Row>| {
        rows.into_iter()
            .map(|r| r[name_col].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };

    // Byte order on text.
    static BY_NAME: &[OrderBy] = &[OrderBy::asc("name")];
    let all = store
        .select_rows(&Select::new(users, Cond::IsNotNull("name")).order(BY_NAME))
        .await
        .unwrap();
    assert_eq!(names_of(all), ["50%_off", "50xxoff", "B", "a", "b", "é"]);
    // Range comparison in byte order too (keyset pagination relies on it).
    let after_b = store
        .select_rows(&Select::new(users, Cond::gt("name", "B")).order(BY_NAME))
        .await
        .unwrap();
    assert_eq!(names_of(after_b), ["a", "b", "é"]);

    // LIKE: ASCII case-insensitive, wildcards in the text are literal.
    let like = |p: LikePattern| Select::new(users, Cond::Like("name", p)).order(BY_NAME);
    assert_eq!(
        names_of(
            store
                .select_rows(&like(LikePattern::Prefix("b".into())))
                .await
                .unwrap()
        ),
        ["B", "b"]
    );
    assert_eq!(
        names_of(
            store
                .select_rows(&like(LikePattern::Contains("%_".into())))
                .await
                .unwrap()
        ),
        ["50%_off"]
    );
    assert_eq!(
        names_of(
            store
                .select_rows(&like(LikePattern::Contains("É".into())))
                .await
                .unwrap()
        ),
        Vec::<String>::new()
    );

    // IN (one array parameter), empty IN, NULL comparisons, empty AND / OR.
    let q = Select::new(users, Cond::is_in("id", ["u0", "u2", "nope"])).order(BY_NAME);
    assert_eq!(names_of(store.select_rows(&q).await.unwrap()), ["a", "é"]);
    assert_eq!(
        store
            .count_rows(users, &Cond::In("id", vec![]))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .count_rows(users, &Cond::Cmp("name", CmpOp::Ne, Value::Null))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.count_rows(users, &Cond::And(vec![])).await.unwrap(),
        6
    );
    assert_eq!(store.count_rows(users, &Cond::Or(vec![])).await.unwrap(), 0);

    // Limit / offset.
    let page = store
        .select_rows(
            &Select::new(users, Cond::All)
                .order(BY_NAME)
                .limit(2)
                .offset(2),
        )
        .await
        .unwrap();
    assert_eq!(names_of(page), ["B", "a"]);
    assert!(
        store
            .select_rows(&Select::new(users, Cond::All).limit(0))
            .await
            .unwrap()
            .is_empty()
    );

    // Sums, grouped (sum desc, then group asc with NULL first) and not.
    user(&store, "owner").await;
    agent(&store, "ag", "owner", "hash-ag").await;
    let audit = table("kavach_audit_logs");
    let mut entries = Vec::new();
    for (i, (resource, duration)) in [("r1", 5), ("r2", 7), ("r1", 2), ("r3", 7)]
        .iter()
        .enumerate()
    {
        let mut r = sample_row(
            audit,
            Variant::Minimal,
            &[("agent_id", "ag".into()), ("user_id", "owner".into())],
        );
        set(audit, &mut r, "id", format!("au{i}"));
        set(audit, &mut r, "resource", *resource);
        set(audit, &mut r, "duration_ms", *duration as i64);
        entries.push(r);
    }
    store.insert_rows(audit, entries).await.unwrap();
    let grouped = store
        .sum_rows(&Sum {
            table: audit,
            filter: Cond::All,
            column: "duration_ms",
            group_by: Some("resource"),
            limit: Some(2),
        })
        .await
        .unwrap();
    assert_eq!(
        grouped,
        vec![(Value::from("r1"), 7), (Value::from("r2"), 7)]
    );
    let total = store
        .sum_rows(&Sum {
            table: audit,
            filter: Cond::eq("resource", "none"),
            column: "duration_ms",
            group_by: None,
            limit: None,
        })
        .await
        .unwrap();
    assert_eq!(total, vec![(Value::Null, 0)]);

    // Multi-row insert is all or nothing.
    let mut dup = Vec::new();
    for id in ["new1", "u0"] {
        let mut r = sample_row(users, Variant::Minimal, &[]);
        set(users, &mut r, "id", id);
        dup.push(r);
    }
    let err = store.insert_rows(users, dup).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        store
            .count_rows(users, &Cond::eq("id", "new1"))
            .await
            .unwrap(),
        0
    );
    assert!(names.len() + 1 == store.count_rows(users, &Cond::All).await.unwrap() as usize);
    let _ = id_col;
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_by_sqlstate() {
    let Some(db) = TestDb::new("errors_map_by_sqlstate").await else {
        return;
    };
    let store = db.store().await;
    user(&store, "u1").await;
    agent(&store, "a1", "u1", "same-hash").await;

    // 23505 with the constraint's name.
    let def = table("kavach_agents");
    let mut row = sample_row(def, Variant::Minimal, &[("owner_id", "u1".into())]);
    set(def, &mut row, "token_hash", "same-hash");
    match store.insert_rows(def, vec![row.clone()]).await.unwrap_err() {
        StoreError::Conflict {
            table,
            constraint,
            source,
        } => {
            assert_eq!(table, "kavach_agents");
            assert_eq!(constraint, "kavach_agents_token_hash_key");
            assert!(source.is_some());
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    // 23503: missing parent, and a parent still referenced (NO ACTION).
    set(def, &mut row, "token_hash", "other-hash");
    set(def, &mut row, "owner_id", "ghost");
    assert!(
        store
            .insert_rows(def, vec![row])
            .await
            .unwrap_err()
            .is_reference()
    );
    let users = table("kavach_users");
    let err = store
        .delete_rows(&Delete {
            table: users,
            filter: Cond::eq("id", "u1"),
        })
        .await
        .unwrap_err();
    assert!(err.is_reference(), "{err}");

    // A NUL byte cannot be stored in TEXT: InvalidInput.
    let mut bad = sample_row(users, Variant::Minimal, &[]);
    set(users, &mut bad, "name", "nul\0byte");
    assert!(
        store
            .insert_rows(users, vec![bad])
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    // A value of the wrong kind is refused before reaching the server.
    let err = store
        .count_rows(users, &Cond::eq("created_at", "yesterday"))
        .await
        .unwrap_err();
    assert!(err.is_invalid_input());

    // Cascades follow the table definitions.
    let perms = table("kavach_permissions");
    let p = sample_row(perms, Variant::Minimal, &[("agent_id", "a1".into())]);
    store.insert_rows(perms, vec![p]).await.unwrap();
    store
        .delete_rows(&Delete {
            table: def,
            filter: Cond::eq("id", "a1"),
        })
        .await
        .unwrap();
    assert_eq!(store.count_rows(perms, &Cond::All).await.unwrap(), 0);

    store.close().await;
    db.finish().await;
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    let options = PgStoreOptions::default().acquire_timeout(std::time::Duration::from_millis(500));
    let err = PgStore::connect_with("postgres://nobody:secret@127.0.0.1:1/none", options)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        !format!("{err:?}").contains("secret"),
        "error must not leak the password"
    );
    let bad = PgStore::connect("mysql://x").await.unwrap_err();
    assert!(bad.is_invalid_input());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_use_custom_plans_and_debug_hides_secrets() {
    let Some(db) = TestDb::new("connections_use_custom_plans_and_debug_hides_secrets").await else {
        return;
    };
    let store = db.store().await;
    let mode: String = sqlx::query_scalar("SHOW plan_cache_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "force_custom_plan");
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(schema, db.schema);
    // Shapes are rendered once: the same lookup twice leaves one cache entry.
    for hash in ["x", "y"] {
        assert!(
            store
                .find_agent_by_token_hash(hash)
                .await
                .unwrap()
                .is_none()
        );
    }
    let debug = format!("{store:?}");
    assert!(debug.contains("cached_statements: 1"), "{debug}");
    assert!(!debug.contains("postgres://"), "{debug}");
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serialization_failures_and_pool_exhaustion_are_retryable() {
    let Some(db) = TestDb::new("serialization_failures_and_pool_exhaustion_are_retryable").await
    else {
        return;
    };
    let store = db.store().await;
    user(&store, "u1").await;
    let users = table("kavach_users");
    let rename = |name: &str| Update {
        table: users,
        filter: Cond::eq("id", "u1"),
        set: vec![Assign::Set("name", name.into())],
    };

    // A REPEATABLE READ transaction whose snapshot predates a concurrent
    // update of the same row: PostgreSQL refuses its update with 40001.
    let mut tx = store
        .pool()
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await
        .unwrap();
    sqlx::query("SELECT 1 FROM kavach_users")
        .execute(&mut *tx)
        .await
        .unwrap();
    store.update_rows(&rename("outside")).await.unwrap();
    let attached = store.attach(tx);
    let err = attached.update_rows(&rename("inside")).await.unwrap_err();
    assert!(matches!(err, StoreError::Serialization { .. }), "{err:?}");
    assert!(err.is_retryable());
    attached.into_inner().rollback().await.unwrap();

    // Every connection busy past the acquire timeout: Unavailable.
    let small = PgStore::connect_with(
        &common::url(),
        db.options()
            .max_connections(1)
            .lane_connections(0)
            .acquire_timeout(std::time::Duration::from_millis(200)),
    )
    .await
    .unwrap();
    let held = small.begin().await.unwrap();
    let err = small.count_rows(users, &Cond::All).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    held.rollback().await.unwrap();
    assert_eq!(small.count_rows(users, &Cond::All).await.unwrap(), 1);
    small.close().await;
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lane_connections_recover_after_the_server_drops_them() {
    let Some(db) = TestDb::new("lane_connections_recover_after_the_server_drops_them").await else {
        return;
    };
    let name = format!("kv_lane_{}", uuid::Uuid::now_v7().simple());
    let store = PgStore::connect_with(
        &common::url(),
        db.options().application_name(&name).lane_connections(2),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    user(&store, "u1").await;
    let users = table("kavach_users");
    // Two lane connections, idle.
    let (a, b) = tokio::join!(
        store.count_rows(users, &Cond::All),
        store.count_rows(users, &Cond::All)
    );
    assert_eq!((a.unwrap(), b.unwrap()), (1, 1));
    // The server drops every connection of this store (a restart, an idle kill).
    let killed: i64 = sqlx::query_scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&name)
    .fetch_one(db.admin.pool())
    .await
    .unwrap();
    assert!(killed >= 2, "{killed}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // Reads run again on a fresh connection: the caller sees no error.
    assert_eq!(store.count_rows(users, &Cond::All).await.unwrap(), 1);
    // Writes are not retried (they may have been applied): at most one
    // Unavailable per dead connection, then fresh connections.
    let mut unavailable = 0;
    for i in 0..4 {
        let mut row = sample_row(users, Variant::Minimal, &[]);
        set(users, &mut row, "id", format!("w{i}"));
        match store.insert_rows(users, vec![row]).await {
            Ok(()) => {}
            Err(e @ StoreError::Unavailable { .. }) => {
                assert!(e.is_retryable());
                unavailable += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(unavailable <= 1, "{unavailable}");
    assert_eq!(
        store.count_rows(users, &Cond::All).await.unwrap(),
        5 - unavailable
    );
    store.close().await;
    db.finish().await;
}

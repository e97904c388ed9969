//! Engine tests for what the conformance suite may not reach: index
//! maintenance, access paths agreeing with scans, savepoints, the writer
//! lock, statement atomicity and the SQL corner cases of the engine.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use kavach_store_core::prelude::*;

use crate::MemoryStore;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_774_000_000 + seconds, 0)
        .single()
        .unwrap()
}

fn user(id: &str) -> User {
    User {
        id: id.into(),
        email: format!("{id}@example.com"),
        created_at: at(0),
        updated_at: at(0),
        ..Default::default()
    }
}

fn agent(id: &str, owner: &str) -> Agent {
    Agent {
        id: id.into(),
        owner_id: owner.into(),
        name: format!("agent {id}"),
        token_hash: format!("hash-{id}"),
        token_prefix: "kv_".into(),
        created_at: at(0),
        updated_at: at(0),
        ..Default::default()
    }
}

fn session(id: &str, user_id: &str) -> Session {
    Session {
        id: id.into(),
        user_id: user_id.into(),
        expires_at: at(3600),
        created_at: at(0),
        metadata: None,
    }
}

async fn store_with_users(ids: &[&str]) -> MemoryStore {
    let store = MemoryStore::new();
    for id in ids {
        store.create(user(id)).await.unwrap();
    }
    store
}

fn constraint(err: &StoreError) -> &str {
    match err {
        StoreError::Conflict { constraint, .. } | StoreError::Reference { constraint, .. } => {
            constraint
        }
        other => panic!("not a constraint error: {other:?}"),
    }
}

#[tokio::test]
async fn unique_and_primary_key_conflicts_name_their_constraint() {
    let store = store_with_users(&["u1"]).await;
    let err = store.create(user("u1")).await.unwrap_err();
    assert!(err.is_conflict());
    assert_eq!(constraint(&err), "kavach_users_pkey");

    let mut dup = user("u2");
    dup.email = "u1@example.com".into();
    let err = store.create(dup).await.unwrap_err();
    assert_eq!(constraint(&err), "kavach_users_email_key");
    assert_eq!(store.count::<User>(Cond::All).await.unwrap(), 1);
}

#[tokio::test]
async fn nulls_never_conflict_in_unique_keys() {
    let store = MemoryStore::new();
    // `username` is unique and nullable: any number of NULLs.
    for id in ["a", "b", "c"] {
        store.create(user(id)).await.unwrap();
    }
    let mut named = user("d");
    named.username = Some("dee".into());
    store.create(named.clone()).await.unwrap();
    named.id = "e".into();
    named.email = "e@example.com".into();
    assert!(store.create(named).await.unwrap_err().is_conflict());
}

#[tokio::test]
async fn an_insert_batch_is_all_or_nothing() {
    let store = MemoryStore::new();
    let mut batch = vec![user("a"), user("b"), user("c")];
    batch[2].email = batch[0].email.clone();
    assert!(store.create_many(&batch).await.unwrap_err().is_conflict());
    assert_eq!(store.count::<User>(Cond::All).await.unwrap(), 0);
}

#[tokio::test]
async fn references_are_checked_on_insert_and_update_but_not_for_null() {
    let store = store_with_users(&["u1"]).await;
    let err = store.create(agent("a1", "nobody")).await.unwrap_err();
    assert!(err.is_reference());
    assert_eq!(constraint(&err), "kavach_agents_owner_id_fkey");

    // tenant_id is a nullable reference: NULL is not checked.
    store.create(agent("a1", "u1")).await.unwrap();
    let patch = AgentPatch {
        owner_id: Some("ghost".into()),
        ..Default::default()
    };
    let err = store.update::<Agent>("a1", &patch).await.unwrap_err();
    assert!(err.is_reference());
    assert_eq!(
        store.get::<Agent>("a1").await.unwrap().unwrap().owner_id,
        "u1"
    );
}

#[tokio::test]
async fn deleting_a_parent_cascades_recursively_or_is_refused() {
    let store = store_with_users(&["u1", "u2"]).await;
    let family = RefreshTokenFamily {
        id: "f1".into(),
        user_id: "u1".into(),
        absolute_expires_at: at(100),
        revoked: false,
        created_at: at(0),
    };
    store.create(family).await.unwrap();
    for i in 0..3 {
        let token = RefreshToken {
            id: format!("t{i}"),
            family_id: "f1".into(),
            token_hash: format!("th{i}"),
            used: false,
            expires_at: at(100),
            created_at: at(0),
        };
        store.create(token).await.unwrap();
    }
    // u1 → family (cascade) → tokens (cascade).
    store.delete::<User>("u1").await.unwrap();
    assert_eq!(
        store.count::<RefreshTokenFamily>(Cond::All).await.unwrap(),
        0
    );
    assert_eq!(store.count::<RefreshToken>(Cond::All).await.unwrap(), 0);

    // A NO ACTION child blocks the delete; the statement changes nothing.
    store.create(session("s1", "u2")).await.unwrap();
    let err = store.delete::<User>("u2").await.unwrap_err();
    assert!(err.is_reference());
    assert_eq!(constraint(&err), "kavach_sessions_user_id_fkey");
    assert!(store.get::<User>("u2").await.unwrap().is_some());
    assert!(store.get::<Session>("s1").await.unwrap().is_some());
}

// A schema of our own: parent ← child (cascade) ← grandchild, where the
// grandchild also references the parent with NO ACTION.
static PARENT: LazyLock<TableDef> = LazyLock::new(|| table("t_parent", vec![], vec![]));
static CHILD: LazyLock<TableDef> = LazyLock::new(|| {
    table(
        "t_child",
        vec![("ref_a", "t_parent", OnDelete::Cascade)],
        vec![],
    )
});
static GRANDCHILD: LazyLock<TableDef> = LazyLock::new(|| {
    table(
        "t_grandchild",
        vec![
            ("ref_a", "t_child", OnDelete::Cascade),
            ("ref_b", "t_parent", OnDelete::NoAction),
        ],
        vec![],
    )
});
static COUNTERS: LazyLock<TableDef> =
    LazyLock::new(|| table("t_counters", vec![], vec!["ref_a", "n"]));

fn column(name: &'static str, kind: ColumnKind, nullable: bool) -> ColumnDef {
    ColumnDef {
        name,
        kind,
        nullable,
        default: None,
        secret: false,
    }
}

fn table(
    name: &'static str,
    fks: Vec<(&'static str, &'static str, OnDelete)>,
    uniques: Vec<&'static str>,
) -> TableDef {
    TableDef {
        name,
        columns: vec![
            column("id", ColumnKind::Text, false),
            column("ref_a", ColumnKind::Text, true),
            column("ref_b", ColumnKind::Text, true),
            column("n", ColumnKind::Int, true),
        ],
        primary_key: "id",
        uniques: uniques
            .into_iter()
            .map(|c| UniqueDef {
                name: Box::leak(format!("{name}_{c}_key").into_boxed_str()),
                columns: vec![c].leak(),
            })
            .collect(),
        foreign_keys: fks
            .into_iter()
            .map(|(column, parent_table, on_delete)| ForeignKey {
                column,
                parent_table,
                parent_column: "id",
                on_delete,
            })
            .collect(),
        indexes: vec![
            IndexDef {
                name: "n_idx",
                columns: &["n"],
            },
            IndexDef {
                name: "a_n_idx",
                columns: &["ref_a", "n"],
            },
        ],
    }
}

fn custom_store() -> MemoryStore {
    MemoryStore::builder()
        .table(&PARENT)
        .table(&CHILD)
        .table(&GRANDCHILD)
        .table(&COUNTERS)
        .build()
}

fn r(id: &str, a: Option<&str>, b: Option<&str>, n: Option<i64>) -> Row {
    let text = |v: Option<&str>| v.map_or(Value::Null, Value::from);
    vec![
        Value::from(id),
        text(a),
        text(b),
        n.map_or(Value::Null, Value::Int),
    ]
}

#[tokio::test]
async fn no_action_children_deleted_by_the_same_statement_do_not_block() {
    let store = custom_store();
    store
        .insert_rows(&PARENT, vec![r("p", None, None, None)])
        .await
        .unwrap();
    store
        .insert_rows(&CHILD, vec![r("c", Some("p"), None, None)])
        .await
        .unwrap();
    store
        .insert_rows(&GRANDCHILD, vec![r("g", Some("c"), Some("p"), None)])
        .await
        .unwrap();
    let deleted = store
        .delete_rows(&Delete {
            table: &PARENT,
            filter: Cond::eq("id", "p"),
        })
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(store.count_rows(&GRANDCHILD, &Cond::All).await.unwrap(), 0);

    // A grandchild hanging off the parent only: refused, nothing deleted.
    store
        .insert_rows(&PARENT, vec![r("p", None, None, None)])
        .await
        .unwrap();
    store
        .insert_rows(&CHILD, vec![r("c", Some("p"), None, None)])
        .await
        .unwrap();
    store
        .insert_rows(&GRANDCHILD, vec![r("g", None, Some("p"), None)])
        .await
        .unwrap();
    let err = store
        .delete_rows(&Delete {
            table: &PARENT,
            filter: Cond::All,
        })
        .await
        .unwrap_err();
    assert_eq!(constraint(&err), "t_grandchild_ref_b_fkey");
    assert_eq!(store.count_rows(&CHILD, &Cond::All).await.unwrap(), 1);
}

#[tokio::test]
async fn changing_a_referenced_key_is_refused_while_children_point_at_it() {
    let store = custom_store();
    store
        .insert_rows(
            &PARENT,
            vec![r("p", None, None, None), r("q", None, None, None)],
        )
        .await
        .unwrap();
    store
        .insert_rows(&CHILD, vec![r("c", Some("p"), None, None)])
        .await
        .unwrap();
    let rekey = |from: &'static str| Update {
        table: &PARENT,
        filter: Cond::eq("id", from),
        set: vec![Assign::Set("id", Value::from(format!("{from}2")))],
    };
    assert!(
        store
            .update_rows(&rekey("p"))
            .await
            .unwrap_err()
            .is_reference()
    );
    assert_eq!(store.update_rows(&rekey("q")).await.unwrap(), 1);
    static BY_ID: &[OrderBy] = &[OrderBy::asc("id")];
    let ids = store
        .select_rows(&Select::new(&PARENT, Cond::All).order(BY_ID))
        .await
        .unwrap();
    assert_eq!(
        ids.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        vec![Value::from("p"), Value::from("q2")]
    );
}

#[tokio::test]
async fn indexes_follow_updates_of_indexed_columns() {
    let store = store_with_users(&["u1", "u2"]).await;
    store.create(agent("a1", "u1")).await.unwrap();
    store.create(agent("a2", "u1")).await.unwrap();

    // Unique key (token hash) and composite index (owner_id, status) change.
    let patch = AgentPatch {
        token_hash: Some("rotated".into()),
        owner_id: Some("u2".into()),
        status: Some(AgentStatus::Revoked),
        ..Default::default()
    };
    store.update::<Agent>("a1", &patch).await.unwrap();
    assert!(
        store
            .find_agent_by_token_hash("hash-a1")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .find_agent_by_token_hash("rotated")
            .await
            .unwrap()
            .unwrap()
            .id,
        "a1"
    );
    let by = |owner: &'static str, status: AgentStatus| {
        let store = store.clone();
        async move {
            let filter = Cond::eq("owner_id", owner).and(Cond::eq("status", status.as_str()));
            store
                .find_all::<Agent>(filter, &[], None)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(by("u1", AgentStatus::Active).await, vec!["a2"]);
    assert!(by("u1", AgentStatus::Revoked).await.is_empty());
    assert_eq!(by("u2", AgentStatus::Revoked).await, vec!["a1"]);
    // The old hash is free again, the new one taken.
    let mut again = agent("a3", "u2");
    again.token_hash = "hash-a1".into();
    store.create(again).await.unwrap();
    let mut clash = agent("a4", "u2");
    clash.token_hash = "rotated".into();
    assert!(store.create(clash).await.unwrap_err().is_conflict());
    // The foreign-key index moved too: u1 has one agent left, u2 two.
    assert_eq!(
        store
            .count::<Agent>(Cond::eq("owner_id", "u2"))
            .await
            .unwrap(),
        2
    );
    assert!(store.delete::<User>("u1").await.unwrap_err().is_reference());
    store.delete::<Agent>("a2").await.unwrap();
    store.delete::<User>("u1").await.unwrap();
}

#[tokio::test]
async fn a_statement_that_swaps_unique_values_is_checked_at_its_end() {
    let store = custom_store();
    let table: &'static TableDef = &COUNTERS;
    store
        .insert_rows(
            table,
            vec![
                r("x", Some("1"), None, Some(1)),
                r("y", Some("2"), None, Some(2)),
            ],
        )
        .await
        .unwrap();
    // n = n + 1 moves x onto the value y frees in the same statement.
    let update = Update {
        table,
        filter: Cond::All,
        set: vec![Assign::Add("n", 1)],
    };
    assert_eq!(store.update_rows(&update).await.unwrap(), 2);
    // Both rows onto one unique value: refused, nothing changed.
    let clash = Update {
        table,
        filter: Cond::All,
        set: vec![Assign::Set("ref_a", Value::from("same"))],
    };
    assert!(store.update_rows(&clash).await.unwrap_err().is_conflict());
    let rows = store
        .select_rows(&Select::new(table, Cond::eq("ref_a", "1")))
        .await
        .unwrap();
    assert_eq!(rows, vec![r("x", Some("1"), None, Some(2))]);
}

/// Lookups through keys and indexes return exactly what a scan returns.
#[tokio::test]
async fn index_lookups_agree_with_scans() {
    let store = MemoryStore::builder().table(&CHILD_FREE).build();
    let rows: Vec<Row> = (0..300)
        .map(|i| {
            let a = (i % 7 != 0).then(|| format!("a{}", i % 13));
            let n = (i % 5 != 0).then_some(i64::from(i % 11));
            r(&format!("id{i:03}"), a.as_deref(), None, n)
        })
        .collect();
    store.insert_rows(&CHILD_FREE, rows).await.unwrap();
    let conds = vec![
        Cond::eq("n", 3i64),
        Cond::eq("id", "id042"),
        Cond::is_in("id", ["id001", "id002", "id001", "nope"]),
        Cond::is_in("n", [1i64, 2, 3]),
        Cond::eq("n", 4i64).and(Cond::eq("ref_a", "a4")),
        Cond::eq("n", 4i64).and(Cond::gt("id", "id100")),
        Cond::In("n", vec![]),
        Cond::eq("n", Value::Null),
        Cond::is_in("n", [Value::Null, Value::Int(2)]),
    ];
    for cond in conds {
        let indexed = store
            .select_rows(&Select::new(&CHILD_FREE, cond.clone()))
            .await
            .unwrap();
        // An OR of one condition is never planned as a lookup: a scan.
        let scanned = store
            .select_rows(&Select::new(&CHILD_FREE, Cond::Or(vec![cond.clone()])))
            .await
            .unwrap();
        assert_eq!(indexed, scanned, "{cond:?}");
        assert_eq!(
            store.count_rows(&CHILD_FREE, &cond).await.unwrap(),
            scanned.len() as u64,
            "{cond:?}"
        );
    }
}

// Like CHILD but without references, for bulk rows.
static CHILD_FREE: LazyLock<TableDef> = LazyLock::new(|| table("t_free", vec![], vec![]));

#[tokio::test]
async fn sql_null_semantics_and_like() {
    let store = MemoryStore::builder().table(&CHILD_FREE).build();
    store
        .insert_rows(
            &CHILD_FREE,
            vec![
                r("1", Some("Hello World"), None, Some(1)),
                r("2", None, None, None),
                r("3", Some("50%_off"), None, Some(3)),
            ],
        )
        .await
        .unwrap();
    let ids = |cond: Cond| {
        let store = store.clone();
        async move {
            let rows = store
                .select_rows(&Select::new(&CHILD_FREE, cond))
                .await
                .unwrap();
            rows.into_iter()
                .map(|r| r[0].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(Cond::ne("n", 1i64)).await, vec!["3"]);
    assert_eq!(ids(Cond::lt("n", 100i64)).await, vec!["1", "3"]);
    assert!(ids(Cond::eq("n", Value::Null)).await.is_empty());
    assert!(ids(Cond::ne("n", Value::Null)).await.is_empty());
    assert_eq!(ids(Cond::IsNull("n")).await, vec!["2"]);
    assert_eq!(ids(Cond::And(vec![])).await.len(), 3);
    assert!(ids(Cond::Or(vec![])).await.is_empty());
    assert_eq!(
        ids(Cond::Like("ref_a", LikePattern::Contains("WORLD".into()))).await,
        vec!["1"]
    );
    assert_eq!(
        ids(Cond::Like("ref_a", LikePattern::Prefix("hello".into()))).await,
        vec!["1"]
    );
    assert_eq!(
        ids(Cond::Like("ref_a", LikePattern::Contains("%_".into()))).await,
        vec!["3"]
    );
    assert_eq!(
        ids(Cond::Like("ref_a", LikePattern::Contains(String::new()))).await,
        vec!["1", "3"]
    );
    assert_eq!(
        ids(Cond::CmpColumn("id", CmpOp::Lt, "ref_a")).await,
        vec!["1", "3"]
    );
}

#[tokio::test]
async fn values_are_stored_as_the_column_kind_says() {
    let store = store_with_users(&["u1"]).await;
    // Microseconds are truncated to milliseconds on write.
    let precise = Utc
        .timestamp_opt(1_774_000_000, 123_456_789)
        .single()
        .unwrap();
    let mut s = session("s1", "u1");
    s.expires_at = precise;
    store
        .insert_rows(Session::table_def(), vec![s.to_row()])
        .await
        .unwrap();
    let stored = store.get::<Session>("s1").await.unwrap().unwrap();
    assert_eq!(stored.expires_at.timestamp_subsec_nanos(), 123_000_000);
    let update = Update {
        table: Session::table_def(),
        filter: Cond::eq("id", "s1"),
        set: vec![Assign::Set(
            "expires_at",
            Value::Timestamp(precise + chrono::Duration::microseconds(5)),
        )],
    };
    let rows = store.update_rows_returning(&update).await.unwrap();
    assert_eq!(
        rows[0][2],
        Value::Timestamp(Utc.timestamp_millis_opt(1_774_000_000_123).unwrap())
    );

    // NOT NULL, types and unknown columns are InvalidInput.
    let mut row = user("u2").to_row();
    row[1] = Value::Null;
    assert!(
        store
            .insert_rows(User::table_def(), vec![row])
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    let mut row = user("u3").to_row();
    row[1] = Value::Int(5);
    assert!(
        store
            .insert_rows(User::table_def(), vec![row])
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    let bad = Update {
        table: User::table_def(),
        filter: Cond::All,
        set: vec![Assign::Set("nope", Value::Int(1))],
    };
    assert!(
        store
            .update_rows(&bad)
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    let bad = Update {
        table: User::table_def(),
        filter: Cond::All,
        set: vec![Assign::Add("email", 1)],
    };
    assert!(
        store
            .update_rows(&bad)
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    let bad = Select::new(User::table_def(), Cond::eq("nope", 1i64));
    assert!(
        store
            .select_rows(&bad)
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    // Integers 0/1 are booleans for boolean columns, in writes and conditions.
    let set = Update {
        table: User::table_def(),
        filter: Cond::eq("id", "u1"),
        set: vec![Assign::Set("banned", 1i64.into())],
    };
    store.update_rows(&set).await.unwrap();
    assert_eq!(
        store.count::<User>(Cond::eq("banned", true)).await.unwrap(),
        1
    );
    assert_eq!(
        store.count::<User>(Cond::eq("banned", 1i64)).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn ordered_pages_with_limit_and_offset() {
    let store = MemoryStore::builder().table(&CHILD_FREE).build();
    let rows: Vec<Row> = (0..50)
        .map(|i| r(&format!("{i:02}"), None, None, Some(i64::from(i % 4))))
        .collect();
    store.insert_rows(&CHILD_FREE, rows).await.unwrap();
    static ORDER: &[OrderBy] = &[OrderBy::desc("n"), OrderBy::asc("id")];
    let all = store
        .select_rows(&Select::new(&CHILD_FREE, Cond::All).order(ORDER))
        .await
        .unwrap();
    assert_eq!(all.len(), 50);
    assert!(
        all.windows(2)
            .all(|w| (w[0][3].as_i64(), w[1][0].as_str()) >= (w[1][3].as_i64(), w[0][0].as_str()))
    );
    for (offset, limit) in [(0, 1), (0, 7), (5, 7), (45, 10), (50, 3), (0, 0)] {
        let page = store
            .select_rows(
                &Select::new(&CHILD_FREE, Cond::All)
                    .order(ORDER)
                    .offset(offset)
                    .limit(limit),
            )
            .await
            .unwrap();
        let want: Vec<Row> = all
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect();
        assert_eq!(page, want, "offset {offset} limit {limit}");
    }
    // Unordered: insertion order, limit stops early.
    let first = store
        .select_rows(&Select::new(&CHILD_FREE, Cond::All).offset(2).limit(2))
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        vec![Value::from("02"), Value::from("03")]
    );
}

#[tokio::test]
async fn upsert_and_sum() {
    let store = store_with_users(&["u1"]).await;
    store.create(agent("a1", "u1")).await.unwrap();
    for _ in 0..3 {
        store
            .increment_rate_limit("a1", "read", at(0))
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .increment_rate_limit("a1", "read", at(0))
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        store
            .increment_rate_limit("a1", "write", at(0))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .increment_rate_limit("a1", "write", at(300))
            .await
            .unwrap(),
        1
    );

    let sum = |group_by: Option<&'static str>, limit: Option<u64>| Sum {
        table: RateLimit::table_def(),
        filter: Cond::All,
        column: "count",
        group_by,
        limit,
    };
    let grouped = store.sum_rows(&sum(Some("resource"), None)).await.unwrap();
    assert_eq!(
        grouped,
        vec![(Value::from("read"), 4), (Value::from("write"), 2)]
    );
    assert_eq!(
        store
            .sum_rows(&sum(Some("resource"), Some(1)))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.sum_rows(&sum(None, None)).await.unwrap(),
        vec![(Value::Null, 6)]
    );
    let none = Sum {
        filter: Cond::eq("resource", "nothing"),
        ..sum(None, None)
    };
    assert_eq!(store.sum_rows(&none).await.unwrap(), vec![(Value::Null, 0)]);

    // Conflict columns must be a key.
    let bad = Upsert {
        table: RateLimit::table_def(),
        row: vec![],
        conflict: &["resource"],
        on_conflict: vec![],
    };
    assert!(store.upsert_row(&bad).await.unwrap_err().is_invalid_input());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_and_consumers() {
    let store = store_with_users(&["u1"]).await;
    store.create(agent("a1", "u1")).await.unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.increment_rate_limit("a1", "r", at(0)).await.unwrap() })
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=64).collect::<Vec<_>>());

    let token = JwtRefreshToken {
        id: "j1".into(),
        token_hash: "jh".into(),
        user_id: "u1".into(),
        used: false,
        expires_at: at(100),
        created_at: at(0),
    };
    store.create(token).await.unwrap();
    let consume = Update {
        table: JwtRefreshToken::table_def(),
        filter: Cond::eq("token_hash", "jh").and(Cond::eq("used", false)),
        set: vec![Assign::Set("used", true.into())],
    };
    let consume = Arc::new(consume);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (store, consume) = (store.clone(), consume.clone());
            tokio::spawn(async move { store.update_rows_returning(&consume).await.unwrap().len() })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        winners += t.await.unwrap();
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn transactions_isolate_commit_and_roll_back() {
    let store = MemoryStore::new();
    let tx = store.begin().await.unwrap();
    tx.create(user("u1")).await.unwrap();
    assert!(tx.get::<User>("u1").await.unwrap().is_some());
    assert!(
        store.get::<User>("u1").await.unwrap().is_none(),
        "readers see only committed rows"
    );
    tx.commit().await.unwrap();
    assert!(store.get::<User>("u1").await.unwrap().is_some());

    let tx = store.begin().await.unwrap();
    tx.create(user("u2")).await.unwrap();
    tx.rollback().await.unwrap();
    let tx = store.begin().await.unwrap();
    tx.create(user("u3")).await.unwrap();
    drop(tx);
    assert_eq!(store.count::<User>(Cond::All).await.unwrap(), 1);

    // A failed statement inside a transaction leaves the transaction as it was.
    let tx = store.begin().await.unwrap();
    tx.create(user("u4")).await.unwrap();
    assert!(
        tx.create_many(&[user("u5"), user("u1")])
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(tx.count::<User>(Cond::All).await.unwrap(), 2);
    tx.commit().await.unwrap();
    assert_eq!(store.count::<User>(Cond::All).await.unwrap(), 2);
}

#[tokio::test]
async fn nested_transactions_are_savepoints() {
    let store = MemoryStore::new();
    let tx = store.begin().await.unwrap();
    tx.create(user("outer")).await.unwrap();
    {
        let sp = tx.begin().await.unwrap();
        sp.create(user("rolled-back")).await.unwrap();
        {
            let inner = sp.begin().await.unwrap();
            inner.create(user("inner-kept")).await.unwrap();
            inner.commit().await.unwrap();
        }
        assert!(sp.get::<User>("inner-kept").await.unwrap().is_some());
        sp.rollback().await.unwrap();
    }
    assert!(tx.get::<User>("rolled-back").await.unwrap().is_none());
    assert!(
        tx.get::<User>("inner-kept").await.unwrap().is_none(),
        "its parent savepoint rolled back"
    );
    {
        let sp = tx.begin().await.unwrap();
        sp.create(user("kept")).await.unwrap();
        sp.commit().await.unwrap();
    }
    {
        let sp = tx.begin().await.unwrap();
        sp.create(user("dropped")).await.unwrap();
        // Dropped uncommitted: rolled back.
    }
    assert!(store.get::<User>("kept").await.unwrap().is_none());
    tx.commit().await.unwrap();
    let mut ids: Vec<String> = store
        .find_all::<User>(Cond::All, &[], None)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["kept", "outer"]);
}

#[tokio::test]
async fn writers_time_out_while_a_transaction_is_open() {
    let store = MemoryStore::builder()
        .lock_timeout(Duration::from_millis(50))
        .build();
    let tx = store.begin().await.unwrap();
    let err = store.create(user("u1")).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable { .. }) && err.is_retryable(),
        "{err:?}"
    );
    assert!(store.begin().await.err().is_some_and(|e| e.is_retryable()));
    // Reads do not wait.
    assert_eq!(store.count::<User>(Cond::All).await.unwrap(), 0);
    drop(tx);
    store.create(user("u1")).await.unwrap();

    // A writer waiting less than the timeout gets through once the transaction ends.
    let store = MemoryStore::builder()
        .lock_timeout(Duration::from_secs(5))
        .build();
    let tx = store.begin().await.unwrap();
    let waiting = {
        let store = store.clone();
        tokio::spawn(async move { store.create(user("late")).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    tx.create(user("first")).await.unwrap();
    tx.commit().await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(store.count::<User>(Cond::All).await.unwrap(), 2);
}

#[tokio::test]
async fn clones_share_and_forks_copy() {
    let store = MemoryStore::new();
    let clone = store.clone();
    clone.create(user("u1")).await.unwrap();
    let fork = store.fork();
    fork.create(user("u2")).await.unwrap();
    assert_eq!(store.row_count(User::table_def()).unwrap(), 1);
    assert_eq!(fork.row_count(User::table_def()).unwrap(), 2);
    assert_eq!(store.backend_name(), "memory");
    let debug = format!("{store:?}");
    assert!(debug.contains("rows: 1"), "{debug}");
    // Unknown tables are refused, not created on the fly.
    assert!(
        store
            .count_rows(&CHILD_FREE, &Cond::All)
            .await
            .unwrap_err()
            .is_invalid_input()
    );
}

/// The hot lookups are key or index lookups, never scans.
#[tokio::test]
async fn hot_lookups_use_keys_and_indexes() {
    use crate::cond::{compile, plan};
    let store = store_with_users(&["u1"]).await;
    for i in 0..20 {
        store.create(agent(&format!("a{i}"), "u1")).await.unwrap();
    }
    let schema = store.schema();
    let state = store.snapshot();
    let t = schema.table(Agent::table_def()).unwrap();
    let (info, data) = (&schema.tables[t], &state.tables[t]);
    let access = |cond: Cond| plan(info, data, &compile(info, &cond).unwrap()).seqs();
    assert_eq!(access(Cond::eq("token_hash", "hash-a3")), Some(vec![3]));
    assert_eq!(access(Cond::eq("id", "a4")), Some(vec![4]));
    assert_eq!(access(Cond::eq("id", "nope")), Some(vec![]));
    assert_eq!(access(Cond::is_in("id", ["a5", "a1"])), Some(vec![1, 5]));
    // The foreign-key column's own index, and the composite (owner_id, status).
    assert_eq!(access(Cond::eq("owner_id", "u1")), Some((0..20).collect()));
    assert_eq!(
        access(Cond::eq("owner_id", "u1").and(Cond::eq("status", "revoked"))),
        Some(vec![])
    );
    assert_eq!(access(Cond::eq("name", "agent a1")), None);
    assert_eq!(
        access(Cond::Or(vec![Cond::eq("id", "a1"), Cond::eq("id", "a2")])),
        None
    );
}

/// With every key hash colliding, keys, indexes and references still find
/// exactly the right rows.
#[tokio::test]
async fn hash_collisions_are_resolved_by_comparing_keys() {
    let store = MemoryStore::builder()
        .table(&CHILD_FREE)
        .colliding_hashes()
        .build();
    let rows: Vec<Row> = (0..60)
        .map(|i| {
            r(
                &format!("id{i:02}"),
                Some(&format!("a{}", i % 3)),
                None,
                Some(i64::from(i % 4)),
            )
        })
        .collect();
    store.insert_rows(&CHILD_FREE, rows).await.unwrap();
    for cond in [
        Cond::eq("id", "id07"),
        Cond::eq("n", 2i64),
        Cond::eq("n", 2i64).and(Cond::eq("ref_a", "a1")),
        Cond::is_in("id", ["id01", "id59", "x"]),
    ] {
        let indexed = store
            .select_rows(&Select::new(&CHILD_FREE, cond.clone()))
            .await
            .unwrap();
        let scanned = store
            .select_rows(&Select::new(&CHILD_FREE, Cond::Or(vec![cond.clone()])))
            .await
            .unwrap();
        assert_eq!(indexed, scanned, "{cond:?}");
        assert!(!indexed.is_empty(), "{cond:?}");
    }
    let dup = store
        .insert_rows(&CHILD_FREE, vec![r("id07", None, None, None)])
        .await
        .unwrap_err();
    assert!(dup.is_conflict());

    let store = MemoryStore::builder().colliding_hashes().build();
    for id in ["u1", "u2", "u3"] {
        store.create(user(id)).await.unwrap();
    }
    store.create(agent("a1", "u2")).await.unwrap();
    store.create(session("s1", "u3")).await.unwrap();
    assert!(
        store
            .create(agent("a2", "nobody"))
            .await
            .unwrap_err()
            .is_reference()
    );
    store.delete::<User>("u1").await.unwrap();
    assert!(store.delete::<User>("u2").await.unwrap_err().is_reference());
    assert!(store.delete::<User>("u3").await.unwrap_err().is_reference());
    assert_eq!(
        store
            .find_agent_by_token_hash("hash-a1")
            .await
            .unwrap()
            .unwrap()
            .id,
        "a1"
    );
    let mut clash = user("u4");
    clash.email = "u2@example.com".into();
    assert_eq!(
        constraint(&store.create(clash).await.unwrap_err()),
        "kavach_users_email_key"
    );
    // Updating a key to a value another row holds, and to a free one.
    let taken = UserPatch {
        email: Some("u3@example.com".into()),
        ..Default::default()
    };
    assert!(
        store
            .update::<User>("u2", &taken)
            .await
            .unwrap_err()
            .is_conflict()
    );
    let free = UserPatch {
        email: Some("new@example.com".into()),
        ..Default::default()
    };
    store.update::<User>("u2", &free).await.unwrap();
    assert_eq!(
        store
            .count::<User>(Cond::eq("email", "new@example.com"))
            .await
            .unwrap(),
        1
    );
}

/// Ordered selects served by an ordered index (rows read in index order,
/// stopping early) return what sorting every match returns.
#[tokio::test]
async fn ordered_index_paths_agree_with_sorting() {
    for store in [
        MemoryStore::builder().table(&CHILD_FREE).build(),
        MemoryStore::builder()
            .table(&CHILD_FREE)
            .colliding_hashes()
            .build(),
    ] {
        let rows: Vec<Row> = (0..400)
            .map(|i| {
                let n = (i % 9 != 0).then_some(i64::from((i * 7919) % 23));
                // Ids not in insertion order, so ties on `n` must be sorted.
                r(
                    &format!("id{:03}", (i * 37) % 400),
                    Some(&format!("a{}", i % 4)),
                    None,
                    n,
                )
            })
            .collect();
        store.insert_rows(&CHILD_FREE, rows).await.unwrap();
        static DESC: &[OrderBy] = &[OrderBy::desc("n"), OrderBy::desc("id")];
        static ASC: &[OrderBy] = &[OrderBy::asc("n"), OrderBy::asc("id")];
        let keyset = Cond::Or(vec![
            Cond::lt("n", 9i64),
            Cond::eq("n", 9i64).and(Cond::lt("id", "id200")),
        ]);
        let filters = vec![
            Cond::All,
            Cond::eq("ref_a", "a3"),
            Cond::eq("ref_a", "a1").and(keyset.clone()),
            keyset,
            Cond::eq("ref_a", "a2").and(Cond::ge("n", 20i64)),
            Cond::eq("ref_a", "a2").and(Cond::gt("n", 30i64)),
            Cond::eq("ref_a", "a0").and(Cond::eq("n", 5i64)),
            Cond::eq("ref_a", "a0").and(Cond::IsNull("n")),
        ];
        for filter in filters {
            let all = store
                .select_rows(&Select::new(&CHILD_FREE, filter.clone()))
                .await
                .unwrap();
            for order in [DESC, ASC] {
                let mut want = all.clone();
                want.sort_by(|a, b| {
                    order.iter().fold(std::cmp::Ordering::Equal, |acc, o| {
                        let c = if o.column == "n" { 3 } else { 0 };
                        let ord = a[c].sql_cmp(&b[c]);
                        acc.then(if o.descending { ord.reverse() } else { ord })
                    })
                });
                for (offset, limit) in [
                    (0, None),
                    (0, Some(1)),
                    (0, Some(10)),
                    (7, Some(10)),
                    (95, Some(10)),
                ] {
                    let mut q = Select::new(&CHILD_FREE, filter.clone())
                        .order(order)
                        .offset(offset);
                    q.limit = limit;
                    let got = store.select_rows(&q).await.unwrap();
                    let expected: Vec<Row> = want
                        .iter()
                        .skip(offset as usize)
                        .take(limit.map_or(usize::MAX, |l| l as usize))
                        .cloned()
                        .collect();
                    assert_eq!(
                        got, expected,
                        "{filter:?} {order:?} offset {offset} limit {limit:?}"
                    );
                }
            }
        }
    }
}

//! Migrations: adopting databases created by KavachOS's own Postgres DDL
//! (no ledger, INTEGER columns, unquoted names) or by Prisma
//! (`timestamp(3)`, no foreign keys), idempotence, concurrency, and refusal
//! to lose data.

mod common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use common::TestDb;
use conformance_tests::fixtures::{Variant, insert_with_parents, sample_row};
use kavach_store_core::prelude::*;
use kavach_store_postgres::PgStore;

/// KavachOS v0.2.1 `createTables`, Postgres dialect (64 statements).
const KAVACHOS_DDL: &str = include_str!("fixtures/kavachos_postgres_ddl.sql");

fn table(name: &str) -> &'static TableDef {
    table_by_name(name).expect("table")
}

async fn scalar_i64(store: &PgStore, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn column_type(store: &PgStore, table: &str, column: &str) -> String {
    sqlx::query_scalar(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = (current_schema() || '.' || $1)::regclass AND attname = $2",
    )
    .bind(table)
    .bind(column)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adopts_a_database_created_by_kavachos_ddl() {
    let Some(db) = TestDb::new("adopts_a_database_created_by_kavachos_ddl").await else {
        return;
    };
    db.exec(KAVACHOS_DDL).await;
    // Rows written before adoption, the way KavachOS's SQL would.
    db.exec(
        "INSERT INTO kavach_users (id, email, created_at, updated_at) VALUES ('u1', 'a@example.com', now(), now());
         INSERT INTO kavach_agents (id, owner_id, name, type, token_hash, token_prefix, metadata, created_at, updated_at)
           VALUES ('a1', 'u1', 'bot', 'autonomous', 'hash-a1', 'kv_12345678', '{}', '2026-03-23T02:56:15.123Z', now());
         INSERT INTO kavach_sso_connections (id, org_id, provider_id, type, domain, created_at)
           VALUES ('s1', 'o1', 'p', 'oidc', 'example.com', now());
         INSERT INTO kavach_delegation_chains (id, from_agent_id, to_agent_id, permissions, expires_at, created_at)
           VALUES ('d1', 'a1', 'a1', '[]', now(), now());",
    )
    .await;

    let store = db.store_unmigrated().await;
    let report = store.migrate().await.unwrap();
    assert!(report.adopted, "{report:?}");
    assert_eq!(report.applied, vec![1]);
    assert!(report.created_tables.is_empty(), "{report:?}");
    assert!(report.added_columns.is_empty(), "{report:?}");
    // Our hot-path uniques and indexes were added; KavachOS's own were recognised.
    for index in [
        "kavach_agents_token_hash_key",
        "kavach_rate_limits_bucket_key",
        "kavach_permissions_agent_id",
    ] {
        assert!(
            report.created_indexes.iter().any(|i| i == index),
            "{index} missing from {report:?}"
        );
    }
    assert!(
        !report
            .created_indexes
            .iter()
            .any(|i| i.starts_with("kavach_login_history")),
        "{report:?}"
    );
    // No duplicate of KavachOS's 39 foreign keys.
    assert!(report.created_foreign_keys.is_empty(), "{report:?}");
    // Types were left alone, data kept.
    assert_eq!(
        column_type(&store, "kavach_delegation_chains", "depth").await,
        "integer"
    );
    assert_eq!(
        scalar_i64(&store, "SELECT COUNT(*) FROM kavach_agents").await,
        1
    );
    // Idempotent.
    assert!(store.migrate().await.unwrap().is_noop());

    // Reads of KavachOS-written rows: INTEGER columns, INTEGER 0/1 flag.
    let agent = store
        .find_agent_by_token_hash("hash-a1")
        .await
        .unwrap()
        .expect("agent");
    assert_eq!(
        agent.created_at,
        Utc.timestamp_millis_opt(1_774_234_575_123).unwrap()
    );
    let chain = store
        .select_rows(&Select::new(table("kavach_delegation_chains"), Cond::All))
        .await
        .unwrap();
    assert_eq!(
        chain[0][table("kavach_delegation_chains").expect_column("depth")],
        Value::Int(1)
    );
    let sso = store
        .select_rows(&Select::new(table("kavach_sso_connections"), Cond::All))
        .await
        .unwrap();
    assert_eq!(
        sso[0][table("kavach_sso_connections").expect_column("enabled")],
        Value::Bool(true)
    );

    // Every operation on every table works on the adopted schema.
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
    let store = Arc::new(store);
    let window = Utc.timestamp_millis_opt(1_774_234_500_000).unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.increment_rate_limit("a1", "tool", window).await.unwrap() })
        })
        .collect();
    let mut max = 0;
    for t in tasks {
        max = max.max(t.await.unwrap());
    }
    assert_eq!(max, 16);
    // 32-bit INTEGER: too large a value is refused, not truncated.
    let costs = table("kavach_cost_events");
    let mut row = sample_row(costs, Variant::Minimal, &[("agent_id", "a1".into())]);
    row[costs.expect_column("cost_micros")] = Value::Int(i64::from(i32::MAX) + 1);
    let err = store.insert_rows(costs, vec![row]).await.unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    // Cascades declared by KavachOS's DDL still apply.
    let perms = table("kavach_permissions");
    let perm = insert_with_parents(store.as_ref(), perms, Variant::Minimal).await;
    let agent_id = perm[perms.expect_column("agent_id")].clone();
    let deleted = store
        .delete_rows(&Delete {
            table: table("kavach_agents"),
            filter: Cond::Cmp("id", CmpOp::Eq, agent_id.clone()),
        })
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(
        store
            .count_rows(perms, &Cond::Cmp("agent_id", CmpOp::Eq, agent_id))
            .await
            .unwrap(),
        0
    );
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adds_missing_tables_and_columns_to_an_old_kavachos_database() {
    let Some(db) = TestDb::new("adds_missing_tables_and_columns_to_an_old_kavachos_database").await
    else {
        return;
    };
    db.exec(KAVACHOS_DDL).await;
    // An older KavachOS: no email_verified column, no refresh-token tables.
    db.exec(
        "ALTER TABLE kavach_users DROP COLUMN email_verified;
         DROP TABLE kavach_refresh_tokens; DROP TABLE kavach_refresh_token_families;
         INSERT INTO kavach_users (id, email, created_at, updated_at) VALUES ('old', 'old@example.com', now(), now());",
    )
    .await;
    let store = db.store_unmigrated().await;
    let report = store.migrate().await.unwrap();
    assert_eq!(
        report.added_columns,
        vec!["kavach_users.email_verified".to_string()]
    );
    assert!(
        report.relaxed_not_null.is_empty(),
        "the column has a default: {report:?}"
    );
    assert_eq!(
        report.created_tables,
        vec![
            "kavach_refresh_token_families".to_string(),
            "kavach_refresh_tokens".to_string()
        ]
    );
    let old = store
        .get::<User>("old")
        .await
        .unwrap()
        .expect("old user kept");
    assert!(!old.email_verified);
    assert!(store.migrate().await.unwrap().is_noop());
    store.close().await;
    db.finish().await;
}

/// Tables as `prisma migrate` creates them from KavachOS's reference schema:
/// `TIMESTAMP(3)` without time zone, no foreign keys, Prisma's index names,
/// and (for users) no `email_verified`.
fn prisma_ddl() -> String {
    let mut sql = String::new();
    for name in ["kavach_users", "kavach_agents", "kavach_audit_logs"] {
        let t = table(name);
        let cols: Vec<String> = t
            .columns
            .iter()
            .filter(|c| c.name != "email_verified")
            .map(|c| {
                let ty = match c.kind {
                    ColumnKind::Text => "TEXT",
                    ColumnKind::Int | ColumnKind::IntBool => "INTEGER",
                    ColumnKind::Bool => "BOOLEAN",
                    ColumnKind::Timestamp | ColumnKind::TimestampMs => "TIMESTAMP(3)",
                    _ => "JSONB",
                };
                format!(
                    "\"{}\" {ty}{}",
                    c.name,
                    if c.nullable { "" } else { " NOT NULL" }
                )
            })
            .collect();
        sql += &format!(
            "CREATE TABLE \"{name}\" ({}, CONSTRAINT \"{name}_pkey\" PRIMARY KEY (\"id\"));\n",
            cols.join(", ")
        );
    }
    sql += "CREATE UNIQUE INDEX \"kavach_users_email_key\" ON \"kavach_users\"(\"email\");
            CREATE INDEX \"kavach_audit_logs_agent_id_idx\" ON \"kavach_audit_logs\"(\"agent_id\");
            CREATE INDEX \"kavach_audit_logs_timestamp_idx\" ON \"kavach_audit_logs\"(\"timestamp\");\n";
    sql
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_prisma_tables_without_losing_orphans() {
    let Some(db) = TestDb::new("adopts_prisma_tables_without_losing_orphans").await else {
        return;
    };
    db.exec(&prisma_ddl()).await;
    // Prisma enforces no references: an agent whose owner is gone.
    db.exec(
        "INSERT INTO kavach_agents (id, owner_id, name, type, status, token_hash, token_prefix, created_at, updated_at)
         VALUES ('orphan', 'gone', 'bot', 'service', 'active', 'h-orphan', 'kv_', '2026-03-23 02:56:15.123', '2026-03-23 02:56:15.123');",
    )
    .await;
    let store = db.store_unmigrated().await;
    let report = store.migrate().await.unwrap();
    assert!(report.adopted);
    assert!(
        report
            .added_columns
            .contains(&"kavach_users.email_verified".to_string()),
        "{report:?}"
    );
    assert!(
        report
            .created_foreign_keys
            .contains(&"kavach_agents_owner_id_fkey".to_string()),
        "{report:?}"
    );
    assert_eq!(report.created_tables.len(), all_tables().len() - 3);
    // The orphan is still there, and its naive timestamp reads as UTC.
    let orphan = store
        .find_agent_by_token_hash("h-orphan")
        .await
        .unwrap()
        .expect("orphan kept");
    assert_eq!(
        orphan.created_at,
        Utc.timestamp_millis_opt(1_774_234_575_123).unwrap()
    );
    assert_eq!(
        column_type(&store, "kavach_agents", "created_at").await,
        "timestamp(3) without time zone"
    );
    // New rows are checked against the (NOT VALID) foreign key.
    let agents = table("kavach_agents");
    let row = sample_row(agents, Variant::Minimal, &[("owner_id", "gone".into())]);
    assert!(
        store
            .insert_rows(agents, vec![row])
            .await
            .unwrap_err()
            .is_reference()
    );
    // Writes into timestamp(3) columns are UTC wall-clock values.
    let user = insert_with_parents(&store, table("kavach_users"), Variant::Full).await;
    let stored: String = sqlx::query_scalar(
        "SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.MS') FROM kavach_users",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let written = user[table("kavach_users").expect_column("created_at")]
        .as_timestamp()
        .unwrap();
    assert_eq!(stored, written.format("%Y-%m-%d %H:%M:%S%.3f").to_string());
    for &t in all_tables() {
        let row = insert_with_parents(&store, t, Variant::Full).await;
        let key = row[t.primary_key_index()].clone();
        let got = store
            .select_rows(&Select::new(t, Cond::Cmp(t.primary_key, CmpOp::Eq, key)))
            .await
            .unwrap();
        assert_eq!(got, vec![row], "{}", t.name);
    }
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrations_serialize_and_record_once() {
    let Some(db) = TestDb::new("concurrent_migrations_serialize_and_record_once").await else {
        return;
    };
    let stores: Vec<PgStore> =
        futures::future::join_all((0..4).map(|_| db.store_unmigrated())).await;
    let reports = futures::future::join_all(stores.iter().map(|s| s.migrate())).await;
    let reports: Vec<_> = reports.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(
        reports
            .iter()
            .filter(|r| !r.created_tables.is_empty())
            .count(),
        1,
        "{reports:?}"
    );
    assert_eq!(reports.iter().filter(|r| r.is_noop()).count(), 3);
    assert!(reports.iter().all(|r| !r.adopted));
    let ledger: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, checksum FROM kavach_store_migrations")
            .fetch_all(stores[0].pool())
            .await
            .unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].0, 1);
    // The generated schema is exactly what a fresh migration created.
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kavach\\_%' AND tablename <> 'kavach_store_migrations'",
    )
    .fetch_one(stores[0].pool())
    .await
    .unwrap();
    assert_eq!(n as usize, all_tables().len());
    assert_eq!(
        column_type(&stores[0], "kavach_cost_events", "cost_micros").await,
        "bigint"
    );
    assert_eq!(
        column_type(&stores[0], "kavach_sso_connections", "enabled").await,
        "integer"
    );
    assert_eq!(
        column_type(&stores[0], "kavach_audit_logs", "timestamp").await,
        "timestamp with time zone"
    );
    for s in &stores {
        s.close().await;
    }
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_index_that_existing_rows_violate_fails_without_changes() {
    let Some(db) =
        TestDb::new("a_unique_index_that_existing_rows_violate_fails_without_changes").await
    else {
        return;
    };
    db.exec(KAVACHOS_DDL).await;
    // KavachOS never made token_hash unique: two agents share one.
    db.exec(
        "INSERT INTO kavach_users (id, email, created_at, updated_at) VALUES ('u1', 'a@example.com', now(), now());
         INSERT INTO kavach_agents (id, owner_id, name, type, token_hash, token_prefix, created_at, updated_at)
           VALUES ('a1', 'u1', 'x', 'service', 'dup', 'kv_', now(), now()), ('a2', 'u1', 'y', 'service', 'dup', 'kv_', now(), now());",
    )
    .await;
    let store = db.store_unmigrated().await;
    match store.migrate().await.unwrap_err() {
        StoreError::Conflict { constraint, .. } => {
            assert_eq!(constraint, "kavach_agents_token_hash_key")
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    // Nothing was applied (one transaction), nothing deleted.
    assert_eq!(
        scalar_i64(&store, "SELECT COUNT(*) FROM kavach_agents").await,
        2
    );
    let ledger: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('kavach_store_migrations')::text")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(ledger, None);
    store.close().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_admin_reports_status_tables_and_compatibility() {
    let Some(db) = TestDb::new("schema_admin_reports_status_tables_and_compatibility").await else {
        return;
    };
    db.exec(KAVACHOS_DDL).await;
    let store = db.store_unmigrated().await;
    let admin = store.admin().expect("postgres has a schema to manage");
    let before = admin.migration_status().await.unwrap();
    assert!(before.applied.is_empty());
    assert_eq!(
        before.pending.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![1]
    );

    // KavachOS's tables, as the database describes them: every column of
    // the spec present and of a usable type (INTEGER for i64, TIMESTAMPTZ,
    // JSONB, INTEGER 0/1 for the SSO flag), but no unique token-hash index.
    let tables = admin.inspect_tables().await.unwrap();
    assert_eq!(tables.len(), all_tables().len());
    for &def in all_tables() {
        let info = tables.iter().find(|t| t.name == def.name).expect(def.name);
        for col in &def.columns {
            let have = info
                .columns
                .iter()
                .find(|c| c.name == col.name)
                .expect(col.name);
            assert!(
                admin.column_type_compatible(def, col, &have.sql_type),
                "{}.{}: {}",
                def.name,
                col.name,
                have.sql_type
            );
        }
    }
    let agents = tables.iter().find(|t| t.name == "kavach_agents").unwrap();
    assert!(
        !agents
            .indexes
            .iter()
            .any(|i| i.unique && i.columns == ["token_hash"])
    );
    let login = tables
        .iter()
        .find(|t| t.name == "kavach_login_history")
        .unwrap();
    assert!(
        login
            .indexes
            .iter()
            .any(|i| i.columns == ["user_id", "timestamp"]),
        "{:?}",
        login.indexes
    );

    let applied = admin.migrate().await.unwrap();
    assert_eq!(
        applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![1]
    );
    assert!(admin.migrate().await.unwrap().is_empty());
    let after = admin.migration_status().await.unwrap();
    assert_eq!(after.current_version(), Some(1));
    assert!(after.pending.is_empty());
    let tables = admin.inspect_tables().await.unwrap();
    let agents = tables.iter().find(|t| t.name == "kavach_agents").unwrap();
    assert!(
        agents
            .indexes
            .iter()
            .any(|i| i.unique && i.columns == ["token_hash"])
    );
    assert!(!tables.iter().any(|t| t.name == "kavach_store_migrations"));

    // Types that cannot hold the values are reported.
    let sso = table("kavach_sso_connections");
    let enabled = sso.column("enabled").unwrap();
    assert!(!admin.column_type_compatible(sso, enabled, "boolean"));
    let users = table("kavach_users");
    assert!(!admin.column_type_compatible(users, users.column("banned").unwrap(), "integer"));
    assert!(admin.column_type_compatible(
        users,
        users.column("created_at").unwrap(),
        "timestamp(3) without time zone"
    ));
    store.close().await;
    db.finish().await;
}

//! A database created the way KavachOS creates it (its SQLite DDL, older
//! than the spec: no `kavach_users.email_verified`), holding rows in every
//! timestamp form real files have (INTEGER seconds from KavachOS's core,
//! INTEGER milliseconds from its email package and login history, ISO-8601
//! TEXT from Prisma's driver adapter, REAL), adopted by `migrate()` and then
//! read, queried and updated through the domain traits; and what we write
//! is in the units KavachOS's core reads.

use chrono::{DateTime, Duration, TimeZone, Utc};
use kavach_store_core::prelude::*;
use kavach_store_sqlite::rusqlite::{self, Connection};
use kavach_store_sqlite::{SqliteOptions, SqliteStore};

/// 2026-03-23T02:56:15Z, a whole second.
const T0: i64 = 1_774_234_575;

fn at(ms_after_t0: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(T0 * 1000 + ms_after_t0).unwrap()
}

/// A database file in the temporary directory, removed (with its WAL and
/// shared-memory files) when dropped, also when the test fails.
struct TempDb(std::path::PathBuf);

impl std::ops::Deref for TempDb {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempDb {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.0.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

fn temp_path(name: &str) -> TempDb {
    TempDb(std::env::temp_dir().join(format!(
        "kavach-compat-{name}-{}.db",
        uuid::Uuid::now_v7().simple()
    )))
}

/// Creates the tables exactly as KavachOS's `createTables` does on SQLite.
fn kavachos_database(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn.execute_batch(include_str!("fixtures/kavachos_sqlite.sql"))
        .unwrap();
    conn
}

/// Rows as KavachOS's writers leave them: core (seconds), email package
/// (milliseconds), Prisma driver adapter (ISO text), and a REAL.
fn seed(conn: &Connection) {
    let iso = |ms: i64| at(ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    conn.execute_batch(&format!(
        "INSERT INTO kavach_users (id, email, created_at, updated_at) VALUES ('u-sec', 'sec@example.com', {T0}, {T0});
         INSERT INTO kavach_users (id, email, created_at, updated_at) VALUES ('usr_ms', 'ms@example.com', {ms}, {ms});
         INSERT INTO kavach_users (id, email, banned, created_at, updated_at) VALUES ('u-iso', 'iso@example.com', 1, '{iso}', '{iso}');",
        ms = T0 * 1000 + 583,
        iso = iso(250),
    ))
    .unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO kavach_agents (id, owner_id, name, type, token_hash, token_prefix, expires_at, metadata, created_at, updated_at)
           VALUES ('a1', 'u-sec', 'seconds agent', 'autonomous', 'hash-a1', 'kv_aaaaaaaa', {e1}, '{{}}', {T0}, {T0});
         INSERT INTO kavach_agents (id, owner_id, name, type, token_hash, token_prefix, expires_at, created_at, updated_at)
           VALUES ('a2', 'usr_ms', 'millis agent', 'delegated', 'hash-a2', 'kv_bbbbbbbb', {e2}, {T0}, {T0});
         INSERT INTO kavach_agents (id, owner_id, name, type, token_hash, token_prefix, expires_at, created_at, updated_at)
           VALUES ('a3', 'u-iso', 'iso agent', 'service', 'hash-a3', 'kv_cccccccc', '{e3}', {T0}, {T0});
         INSERT INTO kavach_permissions (id, agent_id, resource, actions, constraints, created_at)
           VALUES ('p1', 'a1', 'mcp:github:*', '[\"read\",\"write\"]', '{{\"maxCallsPerHour\":100}}', {T0});",
        e1 = T0 + 3600,
        e2 = T0 * 1000 + 1_800_500,
        e3 = iso(60_000),
    ))
    .unwrap();
    // Audit rows of agent a1 in every form; true instants T0 + 0, 1.5, 3.25, 5, 7.125, 9 s.
    conn.execute_batch(&format!(
        "INSERT INTO kavach_audit_logs (id, agent_id, user_id, action, resource, parameters, result, duration_ms, timestamp)
           VALUES ('e1', 'a1', 'u-sec', 'read', 'r', '{{}}', 'allowed', 1, {T0});
         INSERT INTO kavach_audit_logs (id, agent_id, user_id, action, resource, parameters, result, duration_ms, timestamp)
           VALUES ('e2', 'a1', 'u-sec', 'read', 'r', '{{}}', 'allowed', 1, {e2});
         INSERT INTO kavach_audit_logs (id, agent_id, user_id, action, resource, parameters, result, duration_ms, timestamp)
           VALUES ('e3', 'a1', 'u-sec', 'write', 'r', '{{}}', 'denied', 1, '{e3}');
         INSERT INTO kavach_audit_logs (id, agent_id, user_id, action, resource, parameters, result, duration_ms, timestamp)
           VALUES ('e4', 'a1', 'u-sec', 'read', 'r', '{{}}', 'allowed', 1, {e4});
         INSERT INTO kavach_audit_logs (id, agent_id, user_id, action, resource, parameters, result, duration_ms, timestamp)
           VALUES ('e5', 'a1', 'u-sec', 'read', 'r', '{{}}', 'rate_limited', 1, {e5});
         INSERT INTO kavach_audit_logs (id, agent_id, user_id, action, resource, parameters, result, duration_ms, timestamp)
           VALUES ('e6', 'a1', 'u-sec', 'read', 'r', '{{}}', 'allowed', 1, {e6});",
        e2 = T0 * 1000 + 1_500,
        e3 = iso(3_250),
        e4 = T0 + 5,
        e5 = T0 as f64 + 7.125,
        e6 = T0 * 1000 + 9_000,
    ))
    .unwrap();
    // KavachOS increments rate limits read-modify-write without a unique key:
    // a duplicate bucket.
    let window = T0 - T0 % 300;
    conn.execute_batch(&format!(
        "INSERT INTO kavach_rate_limits (id, agent_id, resource, window_start, count) VALUES ('rl1', 'a1', 'tool:x', {window}, 3);
         INSERT INTO kavach_rate_limits (id, agent_id, resource, window_start, count) VALUES ('rl2', 'a1', 'tool:x', {window}, 4);
         INSERT INTO kavach_sessions (id, user_id, expires_at, created_at) VALUES ('s-sec', 'u-sec', {s1}, {T0});
         INSERT INTO kavach_sessions (id, user_id, expires_at, created_at) VALUES ('s-ms', 'usr_ms', {s2}, {T0}000);
         INSERT INTO kavach_login_history (id, user_id, method, timestamp) VALUES ('l1', 'u-sec', 'password', {l1});
         INSERT INTO kavach_login_history (id, user_id, method, timestamp) VALUES ('l2', 'u-sec', 'magic-link', '{l2}');",
        s1 = T0 + 100,
        s2 = T0 * 1000 + 50_500,
        l1 = T0 * 1000 + 10_001,
        l2 = iso(20_002),
    ))
    .unwrap();
}

fn raw(path: &std::path::Path, sql: &str) -> (String, String) {
    let conn = Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| {
        let v: rusqlite::types::Value = r.get(1)?;
        Ok((r.get::<_, String>(0)?, format!("{v:?}")))
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_reads_queries_and_updates_a_kavachos_database() {
    let path = temp_path("adopt");
    seed(&kavachos_database(&path));

    let store = SqliteOptions::file(&path)
        .skip_migrations(true)
        .open()
        .await
        .unwrap();
    let admin = store.admin().expect("schema admin");
    let before = admin.migration_status().await.unwrap();
    assert_eq!((before.applied.len(), before.pending.len()), (0, 3));
    let report = store.migrate().await.unwrap();
    let after = admin.migration_status().await.unwrap();
    assert_eq!((after.applied.len(), after.pending.len()), (3, 0));
    assert_eq!(after.current_version(), Some(3));
    let tables = admin.inspect_tables().await.unwrap();
    assert_eq!(tables.len(), all_tables().len());
    let audit = tables
        .iter()
        .find(|t| t.name == "kavach_audit_logs")
        .unwrap();
    let ix = audit
        .indexes
        .iter()
        .find(|i| i.name == "kavach_audit_logs_agent_ts_s")
        .unwrap();
    assert_eq!(ix.columns[0], "agent_id");
    assert!(ix.columns[1].contains("julianday(\"timestamp\")"), "{ix:?}");
    let ts = audit
        .columns
        .iter()
        .find(|c| c.name == "timestamp")
        .unwrap();
    let def = AuditLog::table_def();
    assert!(admin.column_type_compatible(def, def.column("timestamp").unwrap(), &ts.sql_type));
    assert!(!admin.column_type_compatible(def, def.column("timestamp").unwrap(), "TEXT"));
    assert!(admin.column_type_compatible(def, def.column("parameters").unwrap(), "TEXT"));
    assert!(report.adopted, "{report:?}");
    assert!(
        report.created_tables.is_empty(),
        "every table existed: {report:?}"
    );
    assert_eq!(
        report.added_columns,
        vec!["kavach_users.email_verified".to_string()]
    );
    assert_eq!(report.merged_rate_limit_rows, 1);
    for ix in [
        "kavach_agents_token_hash_key",
        "kavach_rate_limits_bucket_key",
        "kavach_audit_logs_agent_ts_s",
        "kavach_login_history_user_ts_ms",
    ] {
        assert!(
            report.created_indexes.iter().any(|n| n == ix),
            "{ix} missing from {report:?}"
        );
    }
    // KavachOS's column-level UNIQUE on email is reused, not duplicated.
    assert!(
        !report
            .created_indexes
            .iter()
            .any(|n| n == "kavach_users_email_key"),
        "{report:?}"
    );
    assert!(
        store.migrate().await.unwrap().is_noop(),
        "second migrate is a no-op"
    );

    // Users in the three forms; email_verified added with its default.
    let u = store.get_user("u-sec").await.unwrap().unwrap();
    assert_eq!(u.created_at, at(0));
    assert!(!u.email_verified);
    assert_eq!(
        store.get_user("usr_ms").await.unwrap().unwrap().created_at,
        at(583)
    );
    let iso = store.get_user("u-iso").await.unwrap().unwrap();
    assert_eq!(iso.created_at, at(250));
    assert!(iso.banned, "1 reads as true");

    // The hot path and permissions (JSON text).
    let a1 = store
        .find_agent_by_token_hash("hash-a1")
        .await
        .unwrap()
        .expect("agent by token hash");
    assert_eq!(a1.id, "a1");
    assert_eq!(a1.expires_at, Some(at(3_600_000)));
    assert_eq!(a1.metadata, Some(serde_json::json!({})));
    assert_eq!(
        store
            .find_agent_by_token_hash("hash-a2")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        Some(at(1_800_500))
    );
    assert_eq!(
        store
            .find_agent_by_token_hash("hash-a3")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        Some(at(60_000))
    );
    let perms = store.list_permissions_by_agent("a1").await.unwrap();
    assert_eq!(
        perms[0].actions,
        vec!["read".to_string(), "write".to_string()]
    );

    // Audit: newest first across forms, filters at the column's precision, keyset pages.
    let ids = |v: Vec<AuditLog>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let all = store
        .query_audit_logs(&AuditFilter::agent("a1"), None, None)
        .await
        .unwrap();
    assert_eq!(ids(all.clone()), ["e6", "e5", "e4", "e3", "e2", "e1"]);
    assert_eq!(all[4].timestamp, at(1_500), "milliseconds kept when stored");
    assert_eq!(all[3].timestamp, at(3_250));
    assert_eq!(all[1].timestamp, at(7_125), "REAL seconds");
    let window = AuditFilter {
        since: Some(at(2_000)),
        until: Some(at(8_000)),
        ..AuditFilter::agent("a1")
    };
    assert_eq!(
        ids(store.query_audit_logs(&window, None, None).await.unwrap()),
        ["e5", "e4", "e3"]
    );
    assert_eq!(store.count_audit_logs(&window).await.unwrap(), 3);
    let mut seen = Vec::new();
    let mut request = PageRequest::first(2);
    loop {
        let page = store
            .list_audit_logs(&AuditFilter::agent("a1"), &request)
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|e| e.id));
        match page.next {
            Some(c) => request = PageRequest::after(2, c),
            None => break,
        }
    }
    assert_eq!(seen, ["e6", "e5", "e4", "e3", "e2", "e1"]);

    // Expiry across forms: a3 (ISO, T0+60 s), then a2 (ms, T0+1800.5 s).
    assert_eq!(store.expire_agents(at(1_000_000)).await.unwrap(), 1);
    assert_eq!(
        store.get_agent("a3").await.unwrap().unwrap().status,
        AgentStatus::Expired
    );
    assert_eq!(store.expire_agents(at(2_000_000)).await.unwrap(), 1);
    assert_eq!(
        store.get_agent("a2").await.unwrap().unwrap().status,
        AgentStatus::Expired
    );
    assert_eq!(
        store.get_agent("a1").await.unwrap().unwrap().status,
        AgentStatus::Active
    );

    // Sessions: the ms-stored one is expired at T0+60 s, the seconds one is not.
    assert!(
        store
            .validate_session("s-ms", at(60_000))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .validate_session("s-sec", at(60_000))
            .await
            .unwrap()
            .is_some()
    );

    // The merged rate-limit bucket keeps counting atomically.
    let window = Utc.timestamp_opt(T0 - T0 % 300, 0).unwrap();
    assert_eq!(
        store
            .get_rate_limit("a1", "tool:x", window)
            .await
            .unwrap()
            .unwrap()
            .count,
        7
    );
    assert_eq!(
        store
            .increment_rate_limit("a1", "tool:x", window)
            .await
            .unwrap(),
        8
    );
    assert_eq!(
        store
            .sum_rate_limit_since("a1", "tool:x", window - Duration::hours(1))
            .await
            .unwrap(),
        8
    );

    // Login history (milliseconds in KavachOS), newest first across forms.
    let last = store.last_login("u-sec").await.unwrap().unwrap();
    assert_eq!((last.id.as_str(), last.timestamp), ("l2", at(20_002)));

    // Updates of adopted rows leave the other columns as stored.
    let patch = UserPatch {
        name: Some(Some("Renamed".into())),
        ..UserPatch::default()
    };
    assert_eq!(
        store
            .update_user("usr_ms", &patch)
            .await
            .unwrap()
            .created_at,
        at(583)
    );
    assert_eq!(
        raw(
            &path,
            "SELECT typeof(created_at), created_at FROM kavach_users WHERE id = 'usr_ms'"
        )
        .0,
        "integer"
    );

    // What we write is in the units KavachOS's core reads: seconds, and
    // milliseconds for login history.
    assert!(store.touch_agent("a1", at(10_999)).await.unwrap());
    assert_eq!(
        raw(
            &path,
            "SELECT typeof(last_active_at), last_active_at FROM kavach_agents WHERE id = 'a1'"
        ),
        ("integer".into(), format!("Integer({})", T0 + 10))
    );
    let entry = AuditLog {
        id: "e7".into(),
        agent_id: "a1".into(),
        user_id: "u-sec".into(),
        action: "read".into(),
        resource: "r".into(),
        parameters: Some(serde_json::json!({})),
        duration_ms: 2,
        timestamp: at(20_500),
        ..AuditLog::default()
    };
    store.create_audit_log(entry).await.unwrap();
    assert_eq!(
        raw(
            &path,
            "SELECT typeof(timestamp), timestamp FROM kavach_audit_logs WHERE id = 'e7'"
        ),
        ("integer".into(), format!("Integer({})", T0 + 20))
    );
    assert_eq!(
        raw(
            &path,
            "SELECT typeof(parameters), parameters FROM kavach_audit_logs WHERE id = 'e7'"
        ),
        ("text".into(), "Text(\"{}\")".into())
    );
    let login = LoginHistory {
        id: "l3".into(),
        user_id: "u-sec".into(),
        method: "password".into(),
        timestamp: at(30_123),
        ..LoginHistory::default()
    };
    store.record_login(login, 10).await.unwrap();
    assert_eq!(
        raw(
            &path,
            "SELECT typeof(timestamp), timestamp FROM kavach_login_history WHERE id = 'l3'"
        ),
        ("integer".into(), format!("Integer({})", T0 * 1000 + 30_123))
    );
    assert_eq!(
        raw(
            &path,
            "SELECT typeof(email_verified), email_verified FROM kavach_users WHERE id = 'u-sec'"
        ),
        ("integer".into(), "Integer(0)".into())
    );

    drop(store);
}

#[tokio::test]
async fn duplicate_data_under_a_new_unique_constraint_fails_clearly_and_changes_nothing() {
    let path = temp_path("dup");
    {
        let conn = kavachos_database(&path);
        seed(&conn);
        // KavachOS never made token_hash unique.
        conn.execute_batch(&format!(
            "INSERT INTO kavach_agents (id, owner_id, name, type, token_hash, token_prefix, created_at, updated_at)
             VALUES ('a-dup', 'u-sec', 'dup', 'autonomous', 'hash-a1', 'kv_dddddddd', {T0}, {T0});"
        ))
        .unwrap();
    }
    let err = SqliteOptions::file(&path).open().await.unwrap_err();
    match &err {
        StoreError::Conflict {
            table, constraint, ..
        } => {
            assert_eq!(*table, "kavach_agents");
            assert!(constraint.contains("token_hash"), "{constraint}");
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(err.to_string().contains("duplicate"), "{err}");
    // The whole migration rolled back: no ledger, no added column, no merge.
    let conn = Connection::open(&path).unwrap();
    let ledger: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'kavach_store_migrations'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ledger, 0);
    let has_col: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('kavach_users') WHERE name = 'email_verified'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(has_col, 0);
    let buckets: i64 = conn
        .query_row("SELECT COUNT(*) FROM kavach_rate_limits", [], |r| r.get(0))
        .unwrap();
    assert_eq!(buckets, 2);
    drop(conn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrations_of_one_file_serialise() {
    let path = temp_path("race");
    seed(&kavachos_database(&path));
    // Two stores = two sets of connections, as two processes would have.
    let open = || {
        SqliteOptions::file(&path)
            .skip_migrations(true)
            .readers(1)
            .open()
    };
    let (a, b) = (open().await.unwrap(), open().await.unwrap());
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(
        ra.is_noop() != rb.is_noop(),
        "exactly one applies: {ra:?} {rb:?}"
    );
    assert_eq!(ra.merged_rate_limit_rows + rb.merged_rate_limit_rows, 1);
    let versions: i64 = a
        .with_read_connection(|c| {
            c.query_row("SELECT COUNT(*) FROM kavach_store_migrations", [], |r| {
                r.get(0)
            })
        })
        .await
        .unwrap();
    assert_eq!(versions, 3);
    drop((a, b));
}

#[tokio::test]
async fn a_fresh_database_is_one_kavachos_can_use() {
    // KavachOS runs its DDL (CREATE … IF NOT EXISTS) on every start: on a
    // database we created, every statement must succeed and change nothing
    // we rely on.
    let store = SqliteStore::open_temporary().await.unwrap();
    store
        .with_connection(|c| c.execute_batch(include_str!("fixtures/kavachos_sqlite.sql")))
        .await
        .unwrap();
    let cols: i64 = store
        .with_read_connection(|c| {
            c.query_row("SELECT COUNT(*) FROM pragma_table_info('kavach_users') WHERE name = 'email_verified'", [], |r| r.get(0))
        })
        .await
        .unwrap();
    assert_eq!(cols, 1);
    assert!(store.migrate().await.unwrap().is_noop());
}

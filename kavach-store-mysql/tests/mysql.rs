//! MySQL-specific behaviour against the real server (`KAVACH_TEST_MYSQL_URL`,
//! default `mysql://root@127.0.0.1:3306/test`): bad input, long hashed
//! uniques, concurrency of the emulated `RETURNING`, transactions (the store's
//! and the caller's), error kinds, migrations, statement reuse. Each test
//! works in a database of its own. An unreachable server skips loudly, and
//! fails under `CI` / `KAVACH_REQUIRE_ALL_BACKENDS`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use kavach_store_core::prelude::*;
use kavach_store_mysql::mysql_async::prelude::Queryable;
use kavach_store_mysql::mysql_async::{self, Opts, OptsBuilder, Pool, TxOpts};
use kavach_store_mysql::{MySqlOptions, MySqlStore};

fn url() -> String {
    std::env::var("KAVACH_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A database of the test's own, dropped by [`TestDb::drop_db`].
struct TestDb {
    name: String,
    admin: Pool,
}

impl TestDb {
    async fn create() -> Option<TestDb> {
        let opts = Opts::from_url(&url()).expect("KAVACH_TEST_MYSQL_URL");
        let admin = Pool::new(OptsBuilder::from_opts(opts).prefer_socket(false));
        let conn = tokio::time::timeout(Duration::from_secs(5), admin.get_conn()).await;
        let mut conn = match conn {
            Ok(Ok(conn)) => conn,
            other => {
                let reason = match other {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timeout".into(),
                };
                assert!(
                    !conformance_tests::all_backends_required(),
                    "MySQL unreachable and CI/KAVACH_REQUIRE_ALL_BACKENDS is set: {reason}"
                );
                eprintln!("\n*** SKIPPED: MySQL unreachable: {reason} ***\n");
                return None;
            }
        };
        let name = format!("kv_test_{}", uuid::Uuid::now_v7().simple());
        conn.query_drop(format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .await
        .unwrap();
        Some(TestDb { name, admin })
    }

    fn builder(&self, options: &MySqlOptions) -> OptsBuilder {
        MySqlStore::opts_builder(&url(), options)
            .unwrap()
            .db_name(Some(self.name.clone()))
    }

    async fn store(&self, options: MySqlOptions) -> Result<MySqlStore, StoreError> {
        MySqlStore::from_pool(Pool::new(self.builder(&options)), options).await
    }

    async fn drop_db(self) {
        let mut conn = self.admin.get_conn().await.unwrap();
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name))
            .await
            .unwrap();
    }
}

/// A migrated store on a fresh database, or `return` (skipped).
macro_rules! setup {
    () => {
        setup!(MySqlOptions::default().max_connections(8))
    };
    ($options:expr) => {{
        let Some(db) = TestDb::create().await else {
            return;
        };
        let store = db.store($options).await.expect("store");
        (db, store)
    }};
}

const BY_ID: &[OrderBy] = &[OrderBy::asc("id")];

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_774_234_575_000 + ms).unwrap()
}

fn user(id: &str, email: &str) -> User {
    User {
        id: id.into(),
        email: email.into(),
        created_at: at(0),
        updated_at: at(0),
        ..Default::default()
    }
}

fn agent(id: &str, owner: &str, token_hash: &str) -> Agent {
    Agent {
        id: id.into(),
        owner_id: owner.into(),
        name: format!("agent {id}"),
        token_hash: token_hash.into(),
        token_prefix: "kv_12345678".into(),
        created_at: at(0),
        updated_at: at(0),
        ..Default::default()
    }
}

fn invalid_field(e: &StoreError) -> &str {
    match e {
        StoreError::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn too_long_values_are_rejected_never_truncated() {
    let (db, store) = setup!();
    // 320 characters of 4 bytes each fit VARCHAR(320): the limit is characters.
    let long_ok = format!("{}@x", "🦀".repeat(318));
    store.create(user("u1", &long_ok)).await.unwrap();
    let got: User = store.get("u1").await.unwrap().unwrap();
    assert_eq!(got.email, long_ok);

    let too_long = format!("{}@x", "a".repeat(319));
    let err = store.create(user("u2", &too_long)).await.unwrap_err();
    assert_eq!(invalid_field(&err), "kavach_users.email");
    assert!(
        store.get::<User>("u2").await.unwrap().is_none(),
        "nothing written"
    );

    // TEXT holds 65,535 bytes, whatever the characters.
    let mut a = agent("a1", "u1", "h1");
    a.name = "é".repeat(32_768);
    let err = store.create(a).await.unwrap_err();
    assert_eq!(invalid_field(&err), "kavach_agents.name");

    // Updates and upserts are checked too.
    let err = store
        .update_where::<User>(
            Cond::eq("id", "u1"),
            vec![Assign::Set("username", "x".repeat(256).into())],
        )
        .await
        .unwrap_err();
    assert_eq!(invalid_field(&err), "kavach_users.username");
    let err = store
        .increment_rate_limit("a1", &"r".repeat(513), at(0))
        .await
        .unwrap_err();
    assert_eq!(invalid_field(&err), "kavach_rate_limits.resource");

    // A multi-row insert with one bad row writes nothing.
    let rows = vec![user("u3", "u3@x").to_row(), user("u4", &too_long).to_row()];
    assert!(
        store
            .insert_rows(User::table_def(), rows)
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(store.get::<User>("u3").await.unwrap().is_none());
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unicode_nul_bytes_and_quotes_are_plain_data() {
    let (db, store) = setup!();
    let nasty = "a\0b ' \" ` \\ %_ ; DROP TABLE kavach_users; -- 🦀 中文 ünï";
    let mut u = user("u1", "🦀@example.com");
    u.name = Some(nasty.into());
    u.metadata = Some(serde_json::json!({"k": nasty, "n": [1, 2.5, null]}));
    store.create(u.clone()).await.unwrap();
    assert_eq!(
        store.find_user_by_email("🦀@example.com").await.unwrap(),
        Some(u.clone())
    );
    let got = store
        .find_first::<User>(Cond::eq("name", nasty), &[])
        .await
        .unwrap();
    assert_eq!(got, Some(u));
    // LIKE is case-insensitive on utf8mb4_bin columns, and % and _ are literal.
    let like = |p: &str| Cond::Like("name", LikePattern::Contains(p.into()));
    assert_eq!(store.count::<User>(like("DROP table")).await.unwrap(), 1);
    assert_eq!(store.count::<User>(like("%_ ;")).await.unwrap(), 1);
    assert_eq!(store.count::<User>(like("x%_")).await.unwrap(), 0);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hashes_differing_in_case_do_not_collide_and_times_are_utc() {
    let (db, store) = setup!();
    store.create(user("u1", "u1@x")).await.unwrap();
    store.create(agent("a1", "u1", "ABCDEF")).await.unwrap();
    store.create(agent("a2", "u1", "abcdef")).await.unwrap();
    assert_eq!(
        store
            .find_agent_by_token_hash("abcdef")
            .await
            .unwrap()
            .unwrap()
            .id,
        "a2"
    );
    assert_eq!(
        store
            .find_agent_by_token_hash("ABCDEF")
            .await
            .unwrap()
            .unwrap()
            .id,
        "a1"
    );
    assert!(
        store
            .find_agent_by_token_hash("AbCdEf")
            .await
            .unwrap()
            .is_none()
    );
    let mut conn = store.pool().get_conn().await.unwrap();
    let stored: Option<String> = conn
        .query_first("SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') FROM kavach_users WHERE id = 'u1'")
        .await
        .unwrap();
    assert_eq!(
        stored.unwrap(),
        at(0).format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        "stored as UTC wall clock"
    );
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_unique_tokens_go_through_their_hash_column() {
    let (db, store) = setup!();
    store.create(user("u1", "u1@x")).await.unwrap();
    let client = OAuthClient {
        id: "c1".into(),
        client_id: "client-1".into(),
        redirect_uris: vec!["https://app/cb".into()],
        created_at: at(0),
        updated_at: at(0),
        ..Default::default()
    };
    store.create(client).await.unwrap();
    let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{}.sig", "x".repeat(3000));
    let token = OAuthAccessToken {
        id: "t1".into(),
        access_token: jwt.clone(),
        refresh_token: Some(format!("{jwt}-refresh")),
        client_id: "client-1".into(),
        user_id: "u1".into(),
        scopes: "openid".into(),
        access_token_expires_at: at(3_600_000),
        created_at: at(0),
        ..Default::default()
    };
    store.create(token.clone()).await.unwrap();
    assert_eq!(
        store.find_oauth_access_token(&jwt).await.unwrap(),
        Some(token.clone())
    );
    assert!(
        store
            .find_oauth_access_token(&jwt[..jwt.len() - 1])
            .await
            .unwrap()
            .is_none()
    );
    let mut dup = token.clone();
    dup.id = "t2".into();
    dup.refresh_token = None;
    match store.create(dup).await.unwrap_err() {
        StoreError::Conflict {
            table, constraint, ..
        } => {
            assert_eq!(table, "kavach_oauth_access_tokens");
            assert_eq!(constraint, "kavach_oauth_access_tokens_access_token_key");
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    // The lookup uses the unique index of the hash column.
    let mut conn = store.pool().get_conn().await.unwrap();
    let plan: Vec<mysql_async::Row> = conn
        .exec(
            "EXPLAIN SELECT id FROM kavach_oauth_access_tokens WHERE access_token_sha256 = UNHEX(SHA2(?, 256)) AND access_token = ?",
            (jwt.clone(), jwt.clone()),
        )
        .await
        .unwrap();
    let key: Option<String> = plan[0].get("key").unwrap();
    assert_eq!(
        key.as_deref(),
        Some("kavach_oauth_access_tokens_access_token_key")
    );
    let consumed = store
        .consume_oauth_refresh_token(&format!("{jwt}-refresh"), at(0))
        .await
        .unwrap();
    assert_eq!(consumed.map(|t| t.id), Some("t1".into()));
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_consumes_and_deletes_have_exact_outcomes() {
    let (db, store) = setup!();
    let store = Arc::new(store);
    store.create(user("u1", "u1@x")).await.unwrap();
    store.create(agent("a1", "u1", "h1")).await.unwrap();

    // 64 increments of one (new) bucket: every count 1..=64 exactly once.
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(
                async move { s.increment_rate_limit("a1", "tool:x", at(0)).await.unwrap() },
            )
        })
        .collect();
    let mut counts: Vec<i64> = futures_join(tasks).await;
    counts.sort_unstable();
    assert_eq!(counts, (1..=64).collect::<Vec<_>>());
    assert_eq!(
        store
            .get_rate_limit("a1", "tool:x", at(0))
            .await
            .unwrap()
            .unwrap()
            .count,
        64
    );

    // 32 racing consumers of one token (update used=false → true): one winner.
    let token = OneTimeToken {
        id: "o1".into(),
        token_hash: "th".into(),
        identifier: "u1@x".into(),
        expires_at: at(3_600_000),
        created_at: at(0),
        ..Default::default()
    };
    store.create(token).await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move {
                s.consume_one_time_token("th", None, at(0))
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let winners = futures_join(tasks).await.into_iter().filter(|w| *w).count();
    assert_eq!(winners, 1);

    // 32 racing deletes-with-return of the same rows: each row returned once.
    let logs: Vec<AuditLog> = (0..10)
        .map(|i| AuditLog {
            id: format!("l{i}"),
            agent_id: "a1".into(),
            user_id: "u1".into(),
            action: "read".into(),
            resource: "r".into(),
            timestamp: at(i),
            ..Default::default()
        })
        .collect();
    store.create_audit_logs(&logs).await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move {
                s.delete_where_returning::<AuditLog>(Cond::eq("agent_id", "a1"))
                    .await
                    .unwrap()
                    .len()
            })
        })
        .collect();
    assert_eq!(futures_join(tasks).await.into_iter().sum::<usize>(), 10);
    drop(store);
    db.drop_db().await;
}

async fn futures_join<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_transactions_commit_roll_back_drop_and_nest() {
    let (db, store) = setup!();
    let tx = store.begin().await.unwrap();
    tx.create(user("u1", "u1@x")).await.unwrap();
    assert!(
        store.get::<User>("u1").await.unwrap().is_none(),
        "uncommitted rows are invisible outside"
    );
    assert!(tx.get::<User>("u1").await.unwrap().is_some());
    tx.commit().await.unwrap();
    assert!(store.get::<User>("u1").await.unwrap().is_some());

    let tx = store.begin().await.unwrap();
    tx.create(user("u2", "u2@x")).await.unwrap();
    tx.rollback().await.unwrap();
    {
        let tx = store.begin().await.unwrap();
        tx.create(user("u3", "u3@x")).await.unwrap();
    } // dropped: rolled back
    assert!(store.get::<User>("u2").await.unwrap().is_none());
    assert!(store.get::<User>("u3").await.unwrap().is_none());

    let outer = store.begin().await.unwrap();
    outer.create(user("a", "a@x")).await.unwrap();
    let inner = outer.begin().await.unwrap();
    inner.create(user("b", "b@x")).await.unwrap();
    inner.rollback().await.unwrap();
    let inner = outer.begin().await.unwrap();
    inner.create(user("c", "c@x")).await.unwrap();
    let innermost = inner.begin().await.unwrap();
    innermost.create(user("d", "d@x")).await.unwrap();
    drop(innermost); // rolled back before the next statement
    assert!(inner.get::<User>("d").await.unwrap().is_none());
    inner.commit().await.unwrap();
    {
        let dropped = outer.begin().await.unwrap();
        dropped.create(user("e", "e@x")).await.unwrap();
    }
    outer.commit().await.unwrap();
    let ids: Vec<String> = store
        .find_all::<User>(Cond::All, BY_ID, None)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(ids, ["a", "c", "u1"]);

    // Errors inside a transaction leave it usable (MySQL rolls back the statement).
    let tx = store.begin().await.unwrap();
    assert!(
        tx.create(user("u1", "dup@x"))
            .await
            .unwrap_err()
            .is_conflict()
    );
    tx.create(user("f", "f@x")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.get::<User>("f").await.unwrap().is_some());
    db.drop_db().await;
}

async fn orders(pool: &Pool) -> Vec<String> {
    let mut conn = pool.get_conn().await.unwrap();
    conn.query("SELECT id FROM app_orders ORDER BY id")
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_callers_transaction_commits_and_rolls_back_with_ours() {
    let (db, store) = setup!();
    let pool = store.pool().clone();
    pool.get_conn()
        .await
        .unwrap()
        .query_drop("CREATE TABLE app_orders (id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(128) NOT NULL) ENGINE=InnoDB")
        .await
        .unwrap();

    // Adopted (owned): our rollback undoes the caller's statement too.
    let tx = store.adopt(pool.start_transaction(TxOpts::default()).await.unwrap());
    tx.create(user("u1", "u1@x")).await.unwrap();
    tx.driver()
        .await
        .unwrap()
        .exec_drop("INSERT INTO app_orders VALUES (?, ?)", ("o1", "u1"))
        .await
        .unwrap();
    Box::new(tx).rollback().await.unwrap();
    assert!(store.get::<User>("u1").await.unwrap().is_none());
    assert!(orders(&pool).await.is_empty());

    // Adopted, committed through the store.
    let tx = store.adopt(pool.start_transaction(TxOpts::default()).await.unwrap());
    tx.create(user("u2", "u2@x")).await.unwrap();
    tx.driver()
        .await
        .unwrap()
        .exec_drop("INSERT INTO app_orders VALUES (?, ?)", ("o2", "u2"))
        .await
        .unwrap();
    Box::new(tx).commit().await.unwrap();
    assert!(store.get::<User>("u2").await.unwrap().is_some());
    assert_eq!(orders(&pool).await, ["o2"]);

    // Adopted, handed back, committed by the caller.
    let tx = store.adopt(pool.start_transaction(TxOpts::default()).await.unwrap());
    tx.create(user("u3", "u3@x")).await.unwrap();
    let mut raw = tx.into_inner().await.unwrap();
    raw.exec_drop("INSERT INTO app_orders VALUES (?, ?)", ("o3", "u3"))
        .await
        .unwrap();
    raw.commit().await.unwrap();
    assert!(store.get::<User>("u3").await.unwrap().is_some());

    // Borrowed: the caller's rollback undoes our committed savepoint.
    let mut conn = pool.get_conn().await.unwrap();
    let mut raw = conn.start_transaction(TxOpts::default()).await.unwrap();
    raw.exec_drop("INSERT INTO app_orders VALUES (?, ?)", ("o4", "u4"))
        .await
        .unwrap();
    let kv = store.within(&mut raw).await.unwrap();
    kv.create(user("u4", "u4@x")).await.unwrap();
    Box::new(kv).commit().await.unwrap();
    raw.rollback().await.unwrap();
    assert!(store.get::<User>("u4").await.unwrap().is_none());
    assert_eq!(orders(&pool).await, ["o2", "o3"]);

    // Borrowed: our rollback undoes only our part; the caller commits theirs.
    let mut raw = conn.start_transaction(TxOpts::default()).await.unwrap();
    raw.exec_drop("INSERT INTO app_orders VALUES (?, ?)", ("o5", "u1"))
        .await
        .unwrap();
    let kv = store.within(&mut raw).await.unwrap();
    kv.create(user("u5", "u5@x")).await.unwrap();
    let nested = kv.begin().await.unwrap();
    nested.create(user("u6", "u6@x")).await.unwrap();
    nested.commit().await.unwrap();
    Box::new(kv).rollback().await.unwrap();
    let kv = store.within(&mut raw).await.unwrap();
    kv.create(user("u7", "u7@x")).await.unwrap();
    Box::new(kv).commit().await.unwrap();
    raw.commit().await.unwrap();
    assert!(store.get::<User>("u5").await.unwrap().is_none());
    assert!(store.get::<User>("u6").await.unwrap().is_none());
    assert!(store.get::<User>("u7").await.unwrap().is_some());
    assert_eq!(orders(&pool).await, ["o2", "o3", "o5"]);
    drop(conn);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn errors_are_typed_by_server_code() {
    let (db, store) = setup!();
    store.create(user("u1", "u1@x")).await.unwrap();
    match store.create(user("u2", "u1@x")).await.unwrap_err() {
        StoreError::Conflict {
            table, constraint, ..
        } => {
            assert_eq!(
                (table, constraint.as_str()),
                ("kavach_users", "kavach_users_email_key")
            )
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(
        store
            .create(user("u1", "other@x"))
            .await
            .unwrap_err()
            .is_conflict()
    );
    // Missing parent, and a parent still referenced (NO ACTION).
    let err = store.create(agent("a1", "nobody", "h")).await.unwrap_err();
    assert!(err.is_reference(), "{err:?}");
    store.create(agent("a1", "u1", "h")).await.unwrap();
    let err = store
        .delete_where::<User>(Cond::eq("id", "u1"))
        .await
        .unwrap_err();
    assert!(err.is_reference(), "{err:?}");
    // Cascades are real foreign keys: deleting the agent removes its permissions.
    let perm = Permission {
        id: "p1".into(),
        agent_id: "a1".into(),
        resource: "r".into(),
        actions: vec!["read".into()],
        created_at: at(0),
        ..Default::default()
    };
    store.create(perm).await.unwrap();
    store.delete::<Agent>("a1").await.unwrap();
    assert_eq!(store.count::<Permission>(Cond::All).await.unwrap(), 0);

    // An unreachable server is Unavailable; a bad URL does not echo its password.
    let err = MySqlStore::connect("mysql://root:hunter2@127.0.0.1:1/test")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("hunter2"));
    let err = MySqlStore::connect("mysql://root:hunter2@127.0.0.1:3306/test?bogus=1")
        .await
        .unwrap_err();
    assert!(err.is_invalid_input());
    assert!(!format!("{err:?} {err}").contains("hunter2"));
    assert!(!format!("{store:?}").contains("mysql://"));
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_are_versioned_idempotent_and_safe_in_parallel() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    // A store that skips migrations sees an empty schema until it migrates.
    let lazy = db
        .store(MySqlOptions::default().max_connections(2).skip_migrations())
        .await
        .unwrap();
    // Four processes migrating at once.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let builder = db.builder(&MySqlOptions::default());
            tokio::spawn(async move {
                let store = MySqlStore::from_pool(
                    Pool::new(builder),
                    MySqlOptions::default().skip_migrations(),
                )
                .await
                .unwrap();
                store.migrate().await.unwrap()
            })
        })
        .collect();
    let reports = futures_join(tasks).await;
    assert_eq!(
        reports.iter().filter(|r| r.applied == [1]).count(),
        1,
        "{reports:?}"
    );
    assert!(reports.iter().all(|r| r.version == 1));
    assert_eq!(lazy.migrate().await.unwrap().applied, Vec::<u32>::new());
    assert_eq!(lazy.verify().await.unwrap(), Vec::<String>::new());
    let mut conn = lazy.pool().get_conn().await.unwrap();
    let n: Option<i64> = conn
        .query_first("SELECT COUNT(*) FROM kavach_store_migrations")
        .await
        .unwrap();
    assert_eq!(n, Some(1));
    let tables: Option<i64> = conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'kavach!_%' ESCAPE '!'",
        )
        .await
        .unwrap();
    assert_eq!(tables, Some(all_tables().len() as i64 + 1));
    // The schema administration the CLI uses.
    let admin = lazy.admin().expect("SQL backends have an admin");
    let status = admin.migration_status().await.unwrap();
    assert_eq!(
        (status.current_version(), status.pending.len()),
        (Some(1), 0)
    );
    let tables = admin.inspect_tables().await.unwrap();
    assert_eq!(tables.len(), all_tables().len());
    for def in all_tables() {
        let info = tables.iter().find(|t| t.name == def.name).expect("table");
        for column in &def.columns {
            let c = info
                .columns
                .iter()
                .find(|c| c.name == column.name)
                .expect("column");
            assert!(
                admin.column_type_compatible(def, column, &c.sql_type),
                "{}.{}",
                def.name,
                column.name
            );
            assert_eq!(c.nullable, column.nullable, "{}.{}", def.name, column.name);
        }
        for unique in &def.uniques {
            assert!(
                info.indexes
                    .iter()
                    .any(|i| i.name == unique.name && i.unique),
                "{}",
                unique.name
            );
        }
    }
    // The lazy store now checks lengths (it re-read the schema after migrating).
    assert!(
        lazy.create(user("u1", &"x".repeat(400)))
            .await
            .unwrap_err()
            .is_invalid_input()
    );
    drop(conn);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn statements_are_prepared_once_per_connection_and_batches_are_one_statement() {
    // One connection: the pool hands the store the connection we inspect.
    let (db, store) = setup!(MySqlOptions::default().max_connections(1));
    store.create(user("u1", "u1@x")).await.unwrap();
    store.create(agent("a1", "u1", "h1")).await.unwrap();
    store.find_agent_by_token_hash("h1").await.unwrap();
    let prepares = |store: MySqlStore| async move {
        let mut conn = store.pool().get_conn().await.unwrap();
        let row: Option<(String, u64)> = conn
            .query_first("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'")
            .await
            .unwrap();
        row.unwrap().1
    };
    let before = prepares(store.clone()).await;
    for i in 0..20 {
        let found = store
            .find_agent_by_token_hash(if i % 2 == 0 { "h1" } else { "nope" })
            .await
            .unwrap();
        assert_eq!(found.is_some(), i % 2 == 0);
    }
    assert_eq!(
        prepares(store.clone()).await,
        before,
        "no statement prepared again"
    );

    // 100 audit rows: one statement; 6000 rows (78,000 parameters): chunked,
    // still all or nothing.
    let log = |i: usize| AuditLog {
        id: format!("l{i:05}"),
        agent_id: "a1".into(),
        user_id: "u1".into(),
        action: "read".into(),
        resource: "r".into(),
        timestamp: at(i as i64),
        ..Default::default()
    };
    let before = prepares(store.clone()).await;
    store
        .create_audit_logs(&(0..100).map(log).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(prepares(store.clone()).await, before + 1);
    let mut many: Vec<AuditLog> = (100..6100).map(log).collect();
    many.push(log(5)); // duplicate key at the very end
    assert!(
        store
            .create_audit_logs(&many)
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(store.count::<AuditLog>(Cond::All).await.unwrap(), 100);
    many.pop();
    store.create_audit_logs(&many).await.unwrap();
    assert_eq!(store.count::<AuditLog>(Cond::All).await.unwrap(), 6100);
    // Returning updates and deletes of thousands of rows go by key in chunks.
    let updated = store
        .update_where_returning::<AuditLog>(
            Cond::ge("id", "l03000"),
            vec![Assign::Set("reason", "archived".into())],
        )
        .await
        .unwrap();
    assert_eq!(updated.len(), 3100);
    assert!(
        updated
            .iter()
            .all(|l| l.reason.as_deref() == Some("archived"))
    );
    let deleted = store
        .delete_where_returning::<AuditLog>(Cond::ge("id", "l01000"))
        .await
        .unwrap();
    assert_eq!(deleted.len(), 5100);
    assert_eq!(store.count::<AuditLog>(Cond::All).await.unwrap(), 1000);

    // With the only connection held by a transaction, an operation times out
    // as Unavailable instead of waiting forever.
    let tx = store.begin().await.unwrap();
    let short = MySqlStore::from_pool(
        store.pool().clone(),
        MySqlOptions::default()
            .skip_migrations()
            .acquire_timeout(Duration::from_millis(200)),
    );
    drop(tx);
    let short = short.await.unwrap();
    let held = short.begin().await.unwrap();
    let err = short.count::<User>(Cond::All).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    drop(held);
    db.drop_db().await;
}

//! MySqlStore against raw mysql_async in the same run, same server, same pool
//! settings: agent by token hash (10,000 agents) at 1 and 16 tasks, one audit
//! insert at 1 and 16 tasks, a 100-row audit batch. Prints a table of median
//! operations per second over three rounds.
//!
//! `cargo bench -p kavach-store-mysql --bench lookup` (server from
//! `KAVACH_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306/test`; a
//! scratch database is created and dropped).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use kavach_store_core::prelude::*;
use kavach_store_mysql::mysql_async::prelude::Queryable;
use kavach_store_mysql::mysql_async::{Opts, OptsBuilder, Params, Pool, Value as MyValue};
use kavach_store_mysql::{MySqlOptions, MySqlStore};
use sha2::{Digest, Sha256};

const AGENTS: usize = 10_000;
const ROUNDS: usize = 5;

/// `cargo test --all-targets` runs this binary without `--bench`: then it is
/// a quick smoke run (a hundredth of the operations, one round) that still
/// checks every operation against the server.
static SMOKE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn rounds() -> usize {
    if SMOKE.load(Ordering::Relaxed) {
        1
    } else {
        ROUNDS
    }
}

fn scaled(total: u64) -> u64 {
    if SMOKE.load(Ordering::Relaxed) {
        (total / 100).max(4)
    } else {
        total
    }
}

fn hash(i: usize) -> String {
    Sha256::digest(format!("token-{i}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn audit(agent: &str, n: u64) -> AuditLog {
    AuditLog {
        id: uuid::Uuid::now_v7().to_string(),
        agent_id: agent.to_string(),
        user_id: "bench-user".into(),
        action: "tool:call".into(),
        resource: "mcp:github:issues".into(),
        parameters: Some(serde_json::json!({"n": n})),
        result: AuditResult::default(),
        duration_ms: 12,
        timestamp: Utc::now(),
        ..Default::default()
    }
}

/// Runs `op(i)` `total` times spread over `tasks` tasks; returns ops/s.
async fn measure<F, Fut>(tasks: usize, total: u64, op: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    op(i).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Median ops/s of the store's and the raw operation, measured in
/// alternating rounds so both see the same machine load.
async fn compare<F, Fut, G, Gut>(tasks: usize, total: u64, ours: F, theirs: G) -> (f64, f64)
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + Send,
    G: Fn(u64) -> Gut + Send + Sync + Clone + 'static,
    Gut: Future<Output = ()> + Send,
{
    // Warm-up: connections, prepared statements.
    measure(tasks, scaled(total) / 4, ours.clone()).await;
    measure(tasks, scaled(total) / 4, theirs.clone()).await;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let total = scaled(total);
    for round in 0..rounds() {
        if round % 2 == 0 {
            a.push(measure(tasks, total, ours.clone()).await);
            b.push(measure(tasks, total, theirs.clone()).await);
        } else {
            b.push(measure(tasks, total, theirs.clone()).await);
            a.push(measure(tasks, total, ours.clone()).await);
        }
    }
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    (a[a.len() / 2], b[b.len() / 2])
}

/// A pseudo-random agent index (spread over the table, deterministic).
fn pick(i: u64) -> usize {
    (i.wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
        >> 33) as usize
        % AGENTS
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    SMOKE.store(!std::env::args().any(|a| a == "--bench"), Ordering::Relaxed);
    let url = std::env::var("KAVACH_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let admin =
        Pool::new(OptsBuilder::from_opts(Opts::from_url(&url).expect("url")).prefer_socket(false));
    let db = format!("kv_bench_{}", uuid::Uuid::now_v7().simple());
    let mut conn = match admin.get_conn().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIPPED: MySQL unreachable: {e}");
            return;
        }
    };
    conn.query_drop(format!(
        "CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    ))
    .await
    .unwrap();
    let version: Option<String> = conn.query_first("SELECT VERSION()").await.unwrap();

    let options = MySqlOptions::default().max_connections(16);
    // The raw side gets a pool with exactly the store's settings.
    let builder = MySqlStore::opts_builder(&url, &options)
        .unwrap()
        .db_name(Some(db.clone()));
    let store = MySqlStore::from_pool(Pool::new(builder.clone()), options)
        .await
        .expect("store");
    let raw = Pool::new(builder);

    let now = Utc.timestamp_millis_opt(1_774_234_575_123).unwrap();
    store
        .create(User {
            id: "bench-user".into(),
            email: "bench@x".into(),
            created_at: now,
            updated_at: now,
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<String> = (0..AGENTS)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let agents: Vec<Agent> = (0..AGENTS)
        .map(|i| Agent {
            id: ids[i].clone(),
            owner_id: "bench-user".into(),
            name: format!("agent {i}"),
            token_hash: hash(i),
            token_prefix: "kv_12345678".into(),
            metadata: Some(serde_json::json!({})),
            created_at: now,
            updated_at: now,
            ..Default::default()
        })
        .collect();
    for chunk in agents.chunks(1000) {
        store.create_many(chunk).await.unwrap();
    }
    let hashes: Arc<Vec<String>> = Arc::new((0..AGENTS).map(hash).collect());
    let ids = Arc::new(ids);

    let columns = Agent::table_def()
        .columns
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let lookup_sql: Arc<str> =
        format!("SELECT {columns} FROM `kavach_agents` WHERE `token_hash` = ? LIMIT 1").into();
    let audit_columns = AuditLog::table_def()
        .columns
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let one_row = format!(
        "({})",
        vec!["?"; AuditLog::table_def().columns.len()].join(", ")
    );
    let insert_one: Arc<str> =
        format!("INSERT INTO `kavach_audit_logs` ({audit_columns}) VALUES {one_row}").into();
    let insert_100: Arc<str> = format!(
        "INSERT INTO `kavach_audit_logs` ({audit_columns}) VALUES {}",
        vec![one_row.as_str(); 100].join(", ")
    )
    .into();
    let params = |log: &AuditLog| -> Vec<MyValue> {
        let t = log.timestamp;
        log.to_row()
            .into_iter()
            .map(|v| match v {
                Value::Null => MyValue::NULL,
                Value::Text(s) => MyValue::Bytes(s.into_bytes()),
                Value::Int(i) => MyValue::Int(i),
                Value::Bool(b) => MyValue::Int(b as i64),
                Value::Json(j) => MyValue::Bytes(j.to_string().into_bytes()),
                Value::Timestamp(_) => {
                    use chrono::{Datelike, Timelike};
                    MyValue::Date(
                        t.year() as u16,
                        t.month() as u8,
                        t.day() as u8,
                        t.hour() as u8,
                        t.minute() as u8,
                        t.second() as u8,
                        t.timestamp_subsec_millis() * 1000,
                    )
                }
            })
            .collect()
    };

    let mut table: Vec<(String, f64, f64)> = Vec::new();
    for tasks in [1usize, 16] {
        let total = if tasks == 1 { 4_000 } else { 16_000 };
        let s = store.clone();
        let h = hashes.clone();
        let ours = move |i| {
            let (s, h) = (s.clone(), h.clone());
            async move {
                let a = s.find_agent_by_token_hash(&h[pick(i)]).await.unwrap();
                assert!(a.is_some());
            }
        };
        let (p, h, sql) = (raw.clone(), hashes.clone(), lookup_sql.clone());
        let theirs = move |i| {
            let (p, h, sql) = (p.clone(), h.clone(), sql.clone());
            async move {
                let mut c = p.get_conn().await.unwrap();
                let row: Option<kavach_store_mysql::mysql_async::Row> =
                    c.exec_first(&*sql, (h[pick(i)].as_str(),)).await.unwrap();
                assert!(row.is_some());
            }
        };
        let (ours, theirs) = compare(tasks, total, ours, theirs).await;
        table.push((
            format!("agent by token hash, {tasks} task(s)"),
            ours,
            theirs,
        ));
    }
    for tasks in [1usize, 16] {
        let total = if tasks == 1 { 600 } else { 4_000 };
        let (s, ids2) = (store.clone(), ids.clone());
        let ours = move |i| {
            let (s, ids2) = (s.clone(), ids2.clone());
            async move {
                s.create_audit_log(audit(&ids2[pick(i)], i)).await.unwrap();
            }
        };
        let (p, ids2, sql) = (raw.clone(), ids.clone(), insert_one.clone());
        let ours_params = params;
        let theirs = move |i| {
            let (p, ids2, sql) = (p.clone(), ids2.clone(), sql.clone());
            async move {
                let mut c = p.get_conn().await.unwrap();
                let values = ours_params(&audit(&ids2[pick(i)], i));
                c.exec_drop(&*sql, Params::Positional(values))
                    .await
                    .unwrap();
            }
        };
        let (ours, theirs) = compare(tasks, total, ours, theirs).await;
        table.push((format!("one audit insert, {tasks} task(s)"), ours, theirs));
    }
    {
        let (s, ids2) = (store.clone(), ids.clone());
        let ours = move |i| {
            let (s, ids2) = (s.clone(), ids2.clone());
            async move {
                let batch: Vec<AuditLog> = (0..100)
                    .map(|k| audit(&ids2[pick(i * 100 + k)], k))
                    .collect();
                s.create_audit_logs(&batch).await.unwrap();
            }
        };
        let (p, ids2, sql) = (raw.clone(), ids.clone(), insert_100.clone());
        let theirs = move |i| {
            let (p, ids2, sql) = (p.clone(), ids2.clone(), sql.clone());
            async move {
                let mut c = p.get_conn().await.unwrap();
                let values: Vec<MyValue> = (0..100)
                    .flat_map(|k| params(&audit(&ids2[pick(i * 100 + k)], k)))
                    .collect();
                c.exec_drop(&*sql, Params::Positional(values))
                    .await
                    .unwrap();
            }
        };
        let (ours, theirs) = compare(1, 60, ours, theirs).await;
        table.push((
            "100-row audit batch, 1 task (batches/s)".into(),
            ours,
            theirs,
        ));
    }

    println!(
        "\nMySqlStore vs raw mysql_async — {} on 127.0.0.1 (TCP), {AGENTS} agents, median of {}{}",
        version.unwrap_or_default(),
        rounds(),
        if SMOKE.load(Ordering::Relaxed) {
            " (smoke run: use cargo bench for numbers)"
        } else {
            ""
        }
    );
    println!("| operation | MySqlStore ops/s | raw mysql_async ops/s | store / raw |");
    println!("|---|---:|---:|---:|");
    for (name, ours, theirs) in &table {
        println!(
            "| {name} | {ours:.0} | {theirs:.0} | {:.2} |",
            ours / theirs
        );
    }
    drop(store);
    let _ = raw.disconnect().await;
    conn.query_drop(format!("DROP DATABASE `{db}`"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
}

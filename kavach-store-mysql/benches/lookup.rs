//! MySqlStore against raw mysql_async in the same run, same server, same pool
//! settings: agent by token hash (10,000 agents) at 1 and 16 tasks, one audit
//! insert at 1 and 16 tasks, a 100-row audit batch. Prints a table of median
//! (over five rounds) mean latencies and the throughput they imply.
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

/// Runs `total` iterations spread over `tasks` tasks; each iteration runs
/// the store's operation and the raw one back to back (which goes first
/// alternates), timing each, so both see the same machine load (other
/// processes share these cores). Returns the mean latency of each (seconds).
async fn interleaved<F, Fut, G, Gut>(tasks: usize, total: u64, ours: F, theirs: G) -> (f64, f64)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
    G: Fn(u64) -> Gut + Send + Sync + 'static,
    Gut: Future<Output = ()> + Send,
{
    let (ours, theirs) = (Arc::new(ours), Arc::new(theirs));
    let next = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (ours, theirs, next) = (ours.clone(), theirs.clone(), next.clone());
            tokio::spawn(async move {
                let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break (a, b);
                    }
                    if i % 2 == 0 {
                        let t = Instant::now();
                        ours(i).await;
                        a += t.elapsed();
                        let t = Instant::now();
                        theirs(i).await;
                        b += t.elapsed();
                    } else {
                        let t = Instant::now();
                        theirs(i).await;
                        b += t.elapsed();
                        let t = Instant::now();
                        ours(i).await;
                        a += t.elapsed();
                    }
                }
            })
        })
        .collect();
    let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
    for h in handles {
        let (x, y) = h.await.expect("task");
        a += x;
        b += y;
    }
    (
        a.as_secs_f64() / total as f64,
        b.as_secs_f64() / total as f64,
    )
}

/// Median (over rounds) mean latency of the store's and the raw operation.
async fn compare<F, Fut, G, Gut>(tasks: usize, total: u64, ours: F, theirs: G) -> (f64, f64)
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + Send,
    G: Fn(u64) -> Gut + Send + Sync + Clone + 'static,
    Gut: Future<Output = ()> + Send,
{
    // Warm-up: connections, prepared statements.
    interleaved(tasks, scaled(total) / 4, ours.clone(), theirs.clone()).await;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds() {
        let (x, y) = interleaved(tasks, scaled(total), ours.clone(), theirs.clone()).await;
        a.push(x);
        b.push(y);
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

    let mut table: Vec<(String, usize, f64, f64)> = Vec::new();
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
            tasks,
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
        table.push((
            format!("one audit insert, {tasks} task(s)"),
            tasks,
            ours,
            theirs,
        ));
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
            "100-row audit batch, 1 task (batches)".into(),
            1,
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
    println!("(store and raw calls interleaved; ops/s = tasks / mean latency)");
    println!("| operation | store µs | raw µs | store ops/s | raw ops/s | store / raw |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, tasks, ours, theirs) in &table {
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} |",
            ours * 1e6,
            theirs * 1e6,
            *tasks as f64 / ours,
            *tasks as f64 / theirs,
            theirs / ours
        );
    }
    drop(store);
    let _ = raw.disconnect().await;
    conn.query_drop(format!("DROP DATABASE `{db}`"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
}

//! Hot paths of the SQLite store against raw rusqlite in the same run:
//! `find_agent_by_token_hash` with 10,000 agents (concurrency 1 and 16),
//! a single audit insert vs a 100-row batch, and the newest 50 audit rows
//! of an agent (100,000 rows). Prints a table.
//!
//! `cargo bench -p kavach-store-sqlite --bench lookup`
//! (`KAVACH_BENCH_QUICK=1` for a short smoke run.)

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use kavach_store_core::prelude::*;
use kavach_store_sqlite::rusqlite::{self, Connection, types::Value as SqlValue};
use kavach_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};

const AGENTS: usize = 10_000;
const AUDIT_ROWS: usize = 100_000;
const HOT_AGENT_ROWS: usize = 10_000;

fn quick() -> bool {
    std::env::var_os("KAVACH_BENCH_QUICK").is_some()
}

fn id(prefix: &str) -> String {
    // Time-ordered ids (perf-notes pitfall 6).
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

fn t(seconds: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_774_234_575 + seconds, 0).unwrap()
}

fn hash(i: usize) -> String {
    format!(
        "{:064x}",
        (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    )
}

struct Row {
    name: String,
    concurrency: usize,
    ops_per_sec: f64,
    baseline: Option<f64>,
}

/// Median of `reps` runs of `n` operations, as operations per second.
async fn measure<F, Fut>(reps: usize, n: usize, mut run: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut rates: Vec<f64> = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        run(n).await;
        rates.push(n as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn measure_sync(reps: usize, n: usize, mut run: impl FnMut(usize)) -> f64 {
    let mut rates: Vec<f64> = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        run(n);
        rates.push(n as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

const AGENT_SQL: &str = "SELECT \"id\", \"owner_id\", \"tenant_id\", \"name\", \"type\", \"status\", \"token_hash\", \
    \"token_prefix\", \"expires_at\", \"last_active_at\", \"metadata\", \"created_at\", \"updated_at\" \
    FROM \"kavach_agents\" WHERE \"token_hash\" = ?1 LIMIT 1";

fn raw_lookup(conn: &Connection, h: &str) -> Vec<SqlValue> {
    let mut stmt = conn.prepare_cached(AGENT_SQL).unwrap();
    stmt.query_row([h], |r| (0..13).map(|i| r.get::<_, SqlValue>(i)).collect())
        .unwrap()
}

async fn seed(store: &SqliteStore) -> (Vec<String>, String, String) {
    let users: Vec<User> = (0..100)
        .map(|i| User {
            id: id("u"),
            email: format!("user{i}@example.com"),
            created_at: t(0),
            updated_at: t(0),
            ..User::default()
        })
        .collect();
    store.create_many(&users).await.unwrap();
    let mut agent_ids = Vec::with_capacity(AGENTS);
    for chunk in (0..AGENTS).collect::<Vec<_>>().chunks(500) {
        let agents: Vec<Agent> = chunk
            .iter()
            .map(|&i| {
                let a = Agent {
                    id: id("a"),
                    owner_id: users[i % users.len()].id.clone(),
                    name: format!("agent {i}"),
                    token_hash: hash(i),
                    token_prefix: "kv_12345678".into(),
                    expires_at: Some(t(86_400)),
                    metadata: Some(serde_json::json!({})),
                    created_at: t(0),
                    updated_at: t(0),
                    ..Agent::default()
                };
                agent_ids.push(a.id.clone());
                a
            })
            .collect();
        store.create_many(&agents).await.unwrap();
    }
    let hot = agent_ids[0].clone();
    let rows = if quick() { AUDIT_ROWS / 10 } else { AUDIT_ROWS };
    let hot_rows = if quick() {
        HOT_AGENT_ROWS / 10
    } else {
        HOT_AGENT_ROWS
    };
    for start in (0..rows).step_by(1000) {
        let batch: Vec<AuditLog> = (start..start + 1000)
            .map(|i| {
                let agent = if i < hot_rows {
                    hot.clone()
                } else {
                    agent_ids[i % AGENTS].clone()
                };
                AuditLog {
                    id: id("e"),
                    agent_id: agent,
                    user_id: users[0].id.clone(),
                    action: "read".into(),
                    resource: "mcp:github:repos".into(),
                    parameters: Some(serde_json::json!({})),
                    duration_ms: 3,
                    timestamp: t(i as i64),
                    ..AuditLog::default()
                }
            })
            .collect();
        store.create_audit_logs(&batch).await.unwrap();
    }
    (agent_ids, hot, users[0].id.clone())
}

fn entry(agent: &str, user: &str, i: usize) -> AuditLog {
    AuditLog {
        id: id("b"),
        agent_id: agent.to_string(),
        user_id: user.to_string(),
        action: "read".into(),
        resource: "mcp:github:repos".into(),
        parameters: Some(serde_json::json!({"i": i})),
        duration_ms: 3,
        timestamp: t(200_000 + i as i64),
        ..AuditLog::default()
    }
}

fn raw_insert_params(e: &AuditLog) -> [SqlValue; 13] {
    [
        SqlValue::Text(e.id.clone()),
        SqlValue::Text(e.agent_id.clone()),
        SqlValue::Text(e.user_id.clone()),
        SqlValue::Text(e.action.clone()),
        SqlValue::Text(e.resource.clone()),
        SqlValue::Text(e.parameters.as_ref().unwrap().to_string()),
        SqlValue::Text("allowed".into()),
        SqlValue::Null,
        SqlValue::Integer(e.duration_ms),
        SqlValue::Null,
        SqlValue::Null,
        SqlValue::Null,
        SqlValue::Integer(e.timestamp.timestamp()),
    ]
}

const INSERT_SQL: &str = "INSERT INTO \"kavach_audit_logs\" (\"id\", \"agent_id\", \"user_id\", \"action\", \"resource\", \
    \"parameters\", \"result\", \"reason\", \"duration_ms\", \"tokens_cost\", \"ip\", \"user_agent\", \"timestamp\") \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let path =
        std::env::temp_dir().join(format!("kavach-bench-{}.db", uuid::Uuid::now_v7().simple()));
    let store = Arc::new(SqliteOptions::file(&path).open().await.unwrap());
    let seeding = Instant::now();
    let (agents, hot, user) = seed(&store).await;
    eprintln!(
        "seeded {AGENTS} agents and {} audit rows in {:?}",
        if quick() { AUDIT_ROWS / 10 } else { AUDIT_ROWS },
        seeding.elapsed()
    );

    let reps = 3;
    let n = if quick() { 2_000 } else { 20_000 };
    let mut table: Vec<Row> = Vec::new();

    // --- find_agent_by_token_hash ---
    let raw = Connection::open(&path).unwrap();
    let hashes: Arc<Vec<String>> = Arc::new((0..AGENTS).map(hash).collect());
    let raw1 = measure_sync(reps, n, |n| {
        for i in 0..n {
            std::hint::black_box(raw_lookup(&raw, &hashes[(i * 7919) % AGENTS]));
        }
    });
    table.push(Row {
        name: "raw rusqlite prepare_cached, calling thread".into(),
        concurrency: 1,
        ops_per_sec: raw1,
        baseline: None,
    });

    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    let raw_threads = measure_sync(reps, n, |n| {
        std::thread::scope(|s| {
            for t in 0..cores {
                let (path, hashes) = (&path, &hashes);
                s.spawn(move || {
                    let conn = Connection::open(path).unwrap();
                    for i in (t..n).step_by(cores) {
                        std::hint::black_box(raw_lookup(&conn, &hashes[(i * 7919) % AGENTS]));
                    }
                });
            }
        });
    });
    table.push(Row {
        name: format!("raw rusqlite, {cores} OS threads (one connection each)"),
        concurrency: cores,
        ops_per_sec: raw_threads,
        baseline: None,
    });

    // spawn_blocking per call over a connection pool: the design not taken.
    let pool: Arc<Mutex<Vec<Connection>>> = Arc::new(Mutex::new(
        (0..16).map(|_| Connection::open(&path).unwrap()).collect(),
    ));
    for conc in [1usize, 16] {
        let rate = measure(reps, n, |n| {
            let (pool, hashes) = (pool.clone(), hashes.clone());
            async move {
                let tasks: Vec<_> = (0..conc)
                    .map(|t| {
                        let (pool, hashes) = (pool.clone(), hashes.clone());
                        tokio::spawn(async move {
                            for i in (t..n).step_by(conc) {
                                let (pool, hashes) = (pool.clone(), hashes.clone());
                                tokio::task::spawn_blocking(move || {
                                    let conn = pool.lock().unwrap().pop().unwrap();
                                    std::hint::black_box(raw_lookup(
                                        &conn,
                                        &hashes[(i * 7919) % AGENTS],
                                    ));
                                    pool.lock().unwrap().push(conn);
                                })
                                .await
                                .unwrap();
                            }
                        })
                    })
                    .collect();
                futures::future::join_all(tasks).await;
            }
        })
        .await;
        table.push(Row {
            name: "spawn_blocking per call (raw, connection pool)".into(),
            concurrency: conc,
            ops_per_sec: rate,
            baseline: Some(raw1),
        });
    }

    for conc in [1usize, 16] {
        let rate = measure(reps, n, |n| {
            let (pool, hashes) = (pool.clone(), hashes.clone());
            async move {
                let tasks: Vec<_> = (0..conc)
                    .map(|t| {
                        let (pool, hashes) = (pool.clone(), hashes.clone());
                        tokio::spawn(async move {
                            for i in (t..n).step_by(conc) {
                                tokio::task::block_in_place(|| {
                                    let conn = pool.lock().unwrap().pop().unwrap();
                                    std::hint::black_box(raw_lookup(
                                        &conn,
                                        &hashes[(i * 7919) % AGENTS],
                                    ));
                                    pool.lock().unwrap().push(conn);
                                });
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                futures::future::join_all(tasks).await;
            }
        })
        .await;
        table.push(Row {
            name: "block_in_place per call (raw, connection pool)".into(),
            concurrency: conc,
            ops_per_sec: rate,
            baseline: Some(raw1),
        });
    }

    // The floor of a thread hand-off, without any SQL.
    {
        let (tx, rx) = flume::unbounded::<(usize, tokio::sync::oneshot::Sender<usize>)>();
        std::thread::spawn(move || {
            while let Ok((i, reply)) = rx.recv() {
                let _ = reply.send(i);
            }
        });
        let rate = measure(reps, n, |n| {
            let tx = tx.clone();
            async move {
                for i in 0..n {
                    let (s, r) = tokio::sync::oneshot::channel();
                    tx.send((i, s)).unwrap();
                    r.await.unwrap();
                }
            }
        })
        .await;
        table.push(Row {
            name: "no-op round trip: channel to a dedicated thread + oneshot".into(),
            concurrency: 1,
            ops_per_sec: rate,
            baseline: None,
        });
        let rate = measure(reps, n, |n| async move {
            for i in 0..n {
                std::hint::black_box(tokio::task::spawn_blocking(move || i).await.unwrap());
            }
        })
        .await;
        table.push(Row {
            name: "no-op round trip: spawn_blocking".into(),
            concurrency: 1,
            ops_per_sec: rate,
            baseline: None,
        });
    }

    for conc in [1usize, 16] {
        let rate = measure(reps, n, |n| {
            let (store, hashes) = (store.clone(), hashes.clone());
            async move {
                let tasks: Vec<_> = (0..conc)
                    .map(|t| {
                        let (store, hashes) = (store.clone(), hashes.clone());
                        tokio::spawn(async move {
                            for i in (t..n).step_by(conc) {
                                let a = store
                                    .find_agent_by_token_hash(&hashes[(i * 7919) % AGENTS])
                                    .await
                                    .unwrap();
                                std::hint::black_box(a.unwrap());
                            }
                        })
                    })
                    .collect();
                futures::future::join_all(tasks).await;
            }
        })
        .await;
        table.push(Row {
            name: "SqliteStore::find_agent_by_token_hash".into(),
            concurrency: conc,
            ops_per_sec: rate,
            baseline: Some(raw1),
        });
    }

    // Where the time goes: the raw query through the store's reader
    // threads, and the row primitive without decoding into `Agent`.
    let rate = measure(reps, n, |n| {
        let (store, hashes) = (store.clone(), hashes.clone());
        async move {
            for i in 0..n {
                let h = hashes[(i * 7919) % AGENTS].clone();
                std::hint::black_box(
                    store
                        .with_read_connection(move |c| Ok(raw_lookup(c, &h)))
                        .await
                        .unwrap(),
                );
            }
        }
    })
    .await;
    table.push(Row {
        name: "raw query through the store's reader threads (with_read_connection)".into(),
        concurrency: 1,
        ops_per_sec: rate,
        baseline: Some(raw1),
    });
    let rate = measure(reps, n, |n| {
        let (store, hashes) = (store.clone(), hashes.clone());
        async move {
            for i in 0..n {
                let q = Select::new(
                    Agent::table_def(),
                    Cond::eq("token_hash", hashes[(i * 7919) % AGENTS].clone()),
                )
                .limit(1);
                std::hint::black_box(store.select_rows(&q).await.unwrap());
            }
        }
    })
    .await;
    table.push(Row {
        name: "SqliteStore::select_rows (rows, no model decode)".into(),
        concurrency: 1,
        ops_per_sec: rate,
        baseline: Some(raw1),
    });

    // --- newest 50 audit rows of an agent (10,000 rows of its own) ---
    // The raw baseline gets the plain-column index a hand-written schema
    // would have; the store uses its index on the normalised timestamp.
    raw.execute_batch("CREATE INDEX IF NOT EXISTS bench_plain_agent_ts ON kavach_audit_logs (agent_id, timestamp, id)")
        .unwrap();
    let q_n = n / 10;
    let raw_recent = measure_sync(reps, q_n, |n| {
        let mut stmt = raw
            .prepare_cached("SELECT * FROM kavach_audit_logs WHERE agent_id = ?1 ORDER BY timestamp DESC, id DESC LIMIT 50")
            .unwrap();
        for _ in 0..n {
            let rows: Vec<Vec<SqlValue>> = stmt
                .query_map([&hot], |r| {
                    (0..13).map(|i| r.get::<_, SqlValue>(i)).collect()
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(rows.len(), 50);
        }
    });
    table.push(Row {
        name: "raw: newest 50 audit rows of an agent (plain index)".into(),
        concurrency: 1,
        ops_per_sec: raw_recent,
        baseline: None,
    });
    let recent = measure(reps, q_n, |n| {
        let (store, hot) = (store.clone(), hot.clone());
        async move {
            for _ in 0..n {
                let rows = store
                    .query_audit_logs(&AuditFilter::agent(hot.clone()), Some(50), None)
                    .await
                    .unwrap();
                assert_eq!(rows.len(), 50);
            }
        }
    })
    .await;
    table.push(Row {
        name: "SqliteStore::query_audit_logs(agent, 50) (normalised order)".into(),
        concurrency: 1,
        ops_per_sec: recent,
        baseline: Some(raw_recent),
    });

    // --- audit inserts: single vs 100-row batch, FULL and NORMAL ---
    let ins_n = if quick() { 300 } else { 2_000 };
    for sync in [Synchronous::Full, Synchronous::Normal] {
        let label = format!("{sync:?}").to_uppercase();
        let s = Arc::new(
            SqliteOptions::file(&path)
                .synchronous(sync)
                .skip_migrations(true)
                .readers(1)
                .open()
                .await
                .unwrap(),
        );
        let raw_w = Connection::open(&path).unwrap();
        raw_w.pragma_update(None, "synchronous", &label).unwrap();
        let a = agents[1].clone();
        // Start each measurement from an empty WAL, so that no side pays for
        // checkpointing the other's (or the seeding's) pages.
        let checkpoint = || {
            raw_w
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .unwrap()
        };
        checkpoint();
        let raw_single = measure_sync(reps, ins_n, |n| {
            let mut stmt = raw_w.prepare_cached(INSERT_SQL).unwrap();
            for i in 0..n {
                stmt.execute(rusqlite::params_from_iter(raw_insert_params(&entry(
                    &a, &user, i,
                ))))
                .unwrap();
            }
        });
        table.push(Row {
            name: format!("raw: one audit insert (autocommit), {label}"),
            concurrency: 1,
            ops_per_sec: raw_single,
            baseline: None,
        });
        checkpoint();
        let single = measure(reps, ins_n, |n| {
            let (s, a, user) = (s.clone(), a.clone(), user.clone());
            async move {
                for i in 0..n {
                    s.create_audit_log(entry(&a, &user, i)).await.unwrap();
                }
            }
        })
        .await;
        table.push(Row {
            name: format!("SqliteStore::create_audit_log, {label}"),
            concurrency: 1,
            ops_per_sec: single,
            baseline: Some(raw_single),
        });

        let batches = ins_n / 20;
        checkpoint();
        let raw_batch = measure_sync(reps, batches * 100, |rows| {
            for _ in 0..rows / 100 {
                let tx = raw_w.unchecked_transaction().unwrap();
                {
                    let mut stmt = tx.prepare_cached(INSERT_SQL).unwrap();
                    for i in 0..100 {
                        stmt.execute(rusqlite::params_from_iter(raw_insert_params(&entry(
                            &a, &user, i,
                        ))))
                        .unwrap();
                    }
                }
                tx.commit().unwrap();
            }
        });
        table.push(Row {
            name: format!("raw: 100-row audit batch in a transaction, {label} (rows/s)"),
            concurrency: 1,
            ops_per_sec: raw_batch,
            baseline: None,
        });
        checkpoint();
        let batch = measure(reps, batches * 100, |rows| {
            let (s, a, user) = (s.clone(), a.clone(), user.clone());
            async move {
                for _ in 0..rows / 100 {
                    let entries: Vec<AuditLog> = (0..100).map(|i| entry(&a, &user, i)).collect();
                    s.create_audit_logs(&entries).await.unwrap();
                }
            }
        })
        .await;
        table.push(Row {
            name: format!("SqliteStore::create_audit_logs(100), {label} (rows/s)"),
            concurrency: 1,
            ops_per_sec: batch,
            baseline: Some(raw_batch),
        });
    }

    println!("\n| operation | tasks | ops/s | µs/op | vs raw baseline |");
    println!("|---|---:|---:|---:|---:|");
    for r in &table {
        let vs = r
            .baseline
            .map_or("—".to_string(), |b| format!("{:.2}×", r.ops_per_sec / b));
        println!(
            "| {} | {} | {:.0} | {:.1} | {} |",
            r.name,
            r.concurrency,
            r.ops_per_sec,
            1e6 / r.ops_per_sec,
            vs
        );
    }
    println!("\n(µs/op is wall time per operation at the given concurrency, i.e. 1/throughput.)");

    drop(store);
    tokio::time::sleep(Duration::from_millis(10)).await;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

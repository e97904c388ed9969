//! Hot paths of the SQLite store against raw rusqlite in the same run:
//! `find_agent_by_token_hash` with 10,000 agents (concurrency 1 and 16),
//! a single audit insert vs a 100-row batch, and the newest 50 audit rows
//! of an agent (100,000 rows). Prints a table.
//!
//! `cargo bench -p kavach-store-sqlite --bench lookup`
//! (`KAVACH_BENCH_QUICK=1` for a short smoke run.)

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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

type Run = Box<dyn Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// One measured variant: `run(n)` performs `n` operations.
struct Variant {
    name: String,
    tasks: usize,
    run: Run,
}

fn variant<F, Fut>(name: impl Into<String>, tasks: usize, f: F) -> Variant
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Variant {
        name: name.into(),
        tasks,
        run: Box::new(move |n| Box::pin(f(n))),
    }
}

/// Runs `n` operations `tasks`-wide: task `t` does operations t, t+tasks, …
async fn spread<F, Fut>(tasks: usize, n: usize, op: F)
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                for i in (t..n).step_by(tasks) {
                    op(i).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
}

/// Measures the variants of one section in interleaved rounds (so that the
/// load of this shared machine hits all of them alike) and prints the
/// median rate of each, relative to the first (the raw baseline).
async fn section(
    title: &str,
    unit: &str,
    rounds: usize,
    n: usize,
    variants: Vec<Variant>,
    before_each: &(dyn Fn() + Sync),
) {
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (v, rate) in variants.iter().zip(rates.iter_mut()) {
            before_each();
            let start = Instant::now();
            (v.run)(n).await;
            rate.push(n as f64 / start.elapsed().as_secs_f64());
        }
    }
    println!("\n### {title}\n");
    println!("| variant | tasks | {unit}/s (median of {rounds}) | µs per op | vs first row |");
    println!("|---|---:|---:|---:|---:|");
    let medians: Vec<f64> = rates
        .iter_mut()
        .map(|r| {
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        })
        .collect();
    for (v, m) in variants.iter().zip(&medians) {
        println!(
            "| {} | {} | {:.0} | {:.1} | {:.2}× |",
            v.name,
            v.tasks,
            m,
            1e6 / m,
            m / medians[0]
        );
    }
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
    println!(
        "seeded {AGENTS} agents and {} audit rows in {:?}; {} CPUs; `SqliteStore` with default options ({} readers)",
        if quick() { AUDIT_ROWS / 10 } else { AUDIT_ROWS },
        seeding.elapsed(),
        std::thread::available_parallelism().map_or(0, |c| c.get()),
        std::thread::available_parallelism()
            .map_or(2, |c| c.get())
            .clamp(2, 4),
    );
    let rounds = if quick() { 3 } else { 7 };
    let n = if quick() { 1_000 } else { 5_000 };
    let nothing = || {};

    // --- find_agent_by_token_hash ---
    let hashes: Arc<Vec<String>> = Arc::new((0..AGENTS).map(hash).collect());
    let key = |i: usize| (i * 7919) % AGENTS;
    let raw = Arc::new(Mutex::new(Connection::open(&path).unwrap()));
    let pool: Arc<Mutex<Vec<Connection>>> = Arc::new(Mutex::new(
        (0..16).map(|_| Connection::open(&path).unwrap()).collect(),
    ));
    let mut lookups = Vec::new();
    {
        let (raw, hashes) = (raw.clone(), hashes.clone());
        lookups.push(variant(
            "raw rusqlite `prepare_cached`, on the calling thread (blocking it)",
            1,
            move |n| {
                let (raw, hashes) = (raw.clone(), hashes.clone());
                async move {
                    let conn = raw.lock().unwrap();
                    for i in 0..n {
                        std::hint::black_box(raw_lookup(&conn, &hashes[key(i)]));
                    }
                }
            },
        ));
    }
    for tasks in [1, 16] {
        let (store, hashes) = (store.clone(), hashes.clone());
        lookups.push(variant(
            "`SqliteStore::find_agent_by_token_hash`",
            tasks,
            move |n| {
                let (store, hashes) = (store.clone(), hashes.clone());
                spread(tasks, n, move |i| {
                    let (store, hashes) = (store.clone(), hashes.clone());
                    async move {
                        std::hint::black_box(
                            store
                                .find_agent_by_token_hash(&hashes[key(i)])
                                .await
                                .unwrap()
                                .unwrap(),
                        );
                    }
                })
            },
        ));
    }
    {
        let (store, hashes) = (store.clone(), hashes.clone());
        lookups.push(variant(
            "raw query sent to the store's reader threads (`with_read_connection`)",
            1,
            move |n| {
                let (store, hashes) = (store.clone(), hashes.clone());
                async move {
                    for i in 0..n {
                        let h = hashes[key(i)].clone();
                        std::hint::black_box(
                            store
                                .with_read_connection(move |c| Ok(raw_lookup(c, &h)))
                                .await
                                .unwrap(),
                        );
                    }
                }
            },
        ));
    }
    for tasks in [1, 16] {
        let (pool, hashes) = (pool.clone(), hashes.clone());
        lookups.push(variant(
            "raw query, `spawn_blocking` per call (pool of connections)",
            tasks,
            move |n| {
                let (pool, hashes) = (pool.clone(), hashes.clone());
                spread(tasks, n, move |i| {
                    let (pool, hashes) = (pool.clone(), hashes.clone());
                    async move {
                        tokio::task::spawn_blocking(move || {
                            let conn = pool.lock().unwrap().pop().unwrap();
                            std::hint::black_box(raw_lookup(&conn, &hashes[key(i)]));
                            pool.lock().unwrap().push(conn);
                        })
                        .await
                        .unwrap();
                    }
                })
            },
        ));
    }
    for tasks in [1, 16] {
        let (pool, hashes) = (pool.clone(), hashes.clone());
        lookups.push(variant(
            "raw query, `block_in_place` per call (pool of connections)",
            tasks,
            move |n| {
                let (pool, hashes) = (pool.clone(), hashes.clone());
                spread(tasks, n, move |i| {
                    let (pool, hashes) = (pool.clone(), hashes.clone());
                    async move {
                        tokio::task::block_in_place(|| {
                            let conn = pool.lock().unwrap().pop().unwrap();
                            std::hint::black_box(raw_lookup(&conn, &hashes[key(i)]));
                            pool.lock().unwrap().push(conn);
                        });
                        tokio::task::yield_now().await;
                    }
                })
            },
        ));
    }
    lookups.push(variant(
        "no-op round trip to a dedicated thread (channel + oneshot)",
        1,
        {
            let (tx, rx) = flume::unbounded::<tokio::sync::oneshot::Sender<()>>();
            std::thread::spawn(move || {
                while let Ok(reply) = rx.recv() {
                    let _ = reply.send(());
                }
            });
            move |n| {
                let tx = tx.clone();
                async move {
                    for _ in 0..n {
                        let (s, r) = tokio::sync::oneshot::channel();
                        tx.send(s).unwrap();
                        r.await.unwrap();
                    }
                }
            }
        },
    ));
    section(
        &format!("Agent by token hash ({AGENTS} agents)"),
        "lookups",
        rounds,
        n,
        lookups,
        &nothing,
    )
    .await;

    // --- newest 50 audit rows of an agent (10,000 rows of its own) ---
    // The raw baseline gets the plain-column index a hand-written schema
    // would have; the store orders by its index on the normalised timestamp.
    raw.lock()
        .unwrap()
        .execute_batch("CREATE INDEX IF NOT EXISTS bench_plain_agent_ts ON kavach_audit_logs (agent_id, timestamp, id)")
        .unwrap();
    let mut recent = Vec::new();
    {
        let (raw, hot) = (raw.clone(), hot.clone());
        recent.push(variant("raw rusqlite, plain `(agent_id, timestamp, id)` index", 1, move |n| {
            let (raw, hot) = (raw.clone(), hot.clone());
            async move {
                let conn = raw.lock().unwrap();
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT * FROM kavach_audit_logs WHERE agent_id = ?1 ORDER BY timestamp DESC, id DESC LIMIT 50",
                    )
                    .unwrap();
                for _ in 0..n {
                    let rows: Vec<Vec<SqlValue>> = stmt
                        .query_map([&hot], |r| (0..13).map(|i| r.get::<_, SqlValue>(i)).collect())
                        .unwrap()
                        .collect::<rusqlite::Result<_>>()
                        .unwrap();
                    assert_eq!(rows.len(), 50);
                }
            }
        }));
    }
    {
        let (store, hot) = (store.clone(), hot.clone());
        recent.push(variant(
            "`SqliteStore::query_audit_logs(agent, limit 50)`",
            1,
            move |n| {
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
            },
        ));
    }
    section(
        "Newest 50 audit rows of an agent (100,000 rows, 10,000 of this agent)",
        "queries",
        rounds,
        n / 10,
        recent,
        &nothing,
    )
    .await;

    // --- audit inserts: single vs 100-row batch, FULL and NORMAL ---
    let ins_n = if quick() { 200 } else { 1_000 };
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
        let raw_w = Arc::new(Mutex::new(Connection::open(&path).unwrap()));
        raw_w
            .lock()
            .unwrap()
            .pragma_update(None, "synchronous", &label)
            .unwrap();
        let (a, user) = (agents[1].clone(), user.clone());
        let mut inserts = Vec::new();
        {
            let (raw_w, a, user) = (raw_w.clone(), a.clone(), user.clone());
            inserts.push(variant(
                "raw rusqlite: one insert (autocommit)",
                1,
                move |n| {
                    let (raw_w, a, user) = (raw_w.clone(), a.clone(), user.clone());
                    async move {
                        let conn = raw_w.lock().unwrap();
                        let mut stmt = conn.prepare_cached(INSERT_SQL).unwrap();
                        for i in 0..n {
                            stmt.execute(rusqlite::params_from_iter(raw_insert_params(&entry(
                                &a, &user, i,
                            ))))
                            .unwrap();
                        }
                    }
                },
            ));
        }
        {
            let (s, a, user) = (s.clone(), a.clone(), user.clone());
            inserts.push(variant("`SqliteStore::create_audit_log`", 1, move |n| {
                let (s, a, user) = (s.clone(), a.clone(), user.clone());
                async move {
                    for i in 0..n {
                        s.create_audit_log(entry(&a, &user, i)).await.unwrap();
                    }
                }
            }));
        }
        {
            let (raw_w, a, user) = (raw_w.clone(), a.clone(), user.clone());
            inserts.push(variant(
                "raw rusqlite: 100-row batch in one transaction (per row)",
                1,
                move |n| {
                    let (raw_w, a, user) = (raw_w.clone(), a.clone(), user.clone());
                    async move {
                        let conn = raw_w.lock().unwrap();
                        for _ in 0..n.div_ceil(100) {
                            let tx = conn.unchecked_transaction().unwrap();
                            {
                                let mut stmt = tx.prepare_cached(INSERT_SQL).unwrap();
                                for i in 0..100 {
                                    stmt.execute(rusqlite::params_from_iter(raw_insert_params(
                                        &entry(&a, &user, i),
                                    )))
                                    .unwrap();
                                }
                            }
                            tx.commit().unwrap();
                        }
                    }
                },
            ));
        }
        {
            let (s, a, user) = (s.clone(), a.clone(), user.clone());
            inserts.push(variant(
                "`SqliteStore::create_audit_logs` (100 rows) (per row)",
                1,
                move |n| {
                    let (s, a, user) = (s.clone(), a.clone(), user.clone());
                    async move {
                        for _ in 0..n.div_ceil(100) {
                            let entries: Vec<AuditLog> =
                                (0..100).map(|i| entry(&a, &user, i)).collect();
                            s.create_audit_logs(&entries).await.unwrap();
                        }
                    }
                },
            ));
        }
        // Each measurement starts from an empty WAL, so that no variant pays
        // for checkpointing another's pages.
        let checkpoint = {
            let raw_w = raw_w.clone();
            move || {
                raw_w
                    .lock()
                    .unwrap()
                    .execute_batch("PRAGMA wal_checkpoint(RESTART)")
                    .unwrap()
            }
        };
        section(
            &format!("Audit inserts, synchronous = {label}"),
            "rows",
            rounds.min(5),
            ins_n,
            inserts,
            &checkpoint,
        )
        .await;
    }

    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

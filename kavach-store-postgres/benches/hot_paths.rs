//! Hot paths through `PgStore` against the same statements issued with raw
//! sqlx on the same pool, in the same run (`cargo bench -p
//! kavach-store-postgres`). Needs the server at `KAVACH_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`); works in a schema of
//! its own, dropped at the end.
//!
//! Data: 100 users, 10,000 agents, 100,000 audit rows (20,000 on one "hot"
//! agent), UUIDv7 ids. Each measurement alternates store and raw over
//! several rounds and reports the median round.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use kavach_store_core::prelude::*;
use kavach_store_postgres::{PgStore, PgStoreOptions};
use sqlx::PgPool;

const AGENTS: usize = 10_000;
const AUDIT_ROWS: usize = 100_000;
const HOT_ROWS: usize = 20_000;
const ROUNDS: usize = 5;

fn id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

fn t0() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_774_234_575_123).unwrap()
}

fn audit(agent: &str, user: &str, i: usize) -> AuditLog {
    AuditLog {
        id: id("aud"),
        agent_id: agent.into(),
        user_id: user.into(),
        action: "execute".into(),
        resource: format!("mcp:github:tool{}", i % 7),
        parameters: Some(serde_json::json!({"repo": "kavach", "n": i})),
        result: AuditResult::Allowed,
        reason: None,
        duration_ms: (i % 50) as i64,
        tokens_cost: None,
        ip: Some("10.0.0.1".into()),
        user_agent: Some("bench".into()),
        timestamp: t0() + chrono::Duration::milliseconds(10 * i as i64),
    }
}

/// Runs `total` calls of `op(i)` from `concurrency` tasks; returns µs per op
/// (wall time / ops).
async fn timed<F, Fut>(concurrency: usize, total: usize, op: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let per_task = total / concurrency;
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    op(t * per_task + i).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    start.elapsed().as_secs_f64() * 1e6 / (per_task * concurrency) as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Line {
    name: &'static str,
    concurrency: usize,
    store_us: f64,
    raw_us: f64,
    raw_label: &'static str,
}

fn print(lines: &[Line]) {
    println!();
    println!(
        "{:<34} {:>4} {:>12} {:>11} {:>12} {:>11} {:>8}  raw variant",
        "operation", "conc", "store µs/op", "store op/s", "raw µs/op", "raw op/s", "store/raw"
    );
    for l in lines {
        println!(
            "{:<34} {:>4} {:>12.1} {:>11.0} {:>12.1} {:>11.0} {:>8.2}  {}",
            l.name,
            l.concurrency,
            l.store_us,
            1e6 / l.store_us,
            l.raw_us,
            1e6 / l.raw_us,
            l.store_us / l.raw_us,
            l.raw_label
        );
    }
}

const AGENT_BY_HASH: &str = "SELECT \"id\", \"owner_id\", \"tenant_id\", \"name\", \"type\", \"status\", \"token_hash\", \
     \"token_prefix\", \"expires_at\", \"last_active_at\", \"metadata\", \"created_at\", \"updated_at\" \
     FROM \"kavach_agents\" WHERE \"token_hash\" = $1 LIMIT 1";

type AgentTuple = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<serde_json::Value>,
    DateTime<Utc>,
    DateTime<Utc>,
);

type AuditTuple = (
    String,
    String,
    String,
    String,
    String,
    Option<serde_json::Value>,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);

const AUDIT_INSERT: &str = "INSERT INTO \"kavach_audit_logs\" (\"id\", \"agent_id\", \"user_id\", \"action\", \
     \"resource\", \"parameters\", \"result\", \"reason\", \"duration_ms\", \"tokens_cost\", \"ip\", \"user_agent\", \
     \"timestamp\") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

async fn raw_audit_insert(pool: &PgPool, e: &AuditLog) {
    sqlx::query(AUDIT_INSERT)
        .bind(&e.id)
        .bind(&e.agent_id)
        .bind(&e.user_id)
        .bind(&e.action)
        .bind(&e.resource)
        .bind(sqlx::types::Json(&e.parameters))
        .bind(e.result.as_str())
        .bind(&e.reason)
        .bind(e.duration_ms)
        .bind(e.tokens_cost)
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(e.timestamp)
        .execute(pool)
        .await
        .expect("raw insert");
}

/// Multi-row `VALUES` for a batch (the alternative to `UNNEST`).
async fn raw_audit_values(pool: &PgPool, sql: &str, entries: &[AuditLog]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for e in entries {
        q = q
            .bind(&e.id)
            .bind(&e.agent_id)
            .bind(&e.user_id)
            .bind(&e.action)
            .bind(&e.resource)
            .bind(sqlx::types::Json(&e.parameters))
            .bind(e.result.as_str())
            .bind(&e.reason)
            .bind(e.duration_ms)
            .bind(e.tokens_cost)
            .bind(&e.ip)
            .bind(&e.user_agent)
            .bind(e.timestamp);
    }
    q.execute(pool).await.expect("raw values");
}

fn values_sql(rows: usize) -> String {
    let head = AUDIT_INSERT.split(" VALUES ").next().unwrap();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            format!(
                "({})",
                (1..=13)
                    .map(|c| format!("${}", r * 13 + c))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    format!("{head} VALUES {}", tuples.join(", "))
}

const NEWEST_50: &str = "SELECT \"id\", \"agent_id\", \"user_id\", \"action\", \"resource\", \"parameters\", \"result\", \
     \"reason\", \"duration_ms\", \"tokens_cost\", \"ip\", \"user_agent\", \"timestamp\" FROM \"kavach_audit_logs\" \
     WHERE \"agent_id\" = $1 ORDER BY \"timestamp\" DESC, \"id\" COLLATE \"C\" DESC LIMIT $2";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::var("KAVACH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let admin = match PgStore::connect_with(
        &url,
        PgStoreOptions::default()
            .max_connections(1)
            .skip_migrations(),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("*** SKIPPED hot_paths bench: postgres unreachable: {e} ***");
            return;
        }
    };
    let schema = format!("kv_bench_{}", uuid::Uuid::now_v7().simple());
    admin.create_schema(&schema).await.unwrap();
    let store = PgStore::connect_with(
        &url,
        PgStoreOptions::default()
            .schema(&schema)
            .max_connections(16),
    )
    .await
    .unwrap();
    let pool = store.pool().clone();

    // ---- data ----
    let setup = Instant::now();
    let users: Vec<User> = (0..100)
        .map(|i| User {
            id: id("usr"),
            email: format!("u{i}@example.com"),
            created_at: t0(),
            updated_at: t0(),
            ..Default::default()
        })
        .collect();
    store.create_many(&users).await.unwrap();
    let agents: Vec<Agent> = (0..AGENTS)
        .map(|i| Agent {
            id: id("agt"),
            owner_id: users[i % users.len()].id.clone(),
            name: format!("agent {i}"),
            token_hash: format!("{:064x}", i * 7919 + 1),
            token_prefix: "kv_abcdefgh".into(),
            metadata: Some(serde_json::json!({})),
            expires_at: Some(t0() + chrono::Duration::days(1)),
            created_at: t0(),
            updated_at: t0(),
            ..Default::default()
        })
        .collect();
    for chunk in agents.chunks(1000) {
        store.create_many(chunk).await.unwrap();
    }
    let hot = agents[0].clone();
    let mut audit_rows = Vec::with_capacity(1000);
    // The hot agent's rows are spread over the whole time range (every
    // fifth row), as an agent active all along would have them.
    let every = AUDIT_ROWS / HOT_ROWS;
    for i in 0..AUDIT_ROWS {
        let a = if i % every == 0 {
            &hot
        } else {
            &agents[1 + i % (AGENTS - 1)]
        };
        audit_rows.push(audit(&a.id, &a.owner_id, i));
        if audit_rows.len() == 1000 {
            store.create_audit_logs(&audit_rows).await.unwrap();
            audit_rows.clear();
        }
    }
    sqlx::raw_sql("ANALYZE").execute(&pool).await.unwrap();
    eprintln!("setup: {:.1} s", setup.elapsed().as_secs_f64());

    // Writers of new audit rows: the hot agent for one row in five.
    let who: Arc<Vec<(String, String)>> = Arc::new(
        (0..every)
            .map(|k| {
                if k == 0 {
                    &hot
                } else {
                    &agents[k * 1237 % AGENTS]
                }
            })
            .map(|a| (a.id.clone(), a.owner_id.clone()))
            .collect(),
    );
    let hashes: Arc<Vec<String>> = Arc::new(agents.iter().map(|a| a.token_hash.clone()).collect());
    let mut lines = Vec::new();

    // ---- agent by token hash ----
    for (concurrency, total) in [(1, 4_000), (16, 16_000)] {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let st = store.clone();
            let h = hashes.clone();
            s.push(
                timed(concurrency, total, move |i| {
                    let st = st.clone();
                    let hash = h[(i * 7) % h.len()].clone();
                    async move {
                        assert!(st.find_agent_by_token_hash(&hash).await.unwrap().is_some());
                    }
                })
                .await,
            );
            let p = pool.clone();
            let h = hashes.clone();
            r.push(
                timed(concurrency, total, move |i| {
                    let p = p.clone();
                    let hash = h[(i * 7) % h.len()].clone();
                    async move {
                        let row: Option<AgentTuple> = sqlx::query_as(AGENT_BY_HASH)
                            .bind(&hash)
                            .fetch_optional(&p)
                            .await
                            .unwrap();
                        assert!(row.is_some());
                    }
                })
                .await,
            );
        }
        let s = median(s);
        lines.push(Line {
            name: "agent by token hash",
            concurrency,
            store_us: s,
            raw_us: median(r),
            raw_label: "query_as tuple, same pool",
        });
        // The pool's own cost: the same raw query on a connection held by
        // each task (no checkout, no release ping).
        let mut held = Vec::new();
        for _ in 0..ROUNDS {
            held.push(raw_held_lookup(&pool, hashes.clone(), concurrency, total).await);
        }
        lines.push(Line {
            name: "agent by token hash",
            concurrency,
            store_us: s,
            raw_us: median(held),
            raw_label: "query_as tuple, connection held per task",
        });
    }

    // ---- single audit insert ----
    for (concurrency, total) in [(1, 2_000), (16, 8_000)] {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            // New rows keep the data's shape: one in five for the hot agent.
            let st = store.clone();
            let ag = who.clone();
            s.push(
                timed(concurrency, total, move |i| {
                    let st = st.clone();
                    let (a, u) = &ag[i % ag.len()];
                    let e = audit(a, u, AUDIT_ROWS + i);
                    async move {
                        st.create_audit_log(e).await.unwrap();
                    }
                })
                .await,
            );
            let p = pool.clone();
            let ag = who.clone();
            r.push(
                timed(concurrency, total, move |i| {
                    let p = p.clone();
                    let (a, u) = &ag[i % ag.len()];
                    let e = audit(a, u, AUDIT_ROWS + i);
                    async move { raw_audit_insert(&p, &e).await }
                })
                .await,
            );
        }
        lines.push(Line {
            name: "one audit insert",
            concurrency,
            store_us: median(s),
            raw_us: median(r),
            raw_label: "13 binds, same pool",
        });
    }

    // ---- 100-row audit batch: store (UNNEST) vs raw VALUES vs raw UNNEST ----
    {
        let values = Arc::new(values_sql(100));
        let (mut s, mut r, mut u) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let st = store.clone();
            let ag = who.clone();
            s.push(
                timed(1, 50, move |_| {
                    let st = st.clone();
                    let batch: Vec<AuditLog> = (0..100)
                        .map(|i| {
                            let (a, u) = &ag[i % ag.len()];
                            audit(a, u, AUDIT_ROWS + i)
                        })
                        .collect();
                    async move { st.create_audit_logs(&batch).await.unwrap() }
                })
                .await,
            );
            let p = pool.clone();
            let v = values.clone();
            let ag = who.clone();
            r.push(
                timed(1, 50, move |_| {
                    let p = p.clone();
                    let v = v.clone();
                    let batch: Vec<AuditLog> = (0..100)
                        .map(|i| {
                            let (a, u) = &ag[i % ag.len()];
                            audit(a, u, AUDIT_ROWS + i)
                        })
                        .collect();
                    async move { raw_audit_values(&p, &v, &batch).await }
                })
                .await,
            );
            // Raw UNNEST through the store's own SQL path is what `s` measures;
            // this is the same statement issued by hand.
            let p = pool.clone();
            let ag = who.clone();
            u.push(
                timed(1, 50, move |_| {
                    let p = p.clone();
                    let batch: Vec<AuditLog> = (0..100)
                        .map(|i| {
                            let (a, u) = &ag[i % ag.len()];
                            audit(a, u, AUDIT_ROWS + i)
                        })
                        .collect();
                    async move { raw_unnest(&p, &batch).await }
                })
                .await,
            );
        }
        let s = median(s);
        lines.push(Line {
            name: "100-row audit batch",
            concurrency: 1,
            store_us: s,
            raw_us: median(r),
            raw_label: "multi-row VALUES (1300 binds)",
        });
        lines.push(Line {
            name: "100-row audit batch",
            concurrency: 1,
            store_us: s,
            raw_us: median(u),
            raw_label: "UNNEST (13 array binds)",
        });
    }

    // ---- newest 50 audit rows of the hot agent ----
    for (concurrency, total) in [(1, 1_000), (16, 4_000)] {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let st = store.clone();
            let a = hot.id.clone();
            s.push(
                timed(concurrency, total, move |_| {
                    let st = st.clone();
                    let a = a.clone();
                    async move {
                        let rows = st
                            .query_audit_logs(&AuditFilter::agent(a), Some(50), None)
                            .await
                            .unwrap();
                        assert_eq!(rows.len(), 50);
                    }
                })
                .await,
            );
            let p = pool.clone();
            let a = hot.id.clone();
            r.push(
                timed(concurrency, total, move |_| {
                    let p = p.clone();
                    let a = a.clone();
                    async move {
                        let rows: Vec<AuditTuple> = sqlx::query_as(NEWEST_50)
                            .bind(&a)
                            .bind(50i64)
                            .fetch_all(&p)
                            .await
                            .unwrap();
                        assert_eq!(rows.len(), 50);
                    }
                })
                .await,
            );
        }
        lines.push(Line {
            name: "newest 50 audit rows (hot agent)",
            concurrency,
            store_us: median(s),
            raw_us: median(r),
            raw_label: "query_as tuples, same pool",
        });
    }

    print(&lines);
    let explain = format!(
        "EXPLAIN (COSTS OFF) {}",
        NEWEST_50
            .replace("$1", &format!("'{}'", hot.id))
            .replace("$2", "50")
    );
    let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(explain))
        .fetch_all(&pool)
        .await
        .unwrap();
    println!("\nplan of newest 50 (hot agent):\n  {}", plan.join("\n  "));
    println!("\n{store:?}");
    store.close().await;
    if std::env::var_os("KAVACH_BENCH_KEEP").is_some() {
        eprintln!("kept schema {schema}");
    } else {
        admin.drop_schema(&schema).await.unwrap();
    }
    admin.close().await;
}

async fn raw_held_lookup(
    pool: &PgPool,
    hashes: Arc<Vec<String>>,
    concurrency: usize,
    total: usize,
) -> f64 {
    let per_task = total / concurrency;
    let mut conns = Vec::new();
    for _ in 0..concurrency {
        conns.push(pool.acquire().await.expect("acquire"));
    }
    let start = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(t, mut conn)| {
            let h = hashes.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    let hash = &h[((t * per_task + i) * 7) % h.len()];
                    let row: Option<AgentTuple> = sqlx::query_as(AGENT_BY_HASH)
                        .bind(hash)
                        .fetch_optional(&mut *conn)
                        .await
                        .unwrap();
                    assert!(row.is_some());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    start.elapsed().as_secs_f64() * 1e6 / (per_task * concurrency) as f64
}

async fn raw_unnest(pool: &PgPool, entries: &[AuditLog]) {
    const SQL: &str = "INSERT INTO \"kavach_audit_logs\" (\"id\", \"agent_id\", \"user_id\", \"action\", \"resource\", \
         \"parameters\", \"result\", \"reason\", \"duration_ms\", \"tokens_cost\", \"ip\", \"user_agent\", \"timestamp\") \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], \
         $8::text[], $9::int8[], $10::int8[], $11::text[], $12::text[], $13::timestamptz[])";
    let col = |f: fn(&AuditLog) -> Option<String>| entries.iter().map(f).collect::<Vec<_>>();
    sqlx::query(SQL)
        .bind(col(|e| Some(e.id.clone())))
        .bind(col(|e| Some(e.agent_id.clone())))
        .bind(col(|e| Some(e.user_id.clone())))
        .bind(col(|e| Some(e.action.clone())))
        .bind(col(|e| Some(e.resource.clone())))
        .bind(
            entries
                .iter()
                .map(|e| e.parameters.clone().map(sqlx::types::Json))
                .collect::<Vec<_>>(),
        )
        .bind(col(|e| Some(e.result.as_str().to_string())))
        .bind(col(|e| e.reason.clone()))
        .bind(entries.iter().map(|e| e.duration_ms).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.tokens_cost).collect::<Vec<_>>())
        .bind(col(|e| e.ip.clone()))
        .bind(col(|e| e.user_agent.clone()))
        .bind(entries.iter().map(|e| e.timestamp).collect::<Vec<_>>())
        .execute(pool)
        .await
        .expect("raw unnest");
}

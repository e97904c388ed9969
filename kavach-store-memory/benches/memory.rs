//! `cargo bench -p kavach-store-memory`: prints a table of the memory
//! backend's hot paths next to a plain `HashMap` baseline measured in the
//! same run (compare ratios, not absolute numbers: they swing between runs
//! on a shared machine).
//!
//! Rows: lookup by unique key among 10,000 agents (store and baseline),
//! single inserts, the newest 50 audit rows of one agent among 100,000, and
//! `begin`+`commit` with 10 vs 100,000 rows stored (the cost must not grow).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use kavach_store_core::prelude::*;
use kavach_store_memory::MemoryStore;

const AGENTS: usize = 10_000;
const AUDIT_ROWS: usize = 100_000;
const RUNS: usize = 5;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_774_000_000_000 + seconds * 1000)
        .single()
        .unwrap()
}

fn user(i: usize) -> User {
    User {
        id: format!("u{i:06}"),
        email: format!("u{i}@example.com"),
        created_at: at(0),
        updated_at: at(0),
        ..Default::default()
    }
}

fn agent(i: usize) -> Agent {
    Agent {
        id: format!("agt_{i:08}"),
        owner_id: "u000000".into(),
        name: format!("agent {i}"),
        token_hash: format!("{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15),
        token_prefix: "kv_abcdefgh".into(),
        expires_at: Some(at(86_400)),
        metadata: Some(serde_json::json!({})),
        created_at: at(0),
        updated_at: at(0),
        ..Default::default()
    }
}

fn audit(i: usize, agent_id: &str) -> AuditLog {
    AuditLog {
        id: format!("aud_{i:010}"),
        agent_id: agent_id.into(),
        user_id: "u000000".into(),
        action: "read".into(),
        resource: "mcp:github:repos".into(),
        result: AuditResult::Allowed,
        duration_ms: 3,
        timestamp: at(i as i64),
        ..Default::default()
    }
}

/// Median nanoseconds per operation over `RUNS` runs of `iters` operations.
fn measure(iters: usize, mut run: impl FnMut(usize)) -> f64 {
    let mut samples: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run(iters);
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[RUNS / 2]
}

fn row(name: &str, ns: f64) {
    let per_sec = 1e9 / ns;
    println!("| {name:<58} | {:>10.0} | {:>12.0} |", ns, per_sec);
}

fn block<F: std::future::Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(f)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    println!("memory backend, {RUNS} runs each, median");
    println!(
        "| {:<58} | {:>10} | {:>12} |",
        "operation", "ns/op", "ops/s"
    );
    println!("|{:-<60}|{:->12}|{:->14}|", "", "", "");

    // --- Lookup by unique key among 10,000 agents -------------------------
    let store = MemoryStore::new();
    let agents: Vec<Agent> = (0..AGENTS).map(agent).collect();
    block(
        &rt,
        Box::pin(async {
            store.create(user(0)).await.unwrap();
            store.create_many(&agents).await.unwrap();
        }),
    );
    let baseline: HashMap<String, Agent> = agents
        .iter()
        .map(|a| (a.token_hash.clone(), a.clone()))
        .collect();
    let baseline_rows: HashMap<String, Row> = agents
        .iter()
        .map(|a| (a.token_hash.clone(), a.to_row()))
        .collect();
    let hashes: Vec<String> = agents.iter().map(|a| a.token_hash.clone()).collect();
    let lookups = 200_000;

    let ns = measure(lookups, |n| {
        for i in 0..n {
            black_box(baseline.get(&hashes[i % AGENTS]).cloned());
        }
    });
    row("baseline: HashMap<String, Agent> get + clone", ns);
    let ns = measure(lookups, |n| {
        for i in 0..n {
            black_box(baseline_rows.get(&hashes[i % AGENTS]).cloned());
        }
    });
    row("baseline: HashMap<String, Row> get + clone", ns);
    let ns = measure(lookups, |n| {
        block(
            &rt,
            Box::pin(async {
                for i in 0..n {
                    let q = Select::new(
                        Agent::table_def(),
                        Cond::eq("token_hash", hashes[i % AGENTS].as_str()),
                    );
                    black_box(store.select_rows(&q).await.unwrap());
                }
            }),
        )
    });
    row("memory: select_rows by token_hash (Row)", ns);
    let ns = measure(lookups, |n| {
        block(
            &rt,
            Box::pin(async {
                for i in 0..n {
                    black_box(
                        store
                            .find_agent_by_token_hash(&hashes[i % AGENTS])
                            .await
                            .unwrap(),
                    );
                }
            }),
        )
    });
    row("memory: find_agent_by_token_hash (Agent)", ns);
    let ns = measure(lookups, |n| {
        block(
            &rt,
            Box::pin(async {
                for i in 0..n {
                    black_box(store.get::<Agent>(&agents[i % AGENTS].id).await.unwrap());
                }
            }),
        )
    });
    row("memory: get::<Agent> by primary key", ns);

    // --- Inserts ---------------------------------------------------------
    let inserts = 20_000;
    let mut next = AGENTS;
    let ns = measure(inserts, |n| {
        let batch: Vec<Agent> = (next..next + n).map(agent).collect();
        next += n;
        block(
            &rt,
            Box::pin(async {
                for a in batch {
                    store.create(a).await.unwrap();
                }
            }),
        )
    });
    row(
        "memory: insert one agent (unique + FK check, 10k+ stored)",
        ns,
    );
    let mut next_audit = 0;
    let ns = measure(inserts, |n| {
        let batch: Vec<AuditLog> = (next_audit..next_audit + n)
            .map(|i| audit(i, &agents[i % 100].id))
            .collect();
        next_audit += n;
        block(
            &rt,
            Box::pin(async {
                for a in batch {
                    store.create(a).await.unwrap();
                }
            }),
        )
    });
    row("memory: insert one audit row (2 FK checks, 5 indexes)", ns);

    // --- Newest 50 audit rows of one agent among 100,000 ------------------
    let big = MemoryStore::new();
    block(
        &rt,
        Box::pin(async {
            big.create(user(0)).await.unwrap();
            big.create_many(&agents[..100]).await.unwrap();
            let rows: Vec<AuditLog> = (0..AUDIT_ROWS)
                .map(|i| audit(i, &agents[i % 100].id))
                .collect();
            for chunk in rows.chunks(10_000) {
                big.create_many(chunk).await.unwrap();
            }
        }),
    );
    static NEWEST: &[OrderBy] = &[OrderBy::desc("timestamp"), OrderBy::desc("id")];
    let ns = measure(2_000, |n| {
        block(
            &rt,
            Box::pin(async {
                for i in 0..n {
                    let q = Select::new(
                        AuditLog::table_def(),
                        Cond::eq("agent_id", agents[i % 100].id.as_str()),
                    )
                    .order(NEWEST)
                    .limit(50);
                    black_box(big.select_rows(&q).await.unwrap());
                }
            }),
        )
    });
    row("memory: newest 50 audit rows of an agent (1k of 100k)", ns);

    // --- begin + commit: 10 rows stored vs 100,000 -------------------------
    let small = MemoryStore::new();
    block(
        &rt,
        Box::pin(async {
            small.create(user(0)).await.unwrap();
            small.create_many(&agents[..9]).await.unwrap();
        }),
    );
    let txs = 50_000;
    let mut results = Vec::new();
    for (label, s, stored) in [
        ("10 rows stored", &small, 10),
        ("100,000 rows stored", &big, AUDIT_ROWS + 101),
    ] {
        assert!(s.row_count(User::table_def()).unwrap() == 1 && stored > 0);
        let ns = measure(txs, |n| {
            block(
                &rt,
                Box::pin(async {
                    for _ in 0..n {
                        let tx = s.begin().await.unwrap();
                        tx.commit().await.unwrap();
                    }
                }),
            )
        });
        row(&format!("memory: begin + commit (empty), {label}"), ns);
        let mut k = 0usize;
        let ns = measure(txs / 5, |n| {
            block(
                &rt,
                Box::pin(async {
                    for _ in 0..n {
                        let tx = s.begin().await.unwrap();
                        let mut u = user(1_000_000 + k);
                        u.email = format!("tx{k}-{label}@example.com");
                        k += 1;
                        tx.create(u).await.unwrap();
                        tx.commit().await.unwrap();
                    }
                }),
            )
        });
        row(&format!("memory: begin + insert + commit, {label}"), ns);
        results.push(ns);
    }
    println!();
    println!(
        "begin+insert+commit, 100,000 rows stored vs 10: {:.2}x (flat means the cost does not grow with the data)",
        results[1] / results[0]
    );
}

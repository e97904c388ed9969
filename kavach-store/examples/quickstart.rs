//! Quickstart on the embedded default: a SQLite file in the current
//! directory, no server.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Migrates the database, creates a user and an agent holding a hashed bearer
//! token with its permissions in one transaction, authenticates by token
//! hash, writes audit entries in one batch and reads them back newest first.

use chrono::{Duration, Utc};
use kavach_store::prelude::*;
use sha2::{Digest, Sha256};

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://kavach-quickstart.db".to_string());
    let store = kavach_store::connect(&url, &ConnectOptions::default()).await?;
    println!(
        "opened {} ({} backend), schema migrated",
        kavach_store::redact(&url),
        store.backend_name()
    );

    let now = Utc::now();
    let user = User {
        id: new_id(),
        email: format!("ada+{}@example.com", &new_id()[24..]),
        name: Some("Ada".into()),
        created_at: now,
        updated_at: now,
        ..User::default()
    };
    // The raw token is shown to the agent once; only its hash is stored.
    let raw_token = format!("kv_{}", uuid::Uuid::new_v4().simple());
    let agent = Agent {
        id: new_id(),
        owner_id: user.id.clone(),
        name: "release-bot".into(),
        r#type: AgentType::Autonomous,
        token_hash: sha256_hex(&raw_token),
        token_prefix: raw_token[..11].to_string(),
        expires_at: Some(now + Duration::hours(24)),
        metadata: Some(serde_json::json!({})),
        created_at: now,
        updated_at: now,
        ..Agent::default()
    };
    let permissions = [
        Permission {
            id: new_id(),
            agent_id: agent.id.clone(),
            resource: "mcp:github:*".into(),
            actions: vec!["read".into(), "write".into()],
            constraints: Some(serde_json::json!({"maxCallsPerHour": 100})),
            created_at: now,
        },
        Permission {
            id: new_id(),
            agent_id: agent.id.clone(),
            resource: "tool:file_read".into(),
            actions: vec!["execute".into()],
            constraints: None,
            created_at: now,
        },
    ];

    // User, agent and permissions commit together or not at all.
    let tx = store.begin().await?;
    tx.create_user(user.clone()).await?;
    tx.create_agent_with_permissions(agent.clone(), &permissions)
        .await?;
    tx.commit().await?;
    println!(
        "created user {} and agent {} with {} permissions",
        user.email,
        agent.name,
        permissions.len()
    );

    // What every authenticated request does: hash the bearer token, look it up.
    let presented = sha256_hex(&raw_token);
    let authed = store
        .find_agent_by_token_hash(&presented)
        .await?
        .ok_or("token not recognised")?;
    let granted = store.list_permissions_by_agent(&authed.id).await?;
    store.touch_agent(&authed.id, Utc::now()).await?;
    println!(
        "token {}… authenticates agent {} ({}):",
        authed.token_prefix, authed.name, authed.status
    );
    for p in &granted {
        println!("  {} -> {}", p.resource, p.actions.join(", "));
    }

    let calls = [
        ("read", "mcp:github:repos", AuditResult::Allowed),
        ("write", "mcp:github:issues", AuditResult::Allowed),
        ("delete", "mcp:github:repos", AuditResult::Denied),
    ];
    let entries: Vec<AuditLog> = calls
        .iter()
        .enumerate()
        .map(|(i, (action, resource, result))| AuditLog {
            id: new_id(),
            agent_id: authed.id.clone(),
            user_id: user.id.clone(),
            action: action.to_string(),
            resource: resource.to_string(),
            parameters: Some(serde_json::json!({})),
            result: result.clone(),
            reason: (*result == AuditResult::Denied).then(|| "no delete permission".to_string()),
            duration_ms: 3 + i as i64,
            timestamp: now + Duration::seconds(i as i64),
            ..AuditLog::default()
        })
        .collect();
    store.create_audit_logs(&entries).await?;

    let page = store
        .list_audit_logs(&AuditFilter::agent(&authed.id), &PageRequest::first(10))
        .await?;
    println!("audit trail of {} (newest first):", authed.name);
    for e in &page.items {
        println!(
            "  {}  {:<6} {:<20} {}",
            e.timestamp.format("%H:%M:%S"),
            e.action,
            e.resource,
            e.result
        );
    }
    let denied = AuditFilter {
        result: Some(AuditResult::Denied),
        ..AuditFilter::agent(&authed.id)
    };
    println!("denied calls: {}", store.count_audit_logs(&denied).await?);
    Ok(())
}

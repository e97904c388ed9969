//! Small builders shared by the integration tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use kavach_store_core::prelude::*;

pub fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(1_774_234_575, 0).unwrap()
}

pub fn id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

pub fn user(id: &str) -> User {
    User {
        id: id.to_string(),
        email: format!("{id}@example.com"),
        created_at: now(),
        updated_at: now(),
        ..User::default()
    }
}

pub fn agent(id: &str, owner: &str, token_hash: &str) -> Agent {
    Agent {
        id: id.to_string(),
        owner_id: owner.to_string(),
        name: format!("agent {id}"),
        token_hash: token_hash.to_string(),
        token_prefix: "kv_12345678".into(),
        metadata: Some(serde_json::json!({})),
        created_at: now(),
        updated_at: now(),
        ..Agent::default()
    }
}

pub fn audit(id: &str, agent_id: &str, user_id: &str, at: DateTime<Utc>) -> AuditLog {
    AuditLog {
        id: id.to_string(),
        agent_id: agent_id.to_string(),
        user_id: user_id.to_string(),
        action: "read".into(),
        resource: "mcp:github:repos".into(),
        parameters: Some(serde_json::json!({"repo": "kavach"})),
        duration_ms: 3,
        timestamp: at,
        ..AuditLog::default()
    }
}

/// A user and one agent owned by it.
pub async fn user_and_agent(store: &dyn KavachStore) -> (User, Agent) {
    let u = store.create_user(user(&id("u"))).await.unwrap();
    let a = store
        .create_agent(agent(&id("a"), &u.id, &id("hash")))
        .await
        .unwrap();
    (u, a)
}

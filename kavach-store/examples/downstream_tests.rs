//! How a crate of yours tests its own service logic against `MemoryStore`:
//! no server, no files, same semantics as SQL (uniqueness, references,
//! cascades, transactions).
//!
//! ```text
//! cargo test -p kavach-store --features memory --example downstream_tests
//! ```

use chrono::{DateTime, Utc};
use kavach_store::prelude::*;

/// Your service logic: grants an agent a permission and audits the grant,
/// both or neither.
pub async fn grant(
    store: &dyn KavachStore,
    agent_id: &str,
    resource: &str,
    at: DateTime<Utc>,
) -> Result<Permission, StoreError> {
    let tx = store.begin().await?;
    let agent = tx
        .get_agent(agent_id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            table: Agent::TABLE,
            key: agent_id.to_string(),
        })?;
    let permission = tx
        .create_permission(Permission {
            id: format!("perm-{agent_id}-{resource}"),
            agent_id: agent.id.clone(),
            resource: resource.to_string(),
            actions: vec!["read".into()],
            constraints: None,
            created_at: at,
        })
        .await?;
    tx.create_audit_log(AuditLog {
        id: format!("audit-grant-{}", permission.id),
        agent_id: agent.id,
        user_id: agent.owner_id,
        action: "grant".into(),
        resource: resource.to_string(),
        result: AuditResult::Allowed,
        timestamp: at,
        ..AuditLog::default()
    })
    .await?;
    tx.commit().await?;
    Ok(permission)
}

fn main() {
    println!("run `cargo test -p kavach-store --features memory --example downstream_tests`");
}

#[cfg(test)]
mod tests {
    use super::*;
    use kavach_store::memory::MemoryStore;

    async fn store_with_agent() -> MemoryStore {
        let store = MemoryStore::new();
        let now = Utc::now();
        store
            .create_user(User {
                id: "u1".into(),
                email: "u1@example.com".into(),
                created_at: now,
                updated_at: now,
                ..User::default()
            })
            .await
            .unwrap();
        store
            .create_agent(Agent {
                id: "a1".into(),
                owner_id: "u1".into(),
                name: "bot".into(),
                token_hash: "h1".into(),
                token_prefix: "kv_h1".into(),
                created_at: now,
                updated_at: now,
                ..Agent::default()
            })
            .await
            .unwrap();
        store
    }

    #[tokio::test]
    async fn grant_writes_permission_and_audit() {
        let store = store_with_agent().await;
        grant(&store, "a1", "tool:search", Utc::now())
            .await
            .unwrap();
        assert_eq!(
            store.list_permissions_by_agent("a1").await.unwrap().len(),
            1
        );
        assert_eq!(
            store
                .count_audit_logs(&AuditFilter::agent("a1"))
                .await
                .unwrap(),
            1
        );
    }

    #[tokio::test]
    async fn a_failed_grant_leaves_nothing_behind() {
        let store = store_with_agent().await;
        grant(&store, "a1", "tool:search", Utc::now())
            .await
            .unwrap();
        // Same permission id again: the insert conflicts, the transaction rolls back.
        let err = grant(&store, "a1", "tool:search", Utc::now())
            .await
            .unwrap_err();
        assert!(err.is_conflict(), "{err}");
        assert_eq!(
            store
                .count_audit_logs(&AuditFilter::agent("a1"))
                .await
                .unwrap(),
            1
        );
    }

    #[tokio::test]
    async fn unknown_agents_are_not_found() {
        let store = store_with_agent().await;
        let err = grant(&store, "nope", "tool:search", Utc::now())
            .await
            .unwrap_err();
        assert!(err.is_not_found());
    }

    #[tokio::test]
    async fn clones_share_data_and_transactions_isolate() {
        let store = store_with_agent().await;
        let other_handle = store.clone();
        let tx = store.begin().await.unwrap();
        tx.create_permission(Permission {
            id: "p".into(),
            agent_id: "a1".into(),
            resource: "r".into(),
            ..Permission::default()
        })
        .await
        .unwrap();
        assert!(
            other_handle.get_permission("p").await.unwrap().is_none(),
            "uncommitted rows are invisible"
        );
        tx.commit().await.unwrap();
        assert!(other_handle.get_permission("p").await.unwrap().is_some());
    }
}

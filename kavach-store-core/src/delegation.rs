//! Delegation chains between agents.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// Lifecycle of a delegation chain.
    pub enum DelegationStatus {
        /// `active`
        Active = "active",
        /// `revoked`
        Revoked = "revoked",
        /// `expired`
        Expired = "expired",
    }
    default Active;
}

record! {
    /// Agent-to-agent delegation edges carrying a subset of the delegator's permissions, with depth bookkeeping and expiry.
    ///
    /// Table `kavach_delegation_chains`.
    pub struct DelegationChain => "kavach_delegation_chains", patch DelegationChainPatch {
        /// `id`.
        pub id: String,
        /// `from_agent_id`.
        pub from_agent_id: String,
        /// `to_agent_id`.
        pub to_agent_id: String,
        /// `permissions`: Subset of the delegator's permissions; constraints are not carried.
        pub permissions: serde_json::Value,
        /// `depth`: 1 for a first-hop delegation; computed as max(depth of active chains into the delegator) + 1.
        pub depth: i64 = 1i64,
        /// `max_depth`.
        pub max_depth: i64 = 3i64,
        /// `status`.
        pub status: DelegationStatus = "active",
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["from_agent_id" -> "kavach_agents"."id" NoAction, "to_agent_id" -> "kavach_agents"."id" NoAction];
    indexes: ["kavach_delegation_chains_to_status": ["to_agent_id", "status"], "kavach_delegation_chains_from_status": ["from_agent_id", "status"]];
}

/// Delegation of permissions from one agent to another.
#[async_trait]
pub trait DelegationStore: RowStore {
    /// Inserts a chain as given (`createDelegationChain`; the caller computes
    /// depth and status). `Reference` when either agent is missing.
    async fn create_delegation_chain(&self, chain: DelegationChain) -> Result<DelegationChain> {
        self.create(chain).await
    }

    /// The chain with this id (`findDelegationChain`).
    async fn get_delegation_chain(&self, id: &str) -> Result<Option<DelegationChain>> {
        self.get(id).await
    }

    /// Chains granted **by** an agent, any status, newest first
    /// (`findDelegationChainsByAgent`).
    async fn list_delegation_chains_from_agent(
        &self,
        agent_id: &str,
    ) -> Result<Vec<DelegationChain>> {
        self.find_all(Cond::eq("from_agent_id", agent_id), CREATED_DESC, None)
            .await
    }

    /// Active, unexpired (`expires_at > now`) chains granted **to** an agent:
    /// the delegated-permission fallback of every denied authorization.
    async fn list_active_delegations_to_agent(
        &self,
        agent_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<DelegationChain>> {
        let filter = Cond::eq("to_agent_id", agent_id)
            .and(Cond::eq("status", DelegationStatus::Active))
            .and(Cond::gt("expires_at", now));
        self.find_all(filter, CREATED_DESC, None).await
    }

    /// Applies a patch (`updateDelegationChain`; no cascade). `NotFound` when missing.
    async fn update_delegation_chain(
        &self,
        id: &str,
        patch: &DelegationChainPatch,
    ) -> Result<DelegationChain> {
        self.update::<DelegationChain>(id, patch).await
    }

    /// Revokes a chain and, recursively, every active chain the receiving
    /// agent passed on, in one transaction (`revokeDelegation`). Returns the
    /// ids revoked, the given one first; `NotFound` when missing. Cycles stop
    /// because only active chains are followed.
    async fn revoke_delegation_chain(&self, id: &str) -> Result<Vec<String>> {
        let tx = self.begin().await?;
        let first: DelegationChain = tx.get(id).await?.ok_or_else(|| StoreError::NotFound {
            table: DelegationChain::TABLE,
            key: id.to_string(),
        })?;
        let revoked_status = || vec![Assign::Set("status", DelegationStatus::Revoked.into())];
        tx.update_where::<DelegationChain>(Cond::eq("id", id), revoked_status())
            .await?;
        let mut revoked = vec![first.id.clone()];
        let mut frontier = vec![first.to_agent_id];
        while let Some(agent_id) = frontier.pop() {
            let onward: Vec<DelegationChain> = tx
                .update_where_returning(
                    Cond::eq("from_agent_id", agent_id)
                        .and(Cond::eq("status", DelegationStatus::Active)),
                    revoked_status(),
                )
                .await?;
            for chain in onward {
                revoked.push(chain.id);
                frontier.push(chain.to_agent_id);
            }
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Deletes a chain. `NotFound` when missing.
    async fn delete_delegation_chain(&self, id: &str) -> Result<()> {
        self.delete::<DelegationChain>(id).await
    }

    /// Deletes chains whose `expires_at` is before `now`; returns how many.
    async fn purge_expired_delegation_chains(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<DelegationChain>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> DelegationStore for T {}

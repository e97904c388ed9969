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

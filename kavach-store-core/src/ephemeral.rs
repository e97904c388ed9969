//! Ephemeral, action-limited sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// Lifecycle of an ephemeral session.
    pub enum EphemeralStatus {
        /// `active`
        Active = "active",
        /// `expired`
        Expired = "expired",
        /// `exhausted`
        Exhausted = "exhausted",
        /// `revoked`
        Revoked = "revoked",
    }
    default Active;
}

record! {
    /// Short-lived, action-limited credentials, each backed by a temporary agent row.
    ///
    /// Table `kavach_ephemeral_sessions`.
    pub struct EphemeralSession => "kavach_ephemeral_sessions", patch EphemeralSessionPatch {
        /// `id`.
        pub id: String,
        /// `agent_id`: The temporary agent created for this session.
        pub agent_id: String,
        /// `owner_id`.
        pub owner_id: String,
        /// `token_hash`: Same SHA-256 hex that is stored in the paired kavach_agents.token_hash.
        pub token_hash: String [secret],
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `max_actions`: NULL = unlimited.
        pub max_actions: Option<i64>,
        /// `actions_used`.
        pub actions_used: i64 = 0i64,
        /// `status`.
        pub status: EphemeralStatus = "active",
        /// `audit_group_id`: Groups audit rows of the session (defaults to the session id).
        pub audit_group_id: String,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_ephemeral_sessions_token_hash_key": ["token_hash"]];
    references: ["agent_id" -> "kavach_agents"."id" Cascade, "owner_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_ephemeral_sessions_owner_status": ["owner_id", "status"], "kavach_ephemeral_sessions_expires_at": ["expires_at"]];
}

//! Human approval requests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// State of an approval request.
    pub enum ApprovalStatus {
        /// `pending`
        Pending = "pending",
        /// `approved`
        Approved = "approved",
        /// `denied`
        Denied = "denied",
        /// `expired`
        Expired = "expired",
    }
    default Pending;
}

record! {
    /// CIBA-style human-in-the-loop approval requests raised for agent actions.
    ///
    /// Table `kavach_approval_requests`.
    pub struct ApprovalRequest => "kavach_approval_requests", patch ApprovalRequestPatch {
        /// `id`.
        pub id: String,
        /// `agent_id`.
        pub agent_id: String,
        /// `user_id`.
        pub user_id: String,
        /// `action`.
        pub action: String,
        /// `resource`.
        pub resource: String,
        /// `arguments`.
        pub arguments: Option<serde_json::Value>,
        /// `status`.
        pub status: ApprovalStatus = "pending",
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `responded_at`.
        pub responded_at: Option<DateTime<Utc>>,
        /// `responded_by`: Free text (no FK).
        pub responded_by: Option<String>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["agent_id" -> "kavach_agents"."id" Cascade, "user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_approval_requests_status_expires": ["status", "expires_at"], "kavach_approval_requests_user_id": ["user_id"]];
}

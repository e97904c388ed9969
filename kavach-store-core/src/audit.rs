//! The audit log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// Outcome of an audited authorization decision.
    pub enum AuditResult {
        /// `allowed`
        Allowed = "allowed",
        /// `denied`
        Denied = "denied",
        /// `rate_limited`
        RateLimited = "rate_limited",
    }
    default Allowed;
}

record! {
    /// Append-only record of every authorization decision (allowed/denied) made for an agent.
    ///
    /// Table `kavach_audit_logs`.
    pub struct AuditLog => "kavach_audit_logs", patch AuditLogPatch {
        /// `id`.
        pub id: String,
        /// `agent_id`: FK without cascade: an agent with audit rows cannot be deleted while FKs are enforced.
        pub agent_id: String,
        /// `user_id`.
        pub user_id: String,
        /// `action`.
        pub action: String,
        /// `resource`.
        pub resource: String,
        /// `parameters`: Core writes `{}` when the request had no arguments.
        pub parameters: Option<serde_json::Value>,
        /// `result`.
        pub result: AuditResult,
        /// `reason`.
        pub reason: Option<String>,
        /// `duration_ms`: Rounded wall time of the decision.
        pub duration_ms: i64,
        /// `tokens_cost`: Never populated by the core.
        pub tokens_cost: Option<i64>,
        /// `ip`.
        pub ip: Option<String>,
        /// `user_agent`.
        pub user_agent: Option<String>,
        /// `timestamp`: Column named `timestamp` (keyword in all three dialects; quote it).
        pub timestamp: DateTime<Utc>,
    }
    primary_key: id;
    references: ["agent_id" -> "kavach_agents"."id" NoAction, "user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_audit_logs_agent_ts": ["agent_id", "timestamp"], "kavach_audit_logs_user_ts": ["user_id", "timestamp"], "kavach_audit_logs_ts": ["timestamp"]];
}

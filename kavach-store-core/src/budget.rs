//! Budget policies and cost events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// What happens when a budget is exceeded.
    pub enum BudgetAction {
        /// `warn`
        Warn = "warn",
        /// `throttle`
        Throttle = "throttle",
        /// `block`
        Block = "block",
        /// `revoke`
        Revoke = "revoke",
    }
    default Warn;
}

string_enum! {
    /// Status of a budget policy.
    pub enum BudgetStatus {
        /// `active`
        Active = "active",
        /// `triggered`
        Triggered = "triggered",
        /// `disabled`
        Disabled = "disabled",
    }
    default Active;
}

record! {
    /// Spending/call caps per agent, user, tenant or globally, with the running usage counters kept in JSON.
    ///
    /// Table `kavach_budget_policies`.
    pub struct BudgetPolicy => "kavach_budget_policies", patch BudgetPolicyPatch {
        /// `id`.
        pub id: String,
        /// `agent_id`: NULL = applies to every agent (the core treats user/tenant-scoped rows with NULL agent_id as global).
        pub agent_id: Option<String>,
        /// `user_id`.
        pub user_id: Option<String>,
        /// `tenant_id`.
        pub tenant_id: Option<String>,
        /// `limits`.
        pub limits: serde_json::Value,
        /// `current_usage`.
        pub current_usage: serde_json::Value,
        /// `action`.
        pub action: BudgetAction = "warn",
        /// `status`.
        pub status: BudgetStatus = "active",
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["agent_id" -> "kavach_agents"."id" Cascade, "user_id" -> "kavach_users"."id" NoAction, "tenant_id" -> "kavach_tenants"."id" NoAction];
    indexes: ["kavach_budget_policies_agent_id": ["agent_id"]];
}

record! {
    /// Per-call cost attribution events for agents (integer micro-dollars).
    ///
    /// Table `kavach_cost_events`.
    pub struct CostEvent => "kavach_cost_events", patch CostEventPatch {
        /// `id`.
        pub id: String,
        /// `agent_id`.
        pub agent_id: String,
        /// `tool`: e.g. `openai:gpt-4o`, `mcp:github`.
        pub tool: String,
        /// `input_tokens`.
        pub input_tokens: Option<i64>,
        /// `output_tokens`.
        pub output_tokens: Option<i64>,
        /// `cost_micros`: USD x 1,000,000 as an integer. 32-bit INTEGER on Postgres/MySQL.
        pub cost_micros: i64,
        /// `currency`.
        pub currency: String = "USD",
        /// `metadata`.
        pub metadata: Option<serde_json::Value>,
        /// `delegation_chain_id`: No FK.
        pub delegation_chain_id: Option<String>,
        /// `recorded_at`.
        pub recorded_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["agent_id" -> "kavach_agents"."id" Cascade];
    indexes: ["kavach_cost_events_agent_recorded": ["agent_id", "recorded_at"], "kavach_cost_events_chain_id": ["delegation_chain_id"]];
}

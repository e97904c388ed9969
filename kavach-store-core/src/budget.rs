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

/// Filter of budget policies; unset fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BudgetPolicyFilter {
    /// Agent (exact; policies without an agent are not included).
    pub agent_id: Option<String>,
    /// User.
    pub user_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Status.
    pub status: Option<BudgetStatus>,
}

/// Filter of cost events; unset fields do not filter. `since` is inclusive,
/// `until` exclusive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostFilter {
    /// Agent.
    pub agent_id: Option<String>,
    /// Any of these agents (an owner's agents).
    pub agent_ids: Option<Vec<String>>,
    /// Delegation chain.
    pub delegation_chain_id: Option<String>,
    /// `recorded_at >= since`.
    pub since: Option<DateTime<Utc>>,
    /// `recorded_at < until`.
    pub until: Option<DateTime<Utc>>,
}

impl CostFilter {
    fn to_cond(&self) -> Cond {
        Cond::All
            .and_opt(self.agent_id.clone(), |v| Cond::eq("agent_id", v))
            .and_opt(self.agent_ids.clone(), |v| Cond::is_in("agent_id", v))
            .and_opt(self.delegation_chain_id.clone(), |v| {
                Cond::eq("delegation_chain_id", v)
            })
            .and_opt(self.since, |t| Cond::ge("recorded_at", t))
            .and_opt(self.until, |t| Cond::lt("recorded_at", t))
    }
}

const RECORDED_DESC: &[OrderBy] = &[OrderBy::desc("recorded_at"), OrderBy::desc("id")];

/// Budget policies.
#[async_trait]
pub trait BudgetStore: RowStore {
    /// Inserts a policy.
    async fn create_budget_policy(&self, policy: BudgetPolicy) -> Result<BudgetPolicy> {
        self.create(policy).await
    }
    /// The policy with this id.
    async fn get_budget_policy(&self, id: &str) -> Result<Option<BudgetPolicy>> {
        self.get(id).await
    }
    /// Policies matching `filter`, oldest first.
    async fn list_budget_policies(&self, filter: &BudgetPolicyFilter) -> Result<Vec<BudgetPolicy>> {
        let cond = Cond::All
            .and_opt(filter.agent_id.clone(), |v| Cond::eq("agent_id", v))
            .and_opt(filter.user_id.clone(), |v| Cond::eq("user_id", v))
            .and_opt(filter.tenant_id.clone(), |v| Cond::eq("tenant_id", v))
            .and_opt(filter.status.clone(), |v| Cond::eq("status", v));
        self.find_all(cond, CREATED_ASC, None).await
    }
    /// Policies that apply to an agent: not disabled, and either the agent's
    /// own or without an agent (`checkBudget`/`recordUsage`).
    async fn list_budget_policies_for_agent(&self, agent_id: &str) -> Result<Vec<BudgetPolicy>> {
        let cond = Cond::ne("status", BudgetStatus::Disabled).and(Cond::Or(vec![
            Cond::eq("agent_id", agent_id),
            Cond::IsNull("agent_id"),
        ]));
        self.find_all(cond, CREATED_ASC, None).await
    }
    /// Applies a patch. `NotFound` when missing.
    async fn update_budget_policy(
        &self,
        id: &str,
        patch: &BudgetPolicyPatch,
    ) -> Result<BudgetPolicy> {
        self.update::<BudgetPolicy>(id, patch).await
    }
    /// Deletes a policy. `NotFound` when missing.
    async fn delete_budget_policy(&self, id: &str) -> Result<()> {
        self.delete::<BudgetPolicy>(id).await
    }
}

impl<T: RowStore + ?Sized> BudgetStore for T {}

/// Cost events (LLM and tool spend).
#[async_trait]
pub trait CostStore: RowStore {
    /// Inserts an event.
    async fn create_cost_event(&self, event: CostEvent) -> Result<CostEvent> {
        self.create(event).await
    }
    /// Inserts many events in one statement.
    async fn create_cost_events(&self, events: &[CostEvent]) -> Result<()> {
        self.create_many(events).await
    }
    /// The event with this id.
    async fn get_cost_event(&self, id: &str) -> Result<Option<CostEvent>> {
        self.get(id).await
    }
    /// One page of events matching `filter`, newest first (keyset on
    /// `recorded_at`, `id`).
    async fn list_cost_events(
        &self,
        filter: &CostFilter,
        page: &PageRequest,
    ) -> Result<Page<CostEvent>> {
        crate::page::keyset_page(self, filter.to_cond(), "recorded_at", RECORDED_DESC, page).await
    }
    /// Sum of `cost_micros` of the events matching `filter` (rolling 24 h,
    /// monthly spend, owner cost) computed by the database.
    async fn sum_cost_micros(&self, filter: &CostFilter) -> Result<i64> {
        let sum = Sum {
            table: CostEvent::table_def(),
            filter: filter.to_cond(),
            column: "cost_micros",
            group_by: None,
            limit: None,
        };
        Ok(self.sum_rows(&sum).await?.first().map_or(0, |(_, s)| *s))
    }
    /// Agents with the highest total `cost_micros` among events matching
    /// `filter`, highest first (ties by agent id), at most `limit`.
    async fn top_agents_by_cost(
        &self,
        filter: &CostFilter,
        limit: u64,
    ) -> Result<Vec<(String, i64)>> {
        let sum = Sum {
            table: CostEvent::table_def(),
            filter: filter.to_cond(),
            column: "cost_micros",
            group_by: Some("agent_id"),
            limit: Some(limit),
        };
        Ok(self
            .sum_rows(&sum)
            .await?
            .into_iter()
            .filter_map(|(group, total)| match group {
                Value::Text(agent_id) => Some((agent_id, total)),
                _ => None,
            })
            .collect())
    }
    /// Deletes events recorded at or before `cutoff` (KavachOS's `cleanup`
    /// uses `<=`); returns how many.
    async fn delete_cost_events_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<CostEvent>(Cond::le("recorded_at", cutoff))
            .await
    }
}

impl<T: RowStore + ?Sized> CostStore for T {}

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
    // The id completes the keyset order (timestamp, id) so pages of one agent
    // or user are read straight from the index. No index on `timestamp`
    // alone: PostgreSQL preferred it for "newest rows of an agent" on skewed
    // data (~10,000x slower); retention purges scan instead.
    indexes: [
        "kavach_audit_logs_agent_ts": ["agent_id", "timestamp", "id"],
        "kavach_audit_logs_user_ts": ["user_id", "timestamp", "id"],
    ];
}

/// Filter of audit queries. Unset fields do not filter; `since` and `until`
/// are inclusive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFilter {
    /// Acting agent.
    pub agent_id: Option<String>,
    /// Responsible user.
    pub user_id: Option<String>,
    /// Any of these actions (KavachOS filters actions after paging; we filter
    /// in the query, so pages are full).
    pub actions: Option<Vec<String>>,
    /// Exact resource.
    pub resource: Option<String>,
    /// Result.
    pub result: Option<AuditResult>,
    /// `timestamp >= since`.
    pub since: Option<DateTime<Utc>>,
    /// `timestamp <= until`.
    pub until: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// Rows of one agent.
    pub fn agent(agent_id: impl Into<String>) -> AuditFilter {
        AuditFilter {
            agent_id: Some(agent_id.into()),
            ..AuditFilter::default()
        }
    }

    fn to_cond(&self) -> Cond {
        Cond::All
            .and_opt(self.agent_id.clone(), |v| Cond::eq("agent_id", v))
            .and_opt(self.user_id.clone(), |v| Cond::eq("user_id", v))
            .and_opt(self.actions.clone(), |v| Cond::is_in("action", v))
            .and_opt(self.resource.clone(), |v| Cond::eq("resource", v))
            .and_opt(self.result.clone(), |v| Cond::eq("result", v))
            .and_opt(self.since, |t| Cond::ge("timestamp", t))
            .and_opt(self.until, |t| Cond::le("timestamp", t))
    }
}

/// Default `limit` of [`AuditStore::query_audit_logs`], as in KavachOS's adapter.
pub const DEFAULT_AUDIT_QUERY_LIMIT: u64 = 100;

const NEWEST_FIRST: &[OrderBy] = &[OrderBy::desc("timestamp"), OrderBy::desc("id")];

/// The audit log.
///
/// ```
/// use kavach_store_core::prelude::*;
///
/// /// Prints every denied call of an agent, newest first, page by page.
/// async fn denied_calls(store: &dyn KavachStore, agent_id: &str) -> Result<usize, StoreError> {
///     let filter = AuditFilter { result: Some(AuditResult::Denied), ..AuditFilter::agent(agent_id) };
///     let mut page = store.list_audit_logs(&filter, &PageRequest::first(100)).await?;
///     let mut seen = 0;
///     loop {
///         for entry in &page.items {
///             println!("{} {} {}", entry.timestamp, entry.action, entry.resource);
///         }
///         seen += page.items.len();
///         let Some(next) = page.next else { return Ok(seen) };
///         page = store.list_audit_logs(&filter, &PageRequest::after(100, next)).await?;
///     }
/// }
/// ```
#[async_trait]
pub trait AuditStore: RowStore {
    /// Inserts one entry (`createAuditLog`): one statement, no read.
    async fn create_audit_log(&self, entry: AuditLog) -> Result<AuditLog> {
        self.create(entry).await
    }

    /// Inserts many entries in one statement (all or none).
    async fn create_audit_logs(&self, entries: &[AuditLog]) -> Result<()> {
        self.create_many(entries).await
    }

    /// The entry with this id.
    async fn get_audit_log(&self, id: &str) -> Result<Option<AuditLog>> {
        self.get(id).await
    }

    /// KavachOS-compatible query (`queryAuditLogs`): newest first (ties by
    /// id), `limit` defaulting to [`DEFAULT_AUDIT_QUERY_LIMIT`] (0 returns
    /// nothing), `offset` rows skipped.
    async fn query_audit_logs(
        &self,
        filter: &AuditFilter,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> Result<Vec<AuditLog>> {
        let limit = limit.unwrap_or(DEFAULT_AUDIT_QUERY_LIMIT);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let query = crate::page::offset_window(
            Select::new(AuditLog::table_def(), filter.to_cond()).order(NEWEST_FIRST),
            Some(limit),
            offset,
        );
        decode_rows(self.select_rows(&query).await?)
    }

    /// One page of entries matching `filter`, newest first, keyset-paginated
    /// on (`timestamp`, `id`): stable under concurrent inserts, no gaps or
    /// duplicates.
    async fn list_audit_logs(
        &self,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditLog>> {
        crate::page::keyset_page(self, filter.to_cond(), "timestamp", NEWEST_FIRST, page).await
    }

    /// Number of entries matching `filter`.
    async fn count_audit_logs(&self, filter: &AuditFilter) -> Result<u64> {
        self.count::<AuditLog>(filter.to_cond()).await
    }

    /// Retention cleanup: deletes entries older than `cutoff`
    /// (`timestamp < cutoff`); returns how many.
    async fn delete_audit_logs_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<AuditLog>(Cond::lt("timestamp", cutoff))
            .await
    }
}

impl<T: RowStore + ?Sized> AuditStore for T {}

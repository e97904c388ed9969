//! Rate-limit counters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Per-agent, per-resource call counters bucketed into 5-minute windows, used by the maxCallsPerHour constraint.
    ///
    /// Table `kavach_rate_limits`.
    pub struct RateLimit => "kavach_rate_limits", patch RateLimitPatch {
        /// `id`.
        pub id: String,
        /// `agent_id`.
        pub agent_id: String,
        /// `resource`.
        pub resource: String,
        /// `window_start`: Start of a 5-minute bucket (epoch floored to 300 s).
        pub window_start: DateTime<Utc>,
        /// `count`: Column named `count`; incremented read-modify-write.
        pub count: i64 = 0i64,
    }
    primary_key: id;
    unique: ["kavach_rate_limits_bucket_key": ["agent_id", "resource", "window_start"]];
    references: ["agent_id" -> "kavach_agents"."id" Cascade];
}

/// The id KavachOS's Prisma adapter gives a rate-limit bucket: the first 32
/// hex characters of SHA-256(`"<agent_id>:<resource>:<window_start ms>"`).
pub fn rate_limit_bucket_id(agent_id: &str, resource: &str, window_start: DateTime<Utc>) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!(
        "{agent_id}:{resource}:{}",
        window_start.timestamp_millis()
    ));
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn bucket(agent_id: &str, resource: &str, window_start: DateTime<Utc>) -> Cond {
    Cond::eq("agent_id", agent_id)
        .and(Cond::eq("resource", resource))
        .and(Cond::eq("window_start", window_start))
}

const BUCKET: &[&str] = &["agent_id", "resource", "window_start"];

/// Rate-limit counters, one row per (agent, resource, window).
///
/// ```
/// use chrono::{DateTime, DurationRound, TimeDelta, Utc};
/// use kavach_store_core::prelude::*;
///
/// /// Admits at most `per_window` calls per 5-minute window, race-free.
/// async fn admit(store: &dyn KavachStore, agent_id: &str, tool: &str, now: DateTime<Utc>, per_window: i64)
///     -> Result<bool, StoreError> {
///     let window = now.duration_trunc(TimeDelta::minutes(5)).expect("in range");
///     Ok(store.increment_rate_limit(agent_id, tool, window).await? <= per_window)
/// }
/// ```
#[async_trait]
pub trait RateLimitStore: RowStore {
    /// Atomically adds one call to the bucket (creating it at 1) and returns
    /// the new count: one statement, so N concurrent callers get N distinct
    /// counts and none is lost (KavachOS reads then writes).
    async fn increment_rate_limit(
        &self,
        agent_id: &str,
        resource: &str,
        window_start: DateTime<Utc>,
    ) -> Result<i64> {
        let row = RateLimit {
            id: rate_limit_bucket_id(agent_id, resource, window_start),
            agent_id: agent_id.to_string(),
            resource: resource.to_string(),
            window_start,
            count: 1,
        };
        let upsert = Upsert {
            table: RateLimit::table_def(),
            row: row.to_row(),
            conflict: BUCKET,
            on_conflict: vec![Assign::Add("count", 1)],
        };
        let stored = RateLimit::from_row(self.upsert_row(&upsert).await?)?;
        Ok(stored.count)
    }

    /// The bucket, if any (`findRateLimit`).
    async fn get_rate_limit(
        &self,
        agent_id: &str,
        resource: &str,
        window_start: DateTime<Utc>,
    ) -> Result<Option<RateLimit>> {
        self.find_first(bucket(agent_id, resource, window_start), &[])
            .await
    }

    /// Sets the bucket's count to an absolute value, creating it if needed
    /// (`upsertRateLimit`; prefer [`RateLimitStore::increment_rate_limit`]).
    async fn set_rate_limit(
        &self,
        agent_id: &str,
        resource: &str,
        window_start: DateTime<Utc>,
        count: i64,
    ) -> Result<RateLimit> {
        let row = RateLimit {
            id: rate_limit_bucket_id(agent_id, resource, window_start),
            agent_id: agent_id.to_string(),
            resource: resource.to_string(),
            window_start,
            count,
        };
        let upsert = Upsert {
            table: RateLimit::table_def(),
            row: row.to_row(),
            conflict: BUCKET,
            on_conflict: vec![Assign::Set("count", count.into())],
        };
        RateLimit::from_row(self.upsert_row(&upsert).await?)
    }

    /// Calls counted for an agent and resource in windows starting at or
    /// after `since` (the sliding hour of `checkRateLimit`).
    async fn sum_rate_limit_since(
        &self,
        agent_id: &str,
        resource: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        let sum = Sum {
            table: RateLimit::table_def(),
            filter: Cond::eq("agent_id", agent_id)
                .and(Cond::eq("resource", resource))
                .and(Cond::ge("window_start", since)),
            column: "count",
            group_by: None,
            limit: None,
        };
        Ok(self.sum_rows(&sum).await?.first().map_or(0, |(_, s)| *s))
    }

    /// Deletes buckets whose window started before `cutoff`; returns how many.
    async fn purge_rate_limits_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<RateLimit>(Cond::lt("window_start", cutoff))
            .await
    }
}

impl<T: RowStore + ?Sized> RateLimitStore for T {}

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

//! Agent trust scores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// Trust level derived from the score.
    pub enum TrustLevel {
        /// `untrusted`
        Untrusted = "untrusted",
        /// `limited`
        Limited = "limited",
        /// `standard`
        Standard = "standard",
        /// `trusted`
        Trusted = "trusted",
        /// `elevated`
        Elevated = "elevated",
    }
    default Standard;
}

record! {
    /// One computed 0-100 trust score (and level) per agent, derived from its audit history.
    ///
    /// Table `kavach_trust_scores`.
    pub struct TrustScore => "kavach_trust_scores", patch TrustScorePatch {
        /// `agent_id`.
        pub agent_id: String,
        /// `score`: Integer 0-100.
        pub score: i64,
        /// `level`: Column named `level`.
        pub level: TrustLevel,
        /// `factors`.
        pub factors: serde_json::Value,
        /// `computed_at`.
        pub computed_at: DateTime<Utc>,
    }
    primary_key: agent_id;
    references: ["agent_id" -> "kavach_agents"."id" Cascade];
}

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

/// Agent trust scores (one row per agent).
#[async_trait]
pub trait TrustStore: RowStore {
    /// The score of an agent (`findTrustScore`).
    async fn get_trust_score(&self, agent_id: &str) -> Result<Option<TrustScore>> {
        self.get(agent_id).await
    }

    /// Inserts or replaces the score of an agent atomically
    /// (`upsertTrustScore`): concurrent computations never fail on the key.
    async fn upsert_trust_score(&self, score: TrustScore) -> Result<TrustScore> {
        let on_conflict = vec![
            Assign::Set("score", score.score.into()),
            Assign::Set("level", score.level.clone().into()),
            Assign::Set("factors", score.factors.clone().into()),
            Assign::Set("computed_at", score.computed_at.into()),
        ];
        let upsert = Upsert {
            table: TrustScore::table_def(),
            row: score.to_row(),
            conflict: &["agent_id"],
            on_conflict,
        };
        TrustScore::from_row(self.upsert_row(&upsert).await?)
    }

    /// Scores, optionally of one level and at least `min_score`, highest first.
    async fn list_trust_scores(
        &self,
        level: Option<TrustLevel>,
        min_score: Option<i64>,
    ) -> Result<Vec<TrustScore>> {
        let filter = Cond::All
            .and_opt(level, |l| Cond::eq("level", l))
            .and_opt(min_score, |m| Cond::ge("score", m));
        const HIGHEST_FIRST: &[OrderBy] = &[OrderBy::desc("score"), OrderBy::asc("agent_id")];
        self.find_all(filter, HIGHEST_FIRST, None).await
    }

    /// Deletes the score of an agent. `NotFound` when missing.
    async fn delete_trust_score(&self, agent_id: &str) -> Result<()> {
        self.delete::<TrustScore>(agent_id).await
    }
}

impl<T: RowStore + ?Sized> TrustStore for T {}

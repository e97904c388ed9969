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

/// Result of spending one action of an ephemeral session.
#[derive(Clone, Debug, PartialEq)]
pub enum EphemeralActionOutcome {
    /// The action was counted; `session` is the row after the update (its
    /// status is `exhausted` when this was the last allowed action).
    Consumed(EphemeralSession),
    /// No session has this token hash.
    NotFound,
    /// The session had expired (it is now marked so, and its agent revoked).
    Expired,
    /// Every allowed action had been used (whether or not the session was
    /// already marked `exhausted`).
    Exhausted,
    /// The session is revoked, expired earlier, or otherwise not active.
    Inactive(EphemeralStatus),
}

/// Ephemeral, action-limited sessions, each backed by a temporary agent.
#[async_trait]
pub trait EphemeralSessionStore: RowStore {
    /// Creates the temporary agent, its permissions and the session in one
    /// transaction (KavachOS does three separate inserts).
    async fn create_ephemeral_session(
        &self,
        agent: Agent,
        permissions: &[Permission],
        session: EphemeralSession,
    ) -> Result<EphemeralSession> {
        let tx = self.begin().await?;
        tx.create(agent).await?;
        tx.create_many(permissions).await?;
        let session = tx.create(session).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// The session with this id.
    async fn get_ephemeral_session(&self, id: &str) -> Result<Option<EphemeralSession>> {
        self.get(id).await
    }

    /// The session with this token hash.
    async fn find_ephemeral_session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<EphemeralSession>> {
        self.find_first(Cond::eq("token_hash", token_hash), &[])
            .await
    }

    /// Spends one action atomically: `actions_used + 1` only while the
    /// session is active, unexpired and below `max_actions`. N concurrent
    /// callers on a session with `max_actions = k` get exactly `k`
    /// `Consumed`. The last action marks the session `exhausted` and revokes
    /// its agent; an expired session is marked `expired` and its agent revoked.
    async fn consume_ephemeral_action(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<EphemeralActionOutcome> {
        let tx = self.begin().await?;
        let filter = Cond::eq("token_hash", token_hash)
            .and(Cond::eq("status", EphemeralStatus::Active))
            .and(Cond::gt("expires_at", now))
            .and(Cond::Or(vec![
                Cond::IsNull("max_actions"),
                Cond::CmpColumn("actions_used", CmpOp::Lt, "max_actions"),
            ]));
        let set = vec![
            Assign::Add("actions_used", 1),
            Assign::Set("updated_at", now.into()),
        ];
        let revoke_agent = |agent_id: String| {
            tx.update_where::<Agent>(
                Cond::eq("id", agent_id),
                vec![
                    Assign::Set("status", AgentStatus::Revoked.into()),
                    Assign::Set("updated_at", now.into()),
                ],
            )
        };
        let outcome = match tx
            .update_where_returning::<EphemeralSession>(filter, set)
            .await?
            .pop()
        {
            Some(mut session) => {
                if session
                    .max_actions
                    .is_some_and(|max| session.actions_used >= max)
                {
                    let exhausted = vec![Assign::Set("status", EphemeralStatus::Exhausted.into())];
                    tx.update_where::<EphemeralSession>(
                        Cond::eq("id", session.id.clone()),
                        exhausted,
                    )
                    .await?;
                    revoke_agent(session.agent_id.clone()).await?;
                    session.status = EphemeralStatus::Exhausted;
                }
                EphemeralActionOutcome::Consumed(session)
            }
            None => match tx
                .find_first::<EphemeralSession>(Cond::eq("token_hash", token_hash), &[])
                .await?
            {
                None => EphemeralActionOutcome::NotFound,
                Some(s) if s.status == EphemeralStatus::Exhausted => {
                    EphemeralActionOutcome::Exhausted
                }
                Some(s) if s.status != EphemeralStatus::Active => {
                    EphemeralActionOutcome::Inactive(s.status)
                }
                Some(s) if s.expires_at <= now => {
                    let expired = vec![
                        Assign::Set("status", EphemeralStatus::Expired.into()),
                        Assign::Set("updated_at", now.into()),
                    ];
                    tx.update_where::<EphemeralSession>(Cond::eq("id", s.id.clone()), expired)
                        .await?;
                    revoke_agent(s.agent_id).await?;
                    EphemeralActionOutcome::Expired
                }
                Some(_) => EphemeralActionOutcome::Exhausted,
            },
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Active sessions of an owner, newest first.
    async fn list_active_ephemeral_sessions_by_owner(
        &self,
        owner_id: &str,
    ) -> Result<Vec<EphemeralSession>> {
        let filter =
            Cond::eq("owner_id", owner_id).and(Cond::eq("status", EphemeralStatus::Active));
        self.find_all(filter, CREATED_DESC, None).await
    }

    /// Revokes a session and its agent in one transaction. `NotFound` when missing.
    async fn revoke_ephemeral_session(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<EphemeralSession> {
        let tx = self.begin().await?;
        let patch = EphemeralSessionPatch {
            status: Some(EphemeralStatus::Revoked),
            updated_at: Some(now),
            ..Default::default()
        };
        let session = tx.update::<EphemeralSession>(id, &patch).await?;
        tx.update_where::<Agent>(
            Cond::eq("id", session.agent_id.clone()),
            vec![
                Assign::Set("status", AgentStatus::Revoked.into()),
                Assign::Set("updated_at", now.into()),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Marks active sessions past `expires_at` (`< now`) as expired and
    /// revokes their agents (`cleanupExpired`); returns how many sessions.
    async fn expire_ephemeral_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let tx = self.begin().await?;
        let expired: Vec<EphemeralSession> = tx
            .update_where_returning(
                Cond::eq("status", EphemeralStatus::Active).and(Cond::lt("expires_at", now)),
                vec![
                    Assign::Set("status", EphemeralStatus::Expired.into()),
                    Assign::Set("updated_at", now.into()),
                ],
            )
            .await?;
        let agent_ids: Vec<String> = expired.iter().map(|s| s.agent_id.clone()).collect();
        tx.update_where::<Agent>(
            Cond::is_in("id", agent_ids),
            vec![
                Assign::Set("status", AgentStatus::Revoked.into()),
                Assign::Set("updated_at", now.into()),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(expired.len() as u64)
    }

    /// Deletes sessions with `expires_at < now` (their agents stay, revoked
    /// or not); returns how many.
    async fn purge_expired_ephemeral_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<EphemeralSession>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> EphemeralSessionStore for T {}

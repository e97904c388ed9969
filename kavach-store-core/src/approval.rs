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

/// A decision on an approval request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalDecision {
    /// Approve.
    Approve,
    /// Deny.
    Deny,
}

/// Human-in-the-loop approval requests.
#[async_trait]
pub trait ApprovalStore: RowStore {
    /// Inserts a request (`createApprovalRequest`).
    async fn create_approval_request(&self, request: ApprovalRequest) -> Result<ApprovalRequest> {
        self.create(request).await
    }

    /// The request with this id (`findApprovalRequest`).
    async fn get_approval_request(&self, id: &str) -> Result<Option<ApprovalRequest>> {
        self.get(id).await
    }

    /// Pending requests of an agent, oldest first, expired ones included
    /// (`listPendingApprovals`).
    async fn list_pending_approvals_by_agent(
        &self,
        agent_id: &str,
    ) -> Result<Vec<ApprovalRequest>> {
        let filter =
            Cond::eq("agent_id", agent_id).and(Cond::eq("status", ApprovalStatus::Pending));
        self.find_all(filter, CREATED_ASC, None).await
    }

    /// Pending requests, of one user when given, oldest first (the core's `listPending`).
    async fn list_pending_approvals(&self, user_id: Option<&str>) -> Result<Vec<ApprovalRequest>> {
        let filter = Cond::eq("status", ApprovalStatus::Pending)
            .and_opt(user_id, |u| Cond::eq("user_id", u));
        self.find_all(filter, CREATED_ASC, None).await
    }

    /// Applies a patch with no state check (`updateApprovalRequest`).
    /// `NotFound` when missing. Prefer [`ApprovalStore::resolve_approval_request`].
    async fn update_approval_request(
        &self,
        id: &str,
        patch: &ApprovalRequestPatch,
    ) -> Result<ApprovalRequest> {
        self.update::<ApprovalRequest>(id, patch).await
    }

    /// Compare-and-set resolution: approves or denies the request only if
    /// it is still pending and unexpired (`expires_at > at`). Returns the
    /// resolved request, or `None` when it was missing, expired or already
    /// resolved. Of an approve and a deny racing, exactly one wins.
    async fn resolve_approval_request(
        &self,
        id: &str,
        decision: ApprovalDecision,
        responded_by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<ApprovalRequest>> {
        let status = match decision {
            ApprovalDecision::Approve => ApprovalStatus::Approved,
            ApprovalDecision::Deny => ApprovalStatus::Denied,
        };
        let filter = Cond::eq("id", id)
            .and(Cond::eq("status", ApprovalStatus::Pending))
            .and(Cond::gt("expires_at", at));
        let set = vec![
            Assign::Set("status", status.into()),
            Assign::Set("responded_at", at.into()),
            Assign::Set("responded_by", responded_by.into()),
        ];
        Ok(self
            .update_where_returning::<ApprovalRequest>(filter, set)
            .await?
            .pop())
    }

    /// Marks pending requests with `expires_at < now` as expired (`cleanup`);
    /// returns how many.
    async fn expire_approval_requests(&self, now: DateTime<Utc>) -> Result<u64> {
        self.update_where::<ApprovalRequest>(
            Cond::eq("status", ApprovalStatus::Pending).and(Cond::lt("expires_at", now)),
            vec![Assign::Set("status", ApprovalStatus::Expired.into())],
        )
        .await
    }

    /// Deletes requests with `expires_at < now`, whatever their status;
    /// returns how many.
    async fn purge_expired_approval_requests(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<ApprovalRequest>(Cond::lt("expires_at", now))
            .await
    }

    /// Deletes a request. `NotFound` when missing.
    async fn delete_approval_request(&self, id: &str) -> Result<()> {
        self.delete::<ApprovalRequest>(id).await
    }
}

impl<T: RowStore + ?Sized> ApprovalStore for T {}

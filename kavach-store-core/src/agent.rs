//! Agents, their permissions, cards and DIDs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// Kind of agent.
    pub enum AgentType {
        /// `autonomous`
        Autonomous = "autonomous",
        /// `delegated`
        Delegated = "delegated",
        /// `service`
        Service = "service",
    }
    default Autonomous;
}

string_enum! {
    /// Lifecycle of an agent.
    pub enum AgentStatus {
        /// `active`
        Active = "active",
        /// `revoked`
        Revoked = "revoked",
        /// `expired`
        Expired = "expired",
    }
    default Active;
}

string_enum! {
    /// DID method of an agent identity.
    pub enum DidMethod {
        /// `key`
        Key = "key",
        /// `web`
        Web = "web",
    }
    default Key;
}

record! {
    /// AI-agent identities: owner, type, lifecycle status and the hash of the bearer token the agent presents.
    ///
    /// Table `kavach_agents`.
    pub struct Agent => "kavach_agents", patch AgentPatch {
        /// `id`.
        pub id: String,
        /// `owner_id`.
        pub owner_id: String,
        /// `tenant_id`.
        pub tenant_id: Option<String>,
        /// `name`.
        pub name: String,
        /// `type`.
        pub r#type: AgentType,
        /// `status`.
        pub status: AgentStatus = "active",
        /// `token_hash`: Lower-case hex SHA-256 of the raw token (64 chars). Looked up on every agent-token request, yet neither UNIQUE nor indexed in any source. Ephemeral sessions put the same hash here.
        pub token_hash: String [secret],
        /// `token_prefix`: Display prefix: 11 chars (`kv_` + 8) for normal agents, 14 chars (`kveph_` + 8) for ephemeral ones. The schema comment saying "first 8 chars" is wrong.
        pub token_prefix: String,
        /// `expires_at`: Nullable, but the core always sets it (default config 24h).
        pub expires_at: Option<DateTime<Utc>>,
        /// `last_active_at`.
        pub last_active_at: Option<DateTime<Utc>>,
        /// `metadata`: Core writes `{}` when none is given; ephemeral agents carry `{ephemeral: true, sessionId}`.
        pub metadata: Option<serde_json::Value>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_agents_token_hash_key": ["token_hash"]];
    references: ["owner_id" -> "kavach_users"."id" NoAction, "tenant_id" -> "kavach_tenants"."id" NoAction];
    indexes: ["kavach_agents_owner_status": ["owner_id", "status"]];
}

record! {
    /// Per-agent grants: a resource pattern, a list of actions and optional constraints (rate limit, arg patterns, time window, IP allowlist, approval).
    ///
    /// Table `kavach_permissions`.
    pub struct Permission => "kavach_permissions", patch PermissionPatch {
        /// `id`.
        pub id: String,
        /// `agent_id`.
        pub agent_id: String,
        /// `resource`: Pattern such as `mcp:github:*` or `tool:file_read` (wildcards matched in code).
        pub resource: String,
        /// `actions`: e.g. ["read","write","execute"].
        pub actions: Vec<String>,
        /// `constraints`.
        pub constraints: Option<serde_json::Value>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["agent_id" -> "kavach_agents"."id" Cascade];
    indexes: ["kavach_permissions_agent_id": ["agent_id"]];
}

record! {
    /// A2A capability cards advertised for agents (discovery metadata).
    ///
    /// Table `kavach_agent_cards`.
    pub struct AgentCard => "kavach_agent_cards", patch AgentCardPatch {
        /// `id`.
        pub id: String,
        /// `agent_id`.
        pub agent_id: String,
        /// `name`.
        pub name: String,
        /// `description`.
        pub description: Option<String>,
        /// `version`.
        pub version: String,
        /// `protocols`.
        pub protocols: Vec<String>,
        /// `capabilities`: Array of capability objects.
        pub capabilities: serde_json::Value,
        /// `auth_requirements`.
        pub auth_requirements: serde_json::Value,
        /// `endpoint`.
        pub endpoint: Option<String>,
        /// `metadata`.
        pub metadata: Option<serde_json::Value>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["agent_id" -> "kavach_agents"."id" Cascade];
}

record! {
    /// W3C DID (did:key / did:web) identity, public JWK and DID document for an agent.
    ///
    /// Table `kavach_agent_dids`.
    pub struct AgentDid => "kavach_agent_dids", patch AgentDidPatch {
        /// `agent_id`.
        pub agent_id: String,
        /// `did`.
        pub did: String,
        /// `method`.
        pub method: DidMethod,
        /// `public_key_jwk`: JSON string of a public JWK
        pub public_key_jwk: String,
        /// `did_document`: JSON string of the DID document
        pub did_document: String,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: agent_id;
    unique: ["kavach_agent_dids_did_key": ["did"]];
    references: ["agent_id" -> "kavach_agents"."id" Cascade];
}

/// Filter for agent listings (`listAgents`): equality on each field that is
/// set, ANDed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentFilter {
    /// Owning user.
    pub owner_id: Option<String>,
    /// Tenant; `Some(None)` selects agents without a tenant.
    pub tenant_id: Option<Option<String>>,
    /// Status.
    pub status: Option<AgentStatus>,
    /// Agent type.
    pub r#type: Option<AgentType>,
}

impl AgentFilter {
    /// Agents of one owner.
    pub fn owner(owner_id: impl Into<String>) -> AgentFilter {
        AgentFilter {
            owner_id: Some(owner_id.into()),
            ..AgentFilter::default()
        }
    }

    fn to_cond(&self) -> Cond {
        Cond::All
            .and_opt(self.owner_id.clone(), |v| Cond::eq("owner_id", v))
            .and_opt(self.tenant_id.clone(), |v| match v {
                Some(t) => Cond::eq("tenant_id", t),
                None => Cond::IsNull("tenant_id"),
            })
            .and_opt(self.status.clone(), |v| Cond::eq("status", v))
            .and_opt(self.r#type.clone(), |v| Cond::eq("type", v))
    }
}

/// Agents: identities holding hashed bearer tokens.
///
/// ```
/// use kavach_store_core::prelude::*;
///
/// /// Authenticates a request: one indexed lookup, then the agent's permissions.
/// async fn authenticate(
///     store: &dyn KavachStore,
///     token_hash: &str,
///     now: chrono::DateTime<chrono::Utc>,
/// ) -> Result<Option<(Agent, Vec<Permission>)>, StoreError> {
///     let Some(agent) = store.find_agent_by_token_hash(token_hash).await? else {
///         return Ok(None);
///     };
///     let expired = agent.expires_at.is_some_and(|t| t <= now);
///     if agent.status != AgentStatus::Active || expired {
///         return Ok(None);
///     }
///     store.touch_agent(&agent.id, now).await?;
///     let permissions = store.list_permissions_by_agent(&agent.id).await?;
///     Ok(Some((agent, permissions)))
/// }
/// ```
#[async_trait]
pub trait AgentStore: RowStore {
    /// Inserts an agent (`createAgent`). `Conflict` on a duplicate id or
    /// token hash, `Reference` when the owner or tenant does not exist.
    async fn create_agent(&self, agent: Agent) -> Result<Agent> {
        self.create(agent).await
    }

    /// Inserts an agent and its permissions in one transaction (KavachOS's
    /// agent `create`, which otherwise can leave an agent without permissions).
    async fn create_agent_with_permissions(
        &self,
        agent: Agent,
        permissions: &[Permission],
    ) -> Result<Agent> {
        let tx = self.begin().await?;
        let agent = tx.create(agent).await?;
        tx.create_many(permissions).await?;
        tx.commit().await?;
        Ok(agent)
    }

    /// The agent with this id (`findAgentById`).
    async fn get_agent(&self, id: &str) -> Result<Option<Agent>> {
        self.get(id).await
    }

    /// The agent holding this token hash (`findAgentByTokenHash`): the hot
    /// path of every agent-authenticated request, one indexed lookup. No
    /// status or expiry check: the caller decides.
    async fn find_agent_by_token_hash(&self, token_hash: &str) -> Result<Option<Agent>> {
        self.find_first(Cond::eq("token_hash", token_hash), &[])
            .await
    }

    /// Agents matching `filter`, newest first (`listAgents`).
    async fn list_agents(&self, filter: &AgentFilter) -> Result<Vec<Agent>> {
        self.find_all(filter.to_cond(), CREATED_DESC, None).await
    }

    /// One page of agents matching `filter`, newest first (keyset on
    /// `created_at`, `id`).
    async fn list_agents_page(
        &self,
        filter: &AgentFilter,
        page: &PageRequest,
    ) -> Result<Page<Agent>> {
        crate::page::keyset_page(self, filter.to_cond(), "created_at", CREATED_DESC, page).await
    }

    /// Number of agents matching `filter` (quota checks, admin counts).
    async fn count_agents(&self, filter: &AgentFilter) -> Result<u64> {
        self.count::<Agent>(filter.to_cond()).await
    }

    /// Applies a patch (`updateAgent`). `NotFound` when missing.
    async fn update_agent(&self, id: &str, patch: &AgentPatch) -> Result<Agent> {
        self.update::<Agent>(id, patch).await
    }

    /// Sets `last_active_at` (the write KavachOS does on every successful
    /// token validation). Returns false when the agent does not exist.
    async fn touch_agent(&self, id: &str, at: DateTime<Utc>) -> Result<bool> {
        let n = self
            .update_where::<Agent>(
                Cond::eq("id", id),
                vec![Assign::Set("last_active_at", at.into())],
            )
            .await?;
        Ok(n > 0)
    }

    /// Replaces the token hash and prefix (`rotate`). `NotFound` when missing.
    async fn rotate_agent_token(
        &self,
        id: &str,
        token_hash: &str,
        token_prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<Agent> {
        let patch = AgentPatch {
            token_hash: Some(token_hash.to_string()),
            token_prefix: Some(token_prefix.to_string()),
            updated_at: Some(now),
            ..AgentPatch::default()
        };
        self.update::<Agent>(id, &patch).await
    }

    /// Revokes an agent and, in the same transaction, every active
    /// delegation chain it granted (KavachOS leaves those working).
    /// Returns the revoked agent; `NotFound` when missing.
    async fn revoke_agent(&self, id: &str, now: DateTime<Utc>) -> Result<Agent> {
        let tx = self.begin().await?;
        let patch = AgentPatch {
            status: Some(AgentStatus::Revoked),
            updated_at: Some(now),
            ..AgentPatch::default()
        };
        let agent = tx.update::<Agent>(id, &patch).await?;
        tx.update_where::<DelegationChain>(
            Cond::eq("from_agent_id", id).and(Cond::eq("status", DelegationStatus::Active)),
            vec![Assign::Set("status", DelegationStatus::Revoked.into())],
        )
        .await?;
        tx.commit().await?;
        Ok(agent)
    }

    /// Revokes every active agent of an owner (admin ban); returns how many.
    async fn revoke_agents_by_owner(&self, owner_id: &str, now: DateTime<Utc>) -> Result<u64> {
        self.update_where::<Agent>(
            Cond::eq("owner_id", owner_id).and(Cond::eq("status", AgentStatus::Active)),
            vec![
                Assign::Set("status", AgentStatus::Revoked.into()),
                Assign::Set("updated_at", now.into()),
            ],
        )
        .await
    }

    /// Marks active agents whose `expires_at` has passed (`<= now`) as
    /// expired; returns how many.
    async fn expire_agents(&self, now: DateTime<Utc>) -> Result<u64> {
        self.update_where::<Agent>(
            Cond::eq("status", AgentStatus::Active).and(Cond::le("expires_at", now)),
            vec![
                Assign::Set("status", AgentStatus::Expired.into()),
                Assign::Set("updated_at", now.into()),
            ],
        )
        .await
    }

    /// Deletes the agent row only (`deleteAgent`): `NotFound` when missing,
    /// `Reference` while delegation chains or audit rows still name it.
    async fn delete_agent(&self, id: &str) -> Result<()> {
        self.delete::<Agent>(id).await
    }

    /// Deletes an agent with everything that belongs to it, in one
    /// transaction: delegation chains from or to it, its audit rows, and the
    /// rows that cascade from the agent (permissions, rate limits, budget
    /// policies, cards, approval requests, trust score, DID, cost events,
    /// ephemeral sessions), deleted explicitly so schemas without foreign
    /// keys are cleaned too, plus the stream events and federation tokens
    /// naming the agent. `NotFound` when missing.
    async fn delete_agent_cascade(&self, id: &str) -> Result<DeletionReport> {
        let tx = self.begin().await?;
        if tx.get::<Agent>(id).await?.is_none() {
            return Err(StoreError::NotFound {
                table: Agent::TABLE,
                key: id.to_string(),
            });
        }
        let mut report = DeletionReport::default();
        let by_agent = || Cond::eq("agent_id", id);
        report.add(
            DelegationChain::TABLE,
            tx.delete_where::<DelegationChain>(Cond::Or(vec![
                Cond::eq("from_agent_id", id),
                Cond::eq("to_agent_id", id),
            ]))
            .await?,
        );
        report.add(
            AuditLog::TABLE,
            tx.delete_where::<AuditLog>(by_agent()).await?,
        );
        report.add(
            Permission::TABLE,
            tx.delete_where::<Permission>(by_agent()).await?,
        );
        report.add(
            RateLimit::TABLE,
            tx.delete_where::<RateLimit>(by_agent()).await?,
        );
        report.add(
            BudgetPolicy::TABLE,
            tx.delete_where::<BudgetPolicy>(by_agent()).await?,
        );
        report.add(
            AgentCard::TABLE,
            tx.delete_where::<AgentCard>(by_agent()).await?,
        );
        report.add(
            ApprovalRequest::TABLE,
            tx.delete_where::<ApprovalRequest>(by_agent()).await?,
        );
        report.add(
            TrustScore::TABLE,
            tx.delete_where::<TrustScore>(by_agent()).await?,
        );
        report.add(
            AgentDid::TABLE,
            tx.delete_where::<AgentDid>(by_agent()).await?,
        );
        report.add(
            CostEvent::TABLE,
            tx.delete_where::<CostEvent>(by_agent()).await?,
        );
        report.add(
            EphemeralSession::TABLE,
            tx.delete_where::<EphemeralSession>(by_agent()).await?,
        );
        // No foreign key, but they name the agent.
        report.add(
            StreamEvent::TABLE,
            tx.delete_where::<StreamEvent>(by_agent()).await?,
        );
        report.add(
            FederationToken::TABLE,
            tx.delete_where::<FederationToken>(by_agent()).await?,
        );
        tx.delete::<Agent>(id).await?;
        report.add(Agent::TABLE, 1);
        tx.commit().await?;
        Ok(report)
    }
}

impl<T: RowStore + ?Sized> AgentStore for T {}

/// Permissions granted to agents.
#[async_trait]
pub trait PermissionStore: RowStore {
    /// Inserts a permission (`createPermission`).
    async fn create_permission(&self, permission: Permission) -> Result<Permission> {
        self.create(permission).await
    }

    /// Inserts several permissions in one statement.
    async fn create_permissions(&self, permissions: &[Permission]) -> Result<()> {
        self.create_many(permissions).await
    }

    /// The permission with this id.
    async fn get_permission(&self, id: &str) -> Result<Option<Permission>> {
        self.get(id).await
    }

    /// Every permission of an agent (`findPermissionsByAgentId`), oldest
    /// first: loaded after every agent lookup, one indexed query.
    async fn list_permissions_by_agent(&self, agent_id: &str) -> Result<Vec<Permission>> {
        self.find_all(Cond::eq("agent_id", agent_id), CREATED_ASC, None)
            .await
    }

    /// Replaces all permissions of an agent in one transaction (KavachOS's
    /// agent `update`, which otherwise leaves the agent briefly without any).
    async fn replace_agent_permissions(
        &self,
        agent_id: &str,
        permissions: &[Permission],
    ) -> Result<()> {
        let tx = self.begin().await?;
        tx.delete_where::<Permission>(Cond::eq("agent_id", agent_id))
            .await?;
        tx.create_many(permissions).await?;
        tx.commit().await
    }

    /// Applies a patch to a permission. `NotFound` when missing.
    async fn update_permission(&self, id: &str, patch: &PermissionPatch) -> Result<Permission> {
        self.update::<Permission>(id, patch).await
    }

    /// Deletes every permission of an agent (`deletePermissionsByAgentId`);
    /// returns how many.
    async fn delete_permissions_by_agent(&self, agent_id: &str) -> Result<u64> {
        self.delete_where::<Permission>(Cond::eq("agent_id", agent_id))
            .await
    }

    /// Deletes one permission (`deletePermission`). `NotFound` when missing.
    async fn delete_permission(&self, id: &str) -> Result<()> {
        self.delete::<Permission>(id).await
    }
}

impl<T: RowStore + ?Sized> PermissionStore for T {}

/// Agent cards (A2A capability descriptions).
#[async_trait]
pub trait AgentCardStore: RowStore {
    /// Inserts a card.
    async fn create_agent_card(&self, card: AgentCard) -> Result<AgentCard> {
        self.create(card).await
    }
    /// The card with this id.
    async fn get_agent_card(&self, id: &str) -> Result<Option<AgentCard>> {
        self.get(id).await
    }
    /// Cards of an agent, oldest first.
    async fn list_agent_cards_by_agent(&self, agent_id: &str) -> Result<Vec<AgentCard>> {
        self.find_all(Cond::eq("agent_id", agent_id), CREATED_ASC, None)
            .await
    }
    /// Applies a patch. `NotFound` when missing.
    async fn update_agent_card(&self, id: &str, patch: &AgentCardPatch) -> Result<AgentCard> {
        self.update::<AgentCard>(id, patch).await
    }
    /// Deletes a card. `NotFound` when missing.
    async fn delete_agent_card(&self, id: &str) -> Result<()> {
        self.delete::<AgentCard>(id).await
    }
}

impl<T: RowStore + ?Sized> AgentCardStore for T {}

/// Decentralised identifiers of agents (one per agent).
#[async_trait]
pub trait AgentDidStore: RowStore {
    /// Inserts a DID. `Conflict` when the agent already has one or the DID exists.
    async fn create_agent_did(&self, did: AgentDid) -> Result<AgentDid> {
        self.create(did).await
    }
    /// The DID of an agent.
    async fn get_agent_did(&self, agent_id: &str) -> Result<Option<AgentDid>> {
        self.get(agent_id).await
    }
    /// The identity with this DID string.
    async fn find_agent_did_by_did(&self, did: &str) -> Result<Option<AgentDid>> {
        self.find_first(Cond::eq("did", did), &[]).await
    }
    /// Applies a patch. `NotFound` when missing.
    async fn update_agent_did(&self, agent_id: &str, patch: &AgentDidPatch) -> Result<AgentDid> {
        self.update::<AgentDid>(agent_id, patch).await
    }
    /// Deletes the DID of an agent. `NotFound` when missing.
    async fn delete_agent_did(&self, agent_id: &str) -> Result<()> {
        self.delete::<AgentDid>(agent_id).await
    }
}

impl<T: RowStore + ?Sized> AgentDidStore for T {}

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

//! Federated instances and federation tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// How far a federated instance is trusted.
    pub enum FederationTrustLevel {
        /// `full`
        Full = "full",
        /// `limited`
        Limited = "limited",
        /// `verify-only`
        VerifyOnly = "verify-only",
    }
    default VerifyOnly;
}

string_enum! {
    /// Whether a federation token was issued or received.
    pub enum FederationDirection {
        /// `issued`
        Issued = "issued",
        /// `received`
        Received = "received",
    }
    default Issued;
}

record! {
    /// Remote KavachOS instances trusted for agent federation.
    ///
    /// Table `kavach_federation_instances`.
    pub struct FederationInstance => "kavach_federation_instances", patch FederationInstancePatch {
        /// `id`.
        pub id: String,
        /// `instance_id`.
        pub instance_id: String,
        /// `instance_url`.
        pub instance_url: String,
        /// `public_key_jwk`: JSON string of a public JWK
        pub public_key_jwk: Option<String>,
        /// `trust_level`.
        pub trust_level: FederationTrustLevel = "verify-only",
        /// `discovered_at`.
        pub discovered_at: Option<DateTime<Utc>>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_federation_instances_instance_id_key": ["instance_id"]];
}

record! {
    /// Ledger of federation tokens issued to / received from other instances.
    ///
    /// Table `kavach_federation_tokens`.
    pub struct FederationToken => "kavach_federation_tokens", patch FederationTokenPatch {
        /// `id`.
        pub id: String,
        /// `token_jti`: JWT id used for de-duplication.
        pub token_jti: String,
        /// `agent_id`: No FK (may name a remote agent).
        pub agent_id: String,
        /// `source_instance_id`.
        pub source_instance_id: String,
        /// `target_instance_id`.
        pub target_instance_id: Option<String>,
        /// `direction`.
        pub direction: FederationDirection,
        /// `permissions`.
        pub permissions: Vec<String>,
        /// `trust_score`: Integer 0-100.
        pub trust_score: Option<i64>,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_federation_tokens_token_jti_key": ["token_jti"]];
    indexes: ["kavach_federation_tokens_agent": ["agent_id"], "kavach_federation_tokens_source": ["source_instance_id"]];
}

/// Federated instances and the ledger of federation tokens.
#[async_trait]
pub trait FederationStore: RowStore {
    /// Inserts an instance. `Conflict` on a duplicate `instance_id`.
    async fn create_federation_instance(
        &self,
        instance: FederationInstance,
    ) -> Result<FederationInstance> {
        self.create(instance).await
    }
    /// The instance with this row id.
    async fn get_federation_instance(&self, id: &str) -> Result<Option<FederationInstance>> {
        self.get(id).await
    }
    /// The instance with this `instance_id`.
    async fn find_federation_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<FederationInstance>> {
        self.find_first(Cond::eq("instance_id", instance_id), &[])
            .await
    }
    /// Every instance, oldest first.
    async fn list_federation_instances(&self) -> Result<Vec<FederationInstance>> {
        self.find_all(Cond::All, CREATED_ASC, None).await
    }
    /// Applies a patch. `NotFound` when missing.
    async fn update_federation_instance(
        &self,
        id: &str,
        patch: &FederationInstancePatch,
    ) -> Result<FederationInstance> {
        self.update::<FederationInstance>(id, patch).await
    }
    /// Deletes an instance. `NotFound` when missing.
    async fn delete_federation_instance(&self, id: &str) -> Result<()> {
        self.delete::<FederationInstance>(id).await
    }
    /// Records a token. `Conflict` when its `token_jti` was seen before
    /// (replay detection).
    async fn record_federation_token(&self, token: FederationToken) -> Result<FederationToken> {
        self.create(token).await
    }
    /// The token with this JWT id.
    async fn find_federation_token(&self, token_jti: &str) -> Result<Option<FederationToken>> {
        self.find_first(Cond::eq("token_jti", token_jti), &[]).await
    }
    /// Tokens of an agent, newest first.
    async fn list_federation_tokens_by_agent(
        &self,
        agent_id: &str,
    ) -> Result<Vec<FederationToken>> {
        self.find_all(Cond::eq("agent_id", agent_id), CREATED_DESC, None)
            .await
    }
    /// Deletes tokens with `expires_at < now`; returns how many.
    async fn purge_expired_federation_tokens(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<FederationToken>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> FederationStore for T {}

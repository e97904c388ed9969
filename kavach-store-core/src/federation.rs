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

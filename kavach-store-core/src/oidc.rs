//! The OIDC provider: clients, authorization codes, refresh tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Relying parties registered with the built-in OIDC identity provider (secret stored hashed).
    ///
    /// Table `kavach_oidc_clients`.
    pub struct OidcClient => "kavach_oidc_clients", patch OidcClientPatch {
        /// `id`.
        pub id: String,
        /// `client_id`.
        pub client_id: String,
        /// `client_secret_hash`: Hex SHA-256 of the raw secret.
        pub client_secret_hash: String [secret],
        /// `client_name`.
        pub client_name: String,
        /// `redirect_uris`.
        pub redirect_uris: Vec<String>,
        /// `grant_types`.
        pub grant_types: Vec<String>,
        /// `response_types`.
        pub response_types: Vec<String>,
        /// `scopes`.
        pub scopes: Vec<String>,
        /// `token_endpoint_auth_method`.
        pub token_endpoint_auth_method: String = "client_secret_post",
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_oidc_clients_client_id_key": ["client_id"]];
}

record! {
    /// Hashed authorization codes issued by the OIDC provider, single use.
    ///
    /// Table `kavach_oidc_auth_codes`.
    pub struct OidcAuthCode => "kavach_oidc_auth_codes", patch OidcAuthCodePatch {
        /// `id`.
        pub id: String,
        /// `code_hash`.
        pub code_hash: String [secret],
        /// `client_id`: No FK (refers to kavach_oidc_clients.client_id by convention).
        pub client_id: String,
        /// `user_id`: No FK.
        pub user_id: String,
        /// `redirect_uri`.
        pub redirect_uri: String,
        /// `scopes`.
        pub scopes: String,
        /// `nonce`.
        pub nonce: Option<String>,
        /// `code_challenge`.
        pub code_challenge: Option<String>,
        /// `code_challenge_method`.
        pub code_challenge_method: Option<String>,
        /// `used`.
        pub used: bool = false,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_oidc_auth_codes_code_hash_key": ["code_hash"]];
    indexes: ["kavach_oidc_auth_codes_user_id": ["user_id"]];
}

record! {
    /// Hashed refresh tokens issued by the OIDC provider, rotated on use.
    ///
    /// Table `kavach_oidc_refresh_tokens`.
    pub struct OidcRefreshToken => "kavach_oidc_refresh_tokens", patch OidcRefreshTokenPatch {
        /// `id`.
        pub id: String,
        /// `token_hash`.
        pub token_hash: String [secret],
        /// `client_id`: No FK.
        pub client_id: String,
        /// `user_id`: No FK.
        pub user_id: String,
        /// `scopes`.
        pub scopes: String,
        /// `revoked`.
        pub revoked: bool = false,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_oidc_refresh_tokens_token_hash_key": ["token_hash"]];
    indexes: ["kavach_oidc_refresh_tokens_user_id": ["user_id"]];
}

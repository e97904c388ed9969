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

/// The OIDC provider: clients, authorization codes and refresh tokens.
#[async_trait]
pub trait OidcStore: RowStore {
    /// Inserts a client. `Conflict` on a duplicate `client_id`.
    async fn create_oidc_client(&self, client: OidcClient) -> Result<OidcClient> {
        self.create(client).await
    }
    /// The client with this `client_id`.
    async fn find_oidc_client_by_client_id(&self, client_id: &str) -> Result<Option<OidcClient>> {
        self.find_first(Cond::eq("client_id", client_id), &[]).await
    }
    /// Applies a patch by row id. `NotFound` when missing.
    async fn update_oidc_client(&self, id: &str, patch: &OidcClientPatch) -> Result<OidcClient> {
        self.update::<OidcClient>(id, patch).await
    }
    /// Deletes the client with this `client_id`; returns how many rows.
    async fn delete_oidc_client(&self, client_id: &str) -> Result<u64> {
        self.delete_where::<OidcClient>(Cond::eq("client_id", client_id))
            .await
    }
    /// Inserts an authorization code.
    async fn create_oidc_auth_code(&self, code: OidcAuthCode) -> Result<OidcAuthCode> {
        self.create(code).await
    }
    /// The code with this hash, used or expired included.
    async fn find_oidc_auth_code(&self, code_hash: &str) -> Result<Option<OidcAuthCode>> {
        self.find_first(Cond::eq("code_hash", code_hash), &[]).await
    }
    /// Redeems a code: marks it used if unused and unexpired (`expires_at >
    /// now`) and returns it. Of N concurrent redemptions exactly one gets
    /// `Some`. Validate client, redirect URI and PKCE on the returned row.
    async fn consume_oidc_auth_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OidcAuthCode>> {
        let filter = Cond::eq("code_hash", code_hash)
            .and(Cond::eq("used", false))
            .and(Cond::gt("expires_at", now));
        Ok(self
            .update_where_returning::<OidcAuthCode>(filter, vec![Assign::Set("used", true.into())])
            .await?
            .pop())
    }
    /// Deletes codes with `expires_at < now`; returns how many.
    async fn purge_expired_oidc_auth_codes(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<OidcAuthCode>(Cond::lt("expires_at", now))
            .await
    }
    /// Inserts a refresh token.
    async fn create_oidc_refresh_token(&self, token: OidcRefreshToken) -> Result<OidcRefreshToken> {
        self.create(token).await
    }
    /// The refresh token with this hash, revoked or expired included.
    async fn find_oidc_refresh_token(&self, token_hash: &str) -> Result<Option<OidcRefreshToken>> {
        self.find_first(Cond::eq("token_hash", token_hash), &[])
            .await
    }
    /// Redeems a refresh token: revokes it if not revoked and unexpired
    /// (`expires_at > now`) and returns it; exactly one of N concurrent
    /// callers gets `Some`.
    async fn consume_oidc_refresh_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OidcRefreshToken>> {
        let filter = Cond::eq("token_hash", token_hash)
            .and(Cond::eq("revoked", false))
            .and(Cond::gt("expires_at", now));
        Ok(self
            .update_where_returning::<OidcRefreshToken>(
                filter,
                vec![Assign::Set("revoked", true.into())],
            )
            .await?
            .pop())
    }
    /// Revokes every refresh token of a user; returns how many.
    async fn revoke_oidc_refresh_tokens_by_user(&self, user_id: &str) -> Result<u64> {
        self.update_where::<OidcRefreshToken>(
            Cond::eq("user_id", user_id).and(Cond::eq("revoked", false)),
            vec![Assign::Set("revoked", true.into())],
        )
        .await
    }
    /// Deletes refresh tokens with `expires_at < now`; returns how many.
    async fn purge_expired_oidc_refresh_tokens(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<OidcRefreshToken>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> OidcStore for T {}

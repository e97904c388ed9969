//! The MCP OAuth authorization server (clients, tokens, codes) and social-login accounts and states.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// OAuth client type.
    pub enum OAuthClientType {
        /// `public`
        Public = "public",
        /// `confidential`
        Confidential = "confidential",
    }
    default Confidential;
}

record! {
    /// OAuth 2.1 clients registered (statically or dynamically) for the MCP authorization server.
    ///
    /// Table `kavach_oauth_clients`.
    pub struct OAuthClient => "kavach_oauth_clients", patch OAuthClientPatch {
        /// `id`.
        pub id: String,
        /// `client_id`.
        pub client_id: String,
        /// `client_secret`: NULL for public clients; stored as given (not hashed).
        pub client_secret: Option<String> [secret],
        /// `client_name`.
        pub client_name: Option<String>,
        /// `client_uri`.
        pub client_uri: Option<String>,
        /// `redirect_uris`.
        pub redirect_uris: Vec<String>,
        /// `grant_types`: Drizzle default ["authorization_code"]; DDL/Prisma have no default.
        pub grant_types: Vec<String>,
        /// `response_types`: Drizzle default ["code"]; DDL/Prisma have no default.
        pub response_types: Vec<String>,
        /// `token_endpoint_auth_method`.
        pub token_endpoint_auth_method: String = "client_secret_basic",
        /// `type`: Column named `type`.
        pub r#type: OAuthClientType = "confidential",
        /// `disabled`.
        pub disabled: bool = false,
        /// `metadata`.
        pub metadata: Option<serde_json::Value>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_oauth_clients_client_id_key": ["client_id"]];
}

record! {
    /// Access/refresh token records issued by the MCP OAuth server (values stored as issued, not hashed).
    ///
    /// Table `kavach_oauth_access_tokens`.
    pub struct OAuthAccessToken => "kavach_oauth_access_tokens", patch OAuthAccessTokenPatch {
        /// `id`.
        pub id: String,
        /// `access_token`: The token value itself (a JWT in the MCP flow), unhashed.
        pub access_token: String [secret],
        /// `refresh_token`: Unhashed; NULL when no refresh token was issued.
        pub refresh_token: Option<String> [secret],
        /// `client_id`: References the public `client_id` column of kavach_oauth_clients, not its `id`.
        pub client_id: String,
        /// `user_id`.
        pub user_id: String,
        /// `scopes`.
        pub scopes: String,
        /// `resource`: RFC 8707 audience the token is bound to.
        pub resource: Option<String>,
        /// `access_token_expires_at`.
        pub access_token_expires_at: DateTime<Utc>,
        /// `refresh_token_expires_at`: Not consulted by the core: refresh expiry is computed as created_at + configured TTL.
        pub refresh_token_expires_at: Option<DateTime<Utc>>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_oauth_access_tokens_access_token_key": ["access_token"], "kavach_oauth_access_tokens_refresh_token_key": ["refresh_token"]];
    references: ["client_id" -> "kavach_oauth_clients"."client_id" NoAction, "user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_oauth_access_tokens_user_id": ["user_id"]];
}

record! {
    /// Short-lived MCP OAuth authorization codes with PKCE data, consumed at the token endpoint.
    ///
    /// Table `kavach_oauth_authorization_codes`.
    pub struct OAuthAuthorizationCode => "kavach_oauth_authorization_codes", patch OAuthAuthorizationCodePatch {
        /// `id`.
        pub id: String,
        /// `code`: Stored unhashed.
        pub code: String [secret],
        /// `client_id`: References kavach_oauth_clients.client_id.
        pub client_id: String,
        /// `user_id`.
        pub user_id: String,
        /// `redirect_uri`.
        pub redirect_uri: String,
        /// `scopes`.
        pub scopes: String,
        /// `code_challenge`.
        pub code_challenge: Option<String>,
        /// `code_challenge_method`: Only `S256` is produced.
        pub code_challenge_method: Option<String>,
        /// `resource`.
        pub resource: Option<String>,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_oauth_authorization_codes_code_key": ["code"]];
    references: ["client_id" -> "kavach_oauth_clients"."client_id" NoAction, "user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_oauth_authorization_codes_user_id": ["user_id"]];
}

record! {
    /// Links between a KavachOS user and an account at an external OAuth/social provider (Google, GitHub, ...).
    ///
    /// Table `kavach_oauth_accounts`.
    pub struct OAuthAccount => "kavach_oauth_accounts", patch OAuthAccountPatch {
        /// `id`.
        pub id: String,
        /// `user_id`: May temporarily hold the placeholder `__pending__` until the caller links the account; this is why the DDL omits the FK that the Drizzle file declares.
        pub user_id: String,
        /// `provider`.
        pub provider: String,
        /// `provider_account_id`: Looked up together with `provider`, but no unique constraint on the pair.
        pub provider_account_id: String,
        /// `access_token`: Provider token stored in plaintext.
        pub access_token: String [secret],
        /// `refresh_token`.
        pub refresh_token: Option<String> [secret],
        /// `expires_at`.
        pub expires_at: Option<DateTime<Utc>>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_oauth_accounts_provider_key": ["provider", "provider_account_id"]];
}

record! {
    /// Short-lived state + PKCE verifier rows for outbound social-login redirects (CSRF protection).
    ///
    /// Table `kavach_oauth_states`.
    pub struct OAuthState => "kavach_oauth_states", patch OAuthStatePatch {
        /// `state`: Random opaque value; primary key.
        pub state: String,
        /// `code_verifier`: PKCE verifier in plaintext.
        pub code_verifier: String [secret],
        /// `redirect_uri`.
        pub redirect_uri: String,
        /// `provider`.
        pub provider: String,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: state;
}

/// The MCP OAuth authorization server: clients, access/refresh tokens and
/// authorization codes.
#[async_trait]
pub trait OAuthStore: RowStore {
    /// Inserts a client (`createOAuthClient`).
    async fn create_oauth_client(&self, client: OAuthClient) -> Result<OAuthClient> {
        self.create(client).await
    }

    /// The client with this public `client_id` (`findOAuthClientById`).
    async fn find_oauth_client_by_client_id(&self, client_id: &str) -> Result<Option<OAuthClient>> {
        self.find_first(Cond::eq("client_id", client_id), &[]).await
    }

    /// The client with this row id.
    async fn get_oauth_client(&self, id: &str) -> Result<Option<OAuthClient>> {
        self.get(id).await
    }

    /// Applies a patch to the client with this `client_id`
    /// (`updateOAuthClient`). `NotFound` when missing.
    async fn update_oauth_client(
        &self,
        client_id: &str,
        patch: &OAuthClientPatch,
    ) -> Result<OAuthClient> {
        let client = self
            .find_oauth_client_by_client_id(client_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                table: OAuthClient::TABLE,
                key: client_id.to_string(),
            })?;
        self.update::<OAuthClient>(&client.id, patch).await
    }

    /// Deletes the client with this `client_id`. `NotFound` when missing;
    /// `Reference` while tokens or codes of it exist.
    async fn delete_oauth_client(&self, client_id: &str) -> Result<()> {
        match self
            .delete_where::<OAuthClient>(Cond::eq("client_id", client_id))
            .await?
        {
            0 => Err(StoreError::NotFound {
                table: OAuthClient::TABLE,
                key: client_id.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Inserts an access token (`createOAuthAccessToken`).
    async fn create_oauth_access_token(&self, token: OAuthAccessToken) -> Result<OAuthAccessToken> {
        self.create(token).await
    }

    /// The token row with this access token, expired or not (`findOAuthAccessToken`).
    async fn find_oauth_access_token(
        &self,
        access_token: &str,
    ) -> Result<Option<OAuthAccessToken>> {
        self.find_first(Cond::eq("access_token", access_token), &[])
            .await
    }

    /// The token row with this refresh token, expired or not (`findOAuthRefreshToken`).
    async fn find_oauth_refresh_token(
        &self,
        refresh_token: &str,
    ) -> Result<Option<OAuthAccessToken>> {
        self.find_first(Cond::eq("refresh_token", refresh_token), &[])
            .await
    }

    /// Deletes the token row with this access token, which also destroys its
    /// refresh token (`revokeOAuthAccessToken`); returns how many rows.
    async fn revoke_oauth_access_token(&self, access_token: &str) -> Result<u64> {
        self.delete_where::<OAuthAccessToken>(Cond::eq("access_token", access_token))
            .await
    }

    /// Consumes a refresh token: deletes its row and returns it if the
    /// refresh token has not expired (no expiry, or `> now`). Of concurrent
    /// refreshes with one token exactly one gets `Some`.
    async fn consume_oauth_refresh_token(
        &self,
        refresh_token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthAccessToken>> {
        let filter = Cond::eq("refresh_token", refresh_token).and(Cond::Or(vec![
            Cond::IsNull("refresh_token_expires_at"),
            Cond::gt("refresh_token_expires_at", now),
        ]));
        Ok(self
            .delete_where_returning::<OAuthAccessToken>(filter)
            .await?
            .pop())
    }

    /// Deletes token rows whose access token expired before `now` and whose
    /// refresh token (if any) did too; returns how many.
    async fn purge_expired_oauth_access_tokens(&self, now: DateTime<Utc>) -> Result<u64> {
        let filter = Cond::lt("access_token_expires_at", now).and(Cond::Or(vec![
            Cond::IsNull("refresh_token_expires_at"),
            Cond::lt("refresh_token_expires_at", now),
        ]));
        self.delete_where::<OAuthAccessToken>(filter).await
    }

    /// Inserts an authorization code (`createOAuthAuthorizationCode`).
    async fn create_oauth_authorization_code(
        &self,
        code: OAuthAuthorizationCode,
    ) -> Result<OAuthAuthorizationCode> {
        self.create(code).await
    }

    /// The code row, expired or not, without consuming it (`findOAuthAuthorizationCode`).
    async fn find_oauth_authorization_code(
        &self,
        code: &str,
    ) -> Result<Option<OAuthAuthorizationCode>> {
        self.find_first(Cond::eq("code", code), &[]).await
    }

    /// Finds and deletes a code atomically (the core's
    /// `consumeAuthorizationCode`): returns it when it existed and had not
    /// expired (`expires_at > now`); an expired code is deleted too. Of N
    /// concurrent redeemers exactly one gets `Some`.
    async fn consume_oauth_authorization_code(
        &self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthAuthorizationCode>> {
        let removed = self
            .delete_where_returning::<OAuthAuthorizationCode>(Cond::eq("code", code))
            .await?;
        Ok(removed.into_iter().find(|c| c.expires_at > now))
    }

    /// Deletes a code by row id (`deleteOAuthAuthorizationCode`). `NotFound` when missing.
    async fn delete_oauth_authorization_code(&self, id: &str) -> Result<()> {
        self.delete::<OAuthAuthorizationCode>(id).await
    }

    /// Deletes codes with `expires_at < now`; returns how many.
    async fn purge_expired_oauth_authorization_codes(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<OAuthAuthorizationCode>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> OAuthStore for T {}

/// Social-login accounts and the short-lived state of OAuth redirects.
#[async_trait]
pub trait OAuthAccountStore: RowStore {
    /// Inserts a linked account. `Conflict` when the provider account is
    /// already linked.
    async fn create_oauth_account(&self, account: OAuthAccount) -> Result<OAuthAccount> {
        self.create(account).await
    }

    /// The account with this id.
    async fn get_oauth_account(&self, id: &str) -> Result<Option<OAuthAccount>> {
        self.get(id).await
    }

    /// The account of a provider's user (`findLinkedUser`, `handleCallback`).
    async fn find_oauth_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<OAuthAccount>> {
        let filter = Cond::eq("provider", provider)
            .and(Cond::eq("provider_account_id", provider_account_id));
        self.find_first(filter, &[]).await
    }

    /// Accounts linked to a user, oldest first.
    async fn list_oauth_accounts_by_user(&self, user_id: &str) -> Result<Vec<OAuthAccount>> {
        self.find_all(Cond::eq("user_id", user_id), CREATED_ASC, None)
            .await
    }

    /// Applies a patch (new tokens, the real `user_id` on linking). `NotFound` when missing.
    async fn update_oauth_account(
        &self,
        id: &str,
        patch: &OAuthAccountPatch,
    ) -> Result<OAuthAccount> {
        self.update::<OAuthAccount>(id, patch).await
    }

    /// Deletes an account. `NotFound` when missing.
    async fn delete_oauth_account(&self, id: &str) -> Result<()> {
        self.delete::<OAuthAccount>(id).await
    }

    /// Inserts the state of an authorization redirect.
    async fn create_oauth_state(&self, state: OAuthState) -> Result<OAuthState> {
        self.create(state).await
    }

    /// Consumes a state atomically: deletes it and returns it if it had not
    /// expired (`expires_at > now`); expired states are deleted too.
    async fn consume_oauth_state(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthState>> {
        let removed = self
            .delete_where_returning::<OAuthState>(Cond::eq("state", state))
            .await?;
        Ok(removed.into_iter().find(|s| s.expires_at > now))
    }

    /// Deletes states with `expires_at < now` (`pruneExpiredStates`); returns how many.
    async fn purge_expired_oauth_states(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<OAuthState>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> OAuthAccountStore for T {}

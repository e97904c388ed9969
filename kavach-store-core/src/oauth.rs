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

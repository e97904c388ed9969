//! API keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Static bearer API keys (hashed) belonging to users, with permission strings and expiry.
    ///
    /// Table `kavach_api_keys`.
    pub struct ApiKey => "kavach_api_keys", patch ApiKeyPatch {
        /// `id`: Core generates `key_` + 32 hex chars.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `name`.
        pub name: String,
        /// `key_hash`: Hex SHA-256 of the full key. Looked up per request, but neither UNIQUE nor indexed in any source.
        pub key_hash: String [secret],
        /// `key_prefix`: Configured prefix (default `kos_`) + first 8 hex chars.
        pub key_prefix: String,
        /// `permissions`.
        pub permissions: Vec<String>,
        /// `expires_at`.
        pub expires_at: Option<DateTime<Utc>>,
        /// `last_used_at`.
        pub last_used_at: Option<DateTime<Utc>>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_api_keys_key_hash_key": ["key_hash"]];
    references: ["user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_api_keys_user_id": ["user_id"]];
}

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

/// API keys.
#[async_trait]
pub trait ApiKeyStore: RowStore {
    /// Inserts a key (`createApiKey`). `Conflict` on a duplicate hash.
    async fn create_api_key(&self, key: ApiKey) -> Result<ApiKey> {
        self.create(key).await
    }
    /// The key with this id.
    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        self.get(id).await
    }
    /// The key with this hash, expired or not (`findApiKeyByHash`): the hot
    /// path of API-key authentication, one indexed lookup.
    async fn find_api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.find_first(Cond::eq("key_hash", key_hash), &[]).await
    }
    /// Keys of a user, newest first (`listApiKeysByUser`).
    async fn list_api_keys_by_user(&self, user_id: &str) -> Result<Vec<ApiKey>> {
        self.find_all(Cond::eq("user_id", user_id), CREATED_DESC, None)
            .await
    }
    /// Sets `last_used_at` (`updateApiKeyLastUsed`). `NotFound` when missing.
    async fn update_api_key_last_used(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        let patch = ApiKeyPatch {
            last_used_at: Some(Some(at)),
            ..Default::default()
        };
        self.update::<ApiKey>(id, &patch).await.map(|_| ())
    }
    /// Applies a patch. `NotFound` when missing.
    async fn update_api_key(&self, id: &str, patch: &ApiKeyPatch) -> Result<ApiKey> {
        self.update::<ApiKey>(id, patch).await
    }
    /// Replaces a key by a new one in one transaction (`rotate`). `NotFound`
    /// (and nothing created) when the old key is missing.
    async fn rotate_api_key(&self, old_id: &str, new_key: ApiKey) -> Result<ApiKey> {
        let tx = self.begin().await?;
        tx.delete::<ApiKey>(old_id).await?;
        let key = tx.create(new_key).await?;
        tx.commit().await?;
        Ok(key)
    }
    /// Deletes a key (`deleteApiKey`). `NotFound` when missing.
    async fn delete_api_key(&self, id: &str) -> Result<()> {
        self.delete::<ApiKey>(id).await
    }
    /// Deletes every key of a user; returns how many.
    async fn delete_api_keys_by_user(&self, user_id: &str) -> Result<u64> {
        self.delete_where::<ApiKey>(Cond::eq("user_id", user_id))
            .await
    }
    /// Deletes keys with `expires_at < now` (keys without expiry stay); returns how many.
    async fn purge_expired_api_keys(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<ApiKey>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> ApiKeyStore for T {}

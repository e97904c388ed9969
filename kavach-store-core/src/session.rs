//! Human sessions, JWT refresh tokens and rotating refresh-token families.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Server-side human sessions; the session id is the `sub` of the signed session JWT/cookie.
    ///
    /// Table `kavach_sessions`.
    pub struct Session => "kavach_sessions", patch SessionPatch {
        /// `id`: Session id; the signed HS256 session JWT carries it as `sub`.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `metadata`.
        pub metadata: Option<serde_json::Value>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_sessions_user_id": ["user_id"]];
}

record! {
    /// Hashed refresh tokens of the stateless JWT session plugin (single use).
    ///
    /// Table `kavach_jwt_refresh_tokens`.
    pub struct JwtRefreshToken => "kavach_jwt_refresh_tokens", patch JwtRefreshTokenPatch {
        /// `id`.
        pub id: String,
        /// `token_hash`: Hex SHA-256 of the raw refresh token.
        pub token_hash: String [secret],
        /// `user_id`.
        pub user_id: String,
        /// `used`.
        pub used: bool = false,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_jwt_refresh_tokens_token_hash_key": ["token_hash"]];
    references: ["user_id" -> "kavach_users"."id" Cascade];
    indexes: ["kavach_jwt_refresh_tokens_user_id": ["user_id"]];
}

record! {
    /// Rotation families for opaque refresh tokens (reuse detection, absolute lifetime).
    ///
    /// Table `kavach_refresh_token_families`.
    pub struct RefreshTokenFamily => "kavach_refresh_token_families", patch RefreshTokenFamilyPatch {
        /// `id`.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `absolute_expires_at`: Hard upper bound; rotation never extends past it.
        pub absolute_expires_at: DateTime<Utc>,
        /// `revoked`: Drizzle plain integer 0/1; DDL uses the dialect boolean type.
        pub revoked: bool = false,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["user_id" -> "kavach_users"."id" Cascade];
    indexes: ["kavach_refresh_token_families_user_id": ["user_id"]];
}

record! {
    /// Individual one-time refresh tokens belonging to a family.
    ///
    /// Table `kavach_refresh_tokens`.
    pub struct RefreshToken => "kavach_refresh_tokens", patch RefreshTokenPatch {
        /// `id`.
        pub id: String,
        /// `family_id`.
        pub family_id: String,
        /// `token_hash`.
        pub token_hash: String [secret],
        /// `used`: Drizzle plain integer 0/1; DDL uses the dialect boolean type.
        pub used: bool = false,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_refresh_tokens_token_hash_key": ["token_hash"]];
    references: ["family_id" -> "kavach_refresh_token_families"."id" Cascade];
    indexes: ["kavach_refresh_tokens_family_id": ["family_id"]];
}

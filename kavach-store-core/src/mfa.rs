//! TOTP second factor and trusted devices.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// TOTP second-factor secret, enabled flag and hashed backup codes per user.
    ///
    /// Table `kavach_totp`.
    pub struct Totp => "kavach_totp", patch TotpPatch {
        /// `user_id`: Primary key and FK to users (no cascade).
        pub user_id: String,
        /// `secret`: Base32 TOTP secret, plaintext.
        pub secret: String [secret],
        /// `enabled`.
        pub enabled: bool = false,
        /// `backup_codes`.
        pub backup_codes: serde_json::Value [secret],
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: user_id;
    references: ["user_id" -> "kavach_users"."id" NoAction];
}

record! {
    /// Devices (by fingerprint) allowed to skip 2FA until an expiry.
    ///
    /// Table `kavach_trusted_devices`.
    pub struct TrustedDevice => "kavach_trusted_devices", patch TrustedDevicePatch {
        /// `id`: Core generates 32 hex chars.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `fingerprint`: HMAC-SHA256 of stable request headers.
        pub fingerprint: String,
        /// `label`.
        pub label: String,
        /// `trusted_at`.
        pub trusted_at: DateTime<Utc>,
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["user_id" -> "kavach_users"."id" Cascade];
    indexes: ["kavach_trusted_devices_user_fingerprint": ["user_id", "fingerprint"]];
}

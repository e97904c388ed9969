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

/// TOTP second factor (one row per user).
#[async_trait]
pub trait TotpStore: RowStore {
    /// The TOTP row of a user.
    async fn get_totp(&self, user_id: &str) -> Result<Option<Totp>> {
        self.get(user_id).await
    }
    /// Inserts or replaces the user's TOTP setup atomically (`setup`).
    async fn upsert_totp(&self, totp: Totp) -> Result<Totp> {
        let on_conflict = vec![
            Assign::Set("secret", totp.secret.clone().into()),
            Assign::Set("enabled", totp.enabled.into()),
            Assign::Set("backup_codes", totp.backup_codes.clone().into()),
            Assign::Set("updated_at", totp.updated_at.into()),
        ];
        let upsert = Upsert {
            table: Totp::table_def(),
            row: totp.to_row(),
            conflict: &["user_id"],
            on_conflict,
        };
        Totp::from_row(self.upsert_row(&upsert).await?)
    }
    /// Applies a patch (enable, new backup codes). `NotFound` when missing.
    async fn update_totp(&self, user_id: &str, patch: &TotpPatch) -> Result<Totp> {
        self.update::<Totp>(user_id, patch).await
    }
    /// Deletes the user's TOTP (`disable`). `NotFound` when missing.
    async fn delete_totp(&self, user_id: &str) -> Result<()> {
        self.delete::<Totp>(user_id).await
    }
}

impl<T: RowStore + ?Sized> TotpStore for T {}

const TRUSTED_ASC: &[OrderBy] = &[OrderBy::asc("trusted_at"), OrderBy::asc("id")];

/// Devices trusted to skip the second factor.
#[async_trait]
pub trait TrustedDeviceStore: RowStore {
    /// Inserts a device.
    async fn create_trusted_device(&self, device: TrustedDevice) -> Result<TrustedDevice> {
        self.create(device).await
    }
    /// Devices of a user, longest trusted first (eviction order).
    async fn list_trusted_devices_by_user(&self, user_id: &str) -> Result<Vec<TrustedDevice>> {
        self.find_all(Cond::eq("user_id", user_id), TRUSTED_ASC, None)
            .await
    }
    /// The unexpired (`expires_at > now`) device of a user with this fingerprint (`isTrusted`).
    async fn find_trusted_device(
        &self,
        user_id: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TrustedDevice>> {
        let filter = Cond::eq("user_id", user_id)
            .and(Cond::eq("fingerprint", fingerprint))
            .and(Cond::gt("expires_at", now));
        self.find_first(filter, &[]).await
    }
    /// Applies a patch (refresh). `NotFound` when missing.
    async fn update_trusted_device(
        &self,
        id: &str,
        patch: &TrustedDevicePatch,
    ) -> Result<TrustedDevice> {
        self.update::<TrustedDevice>(id, patch).await
    }
    /// Deletes one device. `NotFound` when missing.
    async fn delete_trusted_device(&self, id: &str) -> Result<()> {
        self.delete::<TrustedDevice>(id).await
    }
    /// Deletes every device of a user; returns how many.
    async fn delete_trusted_devices_by_user(&self, user_id: &str) -> Result<u64> {
        self.delete_where::<TrustedDevice>(Cond::eq("user_id", user_id))
            .await
    }
    /// Deletes devices with `expires_at < now`; returns how many.
    async fn purge_expired_trusted_devices(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<TrustedDevice>(Cond::lt("expires_at", now))
            .await
    }
}

impl<T: RowStore + ?Sized> TrustedDeviceStore for T {}

//! Tenants (`kavach_tenants`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// Lifecycle of a tenant.
    pub enum TenantStatus {
        /// `active`
        Active = "active",
        /// `suspended`
        Suspended = "suspended",
    }
    default Active;
}

record! {
    /// Optional multi-tenant partitions that agents (and budget policies) can be scoped to.
    ///
    /// Table `kavach_tenants`.
    pub struct Tenant => "kavach_tenants", patch TenantPatch {
        /// `id`.
        pub id: String,
        /// `name`.
        pub name: String,
        /// `slug`.
        pub slug: String,
        /// `settings`.
        pub settings: Option<serde_json::Value>,
        /// `status`.
        pub status: TenantStatus = "active",
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_tenants_slug_key": ["slug"]];
}

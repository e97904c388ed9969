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

/// Tenants.
#[async_trait]
pub trait TenantStore: RowStore {
    /// Inserts a tenant. `Conflict` on a duplicate slug.
    async fn create_tenant(&self, tenant: Tenant) -> Result<Tenant> {
        self.create(tenant).await
    }
    /// The tenant with this id.
    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>> {
        self.get(id).await
    }
    /// The tenant with this slug.
    async fn find_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        self.find_first(Cond::eq("slug", slug), &[]).await
    }
    /// Every tenant, optionally of one status, oldest first.
    async fn list_tenants(&self, status: Option<TenantStatus>) -> Result<Vec<Tenant>> {
        let filter = Cond::All.and_opt(status, |s| Cond::eq("status", s));
        self.find_all(filter, CREATED_ASC, None).await
    }
    /// Applies a patch. `NotFound` when missing.
    async fn update_tenant(&self, id: &str, patch: &TenantPatch) -> Result<Tenant> {
        self.update::<Tenant>(id, patch).await
    }
    /// Deletes a tenant. `NotFound` when missing; `Reference` while agents
    /// or budget policies name it.
    async fn delete_tenant(&self, id: &str) -> Result<()> {
        self.delete::<Tenant>(id).await
    }
}

impl<T: RowStore + ?Sized> TenantStore for T {}

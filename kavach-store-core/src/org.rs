//! Organizations, members, invitations, roles and SSO connections.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

string_enum! {
    /// State of an organization invitation.
    pub enum InvitationStatus {
        /// `pending`
        Pending = "pending",
        /// `accepted`
        Accepted = "accepted",
        /// `expired`
        Expired = "expired",
    }
    default Pending;
}

string_enum! {
    /// SSO protocol.
    pub enum SsoType {
        /// `saml`
        Saml = "saml",
        /// `oidc`
        Oidc = "oidc",
    }
    default Oidc;
}

record! {
    /// Organizations (multi-member workspaces) owned by a user.
    ///
    /// Table `kavach_organizations`.
    pub struct Organization => "kavach_organizations", patch OrganizationPatch {
        /// `id`.
        pub id: String,
        /// `name`.
        pub name: String,
        /// `slug`: Globally unique.
        pub slug: String,
        /// `owner_id`.
        pub owner_id: String,
        /// `metadata`.
        pub metadata: Option<serde_json::Value>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_organizations_slug_key": ["slug"]];
    references: ["owner_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_organizations_owner_id": ["owner_id"]];
}

record! {
    /// Membership rows joining users to organizations with a role name.
    ///
    /// Table `kavach_org_members`.
    pub struct OrgMember => "kavach_org_members", patch OrgMemberPatch {
        /// `id`.
        pub id: String,
        /// `org_id`.
        pub org_id: String,
        /// `user_id`.
        pub user_id: String,
        /// `role`: Role name (owner/admin/member or a custom kavach_org_roles.name); no FK.
        pub role: String = "member",
        /// `joined_at`.
        pub joined_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_org_members_org_user_key": ["org_id", "user_id"]];
    references: ["org_id" -> "kavach_organizations"."id" Cascade, "user_id" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_org_members_user_id": ["user_id"]];
}

record! {
    /// Pending/accepted/expired email invitations into an organization.
    ///
    /// Table `kavach_org_invitations`.
    pub struct OrgInvitation => "kavach_org_invitations", patch OrgInvitationPatch {
        /// `id`.
        pub id: String,
        /// `org_id`.
        pub org_id: String,
        /// `email`.
        pub email: String,
        /// `role`.
        pub role: String = "member",
        /// `invited_by`: FK to users without cascade.
        pub invited_by: String,
        /// `status`.
        pub status: InvitationStatus = "pending",
        /// `expires_at`.
        pub expires_at: DateTime<Utc>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    references: ["org_id" -> "kavach_organizations"."id" Cascade, "invited_by" -> "kavach_users"."id" NoAction];
    indexes: ["kavach_org_invitations_org_email_status": ["org_id", "email", "status"]];
}

record! {
    /// Named per-organization roles and the permission strings they grant.
    ///
    /// Table `kavach_org_roles`.
    pub struct OrgRole => "kavach_org_roles", patch OrgRolePatch {
        /// `id`.
        pub id: String,
        /// `org_id`.
        pub org_id: String,
        /// `name`.
        pub name: String,
        /// `permissions`: Permission strings granted by the role.
        pub permissions: Vec<String>,
    }
    primary_key: id;
    unique: ["kavach_org_roles_org_name_key": ["org_id", "name"]];
    references: ["org_id" -> "kavach_organizations"."id" Cascade];
}

record! {
    /// Enterprise SSO (SAML/OIDC) connections keyed by email domain.
    ///
    /// Table `kavach_sso_connections`.
    pub struct SsoConnection => "kavach_sso_connections", patch SsoConnectionPatch {
        /// `id`.
        pub id: String,
        /// `org_id`: No FK to kavach_organizations.
        pub org_id: String,
        /// `provider_id`.
        pub provider_id: String,
        /// `type`.
        pub r#type: SsoType,
        /// `domain`: Stored lower-cased.
        pub domain: String,
        /// `enabled`: INTEGER 0/1 in Drizzle and in the DDL for every dialect (even Postgres/MySQL); Prisma says Boolean.
        pub enabled: bool as IntBool = true,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_sso_connections_domain_key": ["domain"]];
    indexes: ["kavach_sso_connections_org_id": ["org_id"]];
}

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

const JOINED_ASC: &[OrderBy] = &[OrderBy::asc("joined_at"), OrderBy::asc("id")];
const NAME_ASC: &[OrderBy] = &[OrderBy::asc("name"), OrderBy::asc("id")];

fn member(org_id: &str, user_id: &str) -> Cond {
    Cond::eq("org_id", org_id).and(Cond::eq("user_id", user_id))
}

/// Organizations with their members, invitations and roles.
#[async_trait]
pub trait OrganizationStore: RowStore {
    /// Inserts an organization only (`createOrg`; the owner is not added as a
    /// member). `Conflict` on a duplicate slug.
    async fn create_organization(&self, org: Organization) -> Result<Organization> {
        self.create(org).await
    }

    /// Inserts an organization, its owner's membership and its initial roles
    /// in one transaction (the core's `create`).
    async fn create_organization_with_owner(
        &self,
        org: Organization,
        owner: OrgMember,
        roles: &[OrgRole],
    ) -> Result<Organization> {
        let tx = self.begin().await?;
        let org = tx.create(org).await?;
        tx.create(owner).await?;
        tx.create_many(roles).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// The organization with this id (`findOrgById`).
    async fn get_organization(&self, id: &str) -> Result<Option<Organization>> {
        self.get(id).await
    }

    /// The organization with this slug (`findOrgBySlug`).
    async fn find_organization_by_slug(&self, slug: &str) -> Result<Option<Organization>> {
        self.find_first(Cond::eq("slug", slug), &[]).await
    }

    /// Organizations owned by a user, oldest first.
    async fn list_organizations_by_owner(&self, owner_id: &str) -> Result<Vec<Organization>> {
        self.find_all(Cond::eq("owner_id", owner_id), CREATED_ASC, None)
            .await
    }

    /// Number of organizations owned by a user (`maxOrgsPerUser`).
    async fn count_organizations_by_owner(&self, owner_id: &str) -> Result<u64> {
        self.count::<Organization>(Cond::eq("owner_id", owner_id))
            .await
    }

    /// Organizations a user is a member of, oldest first.
    async fn list_organizations_for_user(&self, user_id: &str) -> Result<Vec<Organization>> {
        let memberships: Vec<OrgMember> = self
            .find_all(Cond::eq("user_id", user_id), &[], None)
            .await?;
        let ids: Vec<String> = memberships.into_iter().map(|m| m.org_id).collect();
        self.find_all(Cond::is_in("id", ids), CREATED_ASC, None)
            .await
    }

    /// Organizations, oldest first, with `LIMIT`/`OFFSET` (SCIM groups),
    /// optionally filtered by a name search.
    async fn list_organizations(
        &self,
        name_like: Option<LikePattern>,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> Result<Vec<Organization>> {
        let filter = Cond::All.and_opt(name_like, |p| Cond::Like("name", p));
        let query = crate::page::offset_window(
            Select::new(Organization::table_def(), filter).order(CREATED_ASC),
            limit,
            offset,
        );
        decode_rows(self.select_rows(&query).await?)
    }

    /// Applies a patch. `NotFound` when missing.
    async fn update_organization(
        &self,
        id: &str,
        patch: &OrganizationPatch,
    ) -> Result<Organization> {
        self.update::<Organization>(id, patch).await
    }

    /// Deletes an organization (`deleteOrg`); members, invitations and roles
    /// go with it by cascade. `NotFound` when missing.
    async fn delete_organization(&self, id: &str) -> Result<()> {
        self.delete::<Organization>(id).await
    }

    /// Deletes an organization and its members, invitations, roles and SSO
    /// connections explicitly, in one transaction (also on schemas without
    /// foreign keys). `NotFound` when missing.
    async fn delete_organization_cascade(&self, id: &str) -> Result<DeletionReport> {
        let tx = self.begin().await?;
        let mut report = DeletionReport::default();
        let by_org = || Cond::eq("org_id", id);
        report.add(
            OrgMember::TABLE,
            tx.delete_where::<OrgMember>(by_org()).await?,
        );
        report.add(
            OrgInvitation::TABLE,
            tx.delete_where::<OrgInvitation>(by_org()).await?,
        );
        report.add(OrgRole::TABLE, tx.delete_where::<OrgRole>(by_org()).await?);
        report.add(
            SsoConnection::TABLE,
            tx.delete_where::<SsoConnection>(by_org()).await?,
        );
        tx.delete::<Organization>(id).await?;
        report.add(Organization::TABLE, 1);
        tx.commit().await?;
        Ok(report)
    }

    /// Adds a member (`createOrgMember`). `Conflict` when already a member.
    async fn add_org_member(&self, member: OrgMember) -> Result<OrgMember> {
        self.create(member).await
    }

    /// The membership of a user in an organization (`findOrgMember`).
    async fn get_org_member(&self, org_id: &str, user_id: &str) -> Result<Option<OrgMember>> {
        self.find_first(member(org_id, user_id), &[]).await
    }

    /// Members of an organization, earliest joined first (`listOrgMembers`).
    async fn list_org_members(&self, org_id: &str) -> Result<Vec<OrgMember>> {
        self.find_all(Cond::eq("org_id", org_id), JOINED_ASC, None)
            .await
    }

    /// Number of members, optionally only those with `role` (member caps,
    /// last-owner checks).
    async fn count_org_members(&self, org_id: &str, role: Option<&str>) -> Result<u64> {
        self.count::<OrgMember>(Cond::eq("org_id", org_id).and_opt(role, |r| Cond::eq("role", r)))
            .await
    }

    /// Changes a member's role; returns the membership, `NotFound` when missing.
    async fn update_org_member_role(
        &self,
        org_id: &str,
        user_id: &str,
        role: &str,
    ) -> Result<OrgMember> {
        self.update_where_returning::<OrgMember>(
            member(org_id, user_id),
            vec![Assign::Set("role", role.into())],
        )
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound {
            table: OrgMember::TABLE,
            key: format!("{org_id}/{user_id}"),
        })
    }

    /// Removes a member (`deleteOrgMember`); returns how many rows (0 or 1).
    async fn remove_org_member(&self, org_id: &str, user_id: &str) -> Result<u64> {
        self.delete_where::<OrgMember>(member(org_id, user_id))
            .await
    }

    /// Inserts an invitation (`createOrgInvitation`).
    async fn create_org_invitation(&self, invitation: OrgInvitation) -> Result<OrgInvitation> {
        self.create(invitation).await
    }

    /// The invitation with this id (`findOrgInvitation`).
    async fn get_org_invitation(&self, id: &str) -> Result<Option<OrgInvitation>> {
        self.get(id).await
    }

    /// The pending invitation of `email` to an organization (duplicate check).
    async fn find_pending_org_invitation(
        &self,
        org_id: &str,
        email: &str,
    ) -> Result<Option<OrgInvitation>> {
        let filter = Cond::eq("org_id", org_id)
            .and(Cond::eq("email", email))
            .and(Cond::eq("status", InvitationStatus::Pending));
        self.find_first(filter, CREATED_ASC).await
    }

    /// Invitations of an organization, newest first.
    async fn list_org_invitations(&self, org_id: &str) -> Result<Vec<OrgInvitation>> {
        self.find_all(Cond::eq("org_id", org_id), CREATED_DESC, None)
            .await
    }

    /// Invitations of an organization created at or after `since` (hourly cap).
    async fn count_org_invitations_since(&self, org_id: &str, since: DateTime<Utc>) -> Result<u64> {
        self.count::<OrgInvitation>(Cond::eq("org_id", org_id).and(Cond::ge("created_at", since)))
            .await
    }

    /// Applies a patch with no state check (`updateOrgInvitation`). `NotFound` when missing.
    async fn update_org_invitation(
        &self,
        id: &str,
        patch: &OrgInvitationPatch,
    ) -> Result<OrgInvitation> {
        self.update::<OrgInvitation>(id, patch).await
    }

    /// Accepts an invitation and adds the member in one transaction, only if
    /// the invitation is still pending and unexpired (`expires_at > now`).
    /// Returns `None` when it was missing, expired or already accepted: of
    /// two accepts racing exactly one succeeds. `Conflict` (and nothing
    /// changed) when the user is already a member; `InvalidInput` when
    /// `new_member` names another organization.
    async fn accept_org_invitation(
        &self,
        id: &str,
        new_member: OrgMember,
        now: DateTime<Utc>,
    ) -> Result<Option<(OrgInvitation, OrgMember)>> {
        let tx = self.begin().await?;
        let filter = Cond::eq("id", id)
            .and(Cond::eq("status", InvitationStatus::Pending))
            .and(Cond::gt("expires_at", now));
        let set = vec![Assign::Set("status", InvitationStatus::Accepted.into())];
        let Some(invitation) = tx
            .update_where_returning::<OrgInvitation>(filter, set)
            .await?
            .pop()
        else {
            return Ok(None);
        };
        if new_member.org_id != invitation.org_id {
            // Dropping the transaction undoes the acceptance.
            return Err(StoreError::invalid_input(
                "kavach_org_members.org_id",
                "the new member must join the organization of the invitation",
            ));
        }
        let added = tx.create(new_member).await?;
        tx.commit().await?;
        Ok(Some((invitation, added)))
    }

    /// Deletes an invitation (decline, revoke). `NotFound` when missing.
    async fn delete_org_invitation(&self, id: &str) -> Result<()> {
        self.delete::<OrgInvitation>(id).await
    }

    /// Marks pending invitations with `expires_at < now` as expired; returns how many.
    async fn expire_org_invitations(&self, now: DateTime<Utc>) -> Result<u64> {
        self.update_where::<OrgInvitation>(
            Cond::eq("status", InvitationStatus::Pending).and(Cond::lt("expires_at", now)),
            vec![Assign::Set("status", InvitationStatus::Expired.into())],
        )
        .await
    }

    /// Deletes invitations with `expires_at < now`; returns how many.
    async fn purge_expired_org_invitations(&self, now: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<OrgInvitation>(Cond::lt("expires_at", now))
            .await
    }

    /// Inserts a role. `Conflict` when the organization has a role of that name.
    async fn create_org_role(&self, role: OrgRole) -> Result<OrgRole> {
        self.create(role).await
    }

    /// The role of an organization by name.
    async fn find_org_role(&self, org_id: &str, name: &str) -> Result<Option<OrgRole>> {
        self.find_first(Cond::eq("org_id", org_id).and(Cond::eq("name", name)), &[])
            .await
    }

    /// Roles of an organization by name.
    async fn list_org_roles(&self, org_id: &str) -> Result<Vec<OrgRole>> {
        self.find_all(Cond::eq("org_id", org_id), NAME_ASC, None)
            .await
    }

    /// Applies a patch to a role. `NotFound` when missing.
    async fn update_org_role(&self, id: &str, patch: &OrgRolePatch) -> Result<OrgRole> {
        self.update::<OrgRole>(id, patch).await
    }

    /// Deletes a role by organization and name; returns how many rows.
    async fn delete_org_role(&self, org_id: &str, name: &str) -> Result<u64> {
        self.delete_where::<OrgRole>(Cond::eq("org_id", org_id).and(Cond::eq("name", name)))
            .await
    }
}

impl<T: RowStore + ?Sized> OrganizationStore for T {}

/// SSO connections of organizations.
#[async_trait]
pub trait SsoConnectionStore: RowStore {
    /// Inserts a connection; the domain is stored lower-cased as KavachOS does.
    /// `Conflict` on a duplicate domain.
    async fn create_sso_connection(&self, mut connection: SsoConnection) -> Result<SsoConnection> {
        connection.domain = connection.domain.to_lowercase();
        self.create(connection).await
    }
    /// The connection with this id.
    async fn get_sso_connection(&self, id: &str) -> Result<Option<SsoConnection>> {
        self.get(id).await
    }
    /// The enabled connection for an email domain (compared lower-cased).
    async fn find_enabled_sso_connection_by_domain(
        &self,
        domain: &str,
    ) -> Result<Option<SsoConnection>> {
        let filter = Cond::eq("domain", domain.to_lowercase()).and(Cond::eq("enabled", true));
        self.find_first(filter, &[]).await
    }
    /// Connections of an organization, oldest first.
    async fn list_sso_connections_by_org(&self, org_id: &str) -> Result<Vec<SsoConnection>> {
        self.find_all(Cond::eq("org_id", org_id), CREATED_ASC, None)
            .await
    }
    /// Applies a patch. `NotFound` when missing.
    async fn update_sso_connection(
        &self,
        id: &str,
        patch: &SsoConnectionPatch,
    ) -> Result<SsoConnection> {
        self.update::<SsoConnection>(id, patch).await
    }
    /// Deletes a connection. `NotFound` when missing.
    async fn delete_sso_connection(&self, id: &str) -> Result<()> {
        self.delete::<SsoConnection>(id).await
    }
}

impl<T: RowStore + ?Sized> SsoConnectionStore for T {}

//! Human accounts (`kavach_users`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Human accounts; every agent, session, key and credential hangs off a user row. Also carries admin ban flags and Stripe/Polar billing mirrors.
    ///
    /// Table `kavach_users`.
    pub struct User => "kavach_users", patch UserPatch {
        /// `id`: App-generated string (core modules use UUID v4; the email package uses `usr_` + hex).
        pub id: String,
        /// `email`: Some modules write synthetic addresses: `anon_<id>@...` (anonymous), `<digits>@phone.local` (phone), `<username>@username.local` (username).
        pub email: String,
        /// `username`.
        pub username: Option<String>,
        /// `name`.
        pub name: Option<String>,
        /// `external_id`.
        pub external_id: Option<String>,
        /// `external_provider`.
        pub external_provider: Option<String>,
        /// `metadata`: Free-form object; used for `anonymous`, `phone`, additional user fields and SCIM data.
        pub metadata: Option<serde_json::Value>,
        /// `banned`: Drizzle declares a plain integer (core writes 0/1 numbers); DDL/Prisma treat it as boolean.
        pub banned: bool = false,
        /// `ban_reason`.
        pub ban_reason: Option<String>,
        /// `ban_expires_at`.
        pub ban_expires_at: Option<DateTime<Utc>>,
        /// `force_password_reset`: Same 0/1 integer-vs-boolean split as `banned`.
        pub force_password_reset: bool = false,
        /// `email_verified`: Same 0/1 split; absent from the Prisma model.
        pub email_verified: bool = false,
        /// `stripe_customer_id`.
        pub stripe_customer_id: Option<String>,
        /// `stripe_subscription_id`.
        pub stripe_subscription_id: Option<String>,
        /// `stripe_subscription_status`.
        pub stripe_subscription_status: Option<String>,
        /// `stripe_price_id`.
        pub stripe_price_id: Option<String>,
        /// `stripe_current_period_end`.
        pub stripe_current_period_end: Option<DateTime<Utc>>,
        /// `stripe_cancel_at_period_end`: Drizzle boolean mode (0/1 on SQLite).
        pub stripe_cancel_at_period_end: bool = false,
        /// `polar_customer_id`.
        pub polar_customer_id: Option<String>,
        /// `polar_subscription_id`.
        pub polar_subscription_id: Option<String>,
        /// `polar_subscription_status`.
        pub polar_subscription_status: Option<String>,
        /// `polar_product_id`.
        pub polar_product_id: Option<String>,
        /// `polar_current_period_end`.
        pub polar_current_period_end: Option<DateTime<Utc>>,
        /// `polar_cancel_at_period_end`: Drizzle boolean mode (0/1 on SQLite).
        pub polar_cancel_at_period_end: bool = false,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_users_email_key": ["email"], "kavach_users_username_key": ["username"], "kavach_users_stripe_customer_id_key": ["stripe_customer_id"], "kavach_users_polar_customer_id_key": ["polar_customer_id"]];
}

/// Filter for [`UserStore::list_users`] and [`UserStore::count_users`]
/// (KavachOS's admin listing and SCIM filters). Unset fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserFilter {
    /// Exact email.
    pub email: Option<String>,
    /// Exact username.
    pub username: Option<String>,
    /// Matches users whose email **or** username equals this value.
    pub email_or_username: Option<String>,
    /// `LIKE` search on the email (ASCII case-insensitive).
    pub email_like: Option<LikePattern>,
    /// `LIKE` search on the username (ASCII case-insensitive).
    pub username_like: Option<LikePattern>,
    /// Only users created strictly before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Only these ids.
    pub ids: Option<Vec<String>>,
}

impl UserFilter {
    fn to_cond(&self) -> Cond {
        Cond::All
            .and_opt(self.email.clone(), |v| Cond::eq("email", v))
            .and_opt(self.username.clone(), |v| Cond::eq("username", v))
            .and_opt(self.email_or_username.clone(), |v| {
                Cond::Or(vec![Cond::eq("email", v.clone()), Cond::eq("username", v)])
            })
            .and_opt(self.email_like.clone(), |p| Cond::Like("email", p))
            .and_opt(self.username_like.clone(), |p| Cond::Like("username", p))
            .and_opt(self.created_before, |t| Cond::lt("created_at", t))
            .and_opt(self.ids.clone(), |ids| Cond::is_in("id", ids))
    }
}

/// What [`UserStore::delete_user_cascade`] removed, table by table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeletionReport {
    /// `(table, rows deleted)` in the order they were deleted; tables with
    /// zero rows are included so the report lists everything examined.
    pub deleted: Vec<(&'static str, u64)>,
}

impl DeletionReport {
    pub(crate) fn add(&mut self, table: &'static str, count: u64) {
        match self.deleted.iter_mut().find(|(t, _)| *t == table) {
            Some((_, c)) => *c += count,
            None => self.deleted.push((table, count)),
        }
    }

    /// Rows deleted from `table`.
    pub fn count(&self, table: &str) -> u64 {
        self.deleted
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, c)| c)
            .sum()
    }

    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.deleted.iter().map(|(_, c)| c).sum()
    }
}

const USER_ORDER: &[OrderBy] = &[OrderBy::asc("created_at"), OrderBy::asc("id")];

/// Human accounts.
#[async_trait]
pub trait UserStore: RowStore {
    /// Inserts a user (`createUser`). `Conflict` on a duplicate id, email,
    /// username or billing customer id.
    async fn create_user(&self, user: User) -> Result<User> {
        self.create(user).await
    }

    /// The user with this id (`findUserById`).
    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        self.get(id).await
    }

    /// The user with exactly this email, case-sensitive as stored (`findUserByEmail`).
    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.find_first(Cond::eq("email", email), &[]).await
    }

    /// The user with this username.
    async fn find_user_by_username(&self, username: &str) -> Result<Option<User>> {
        self.find_first(Cond::eq("username", username), &[]).await
    }

    /// The user with this Stripe customer id.
    async fn find_user_by_stripe_customer_id(&self, customer_id: &str) -> Result<Option<User>> {
        self.find_first(Cond::eq("stripe_customer_id", customer_id), &[])
            .await
    }

    /// The user with this Polar customer id.
    async fn find_user_by_polar_customer_id(&self, customer_id: &str) -> Result<Option<User>> {
        self.find_first(Cond::eq("polar_customer_id", customer_id), &[])
            .await
    }

    /// Users matching `filter`, oldest first (ties by id), with
    /// KavachOS's `LIMIT`/`OFFSET` paging.
    async fn list_users(
        &self,
        filter: &UserFilter,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> Result<Vec<User>> {
        let query = crate::page::offset_window(
            Select::new(User::table_def(), filter.to_cond()).order(USER_ORDER),
            limit,
            offset,
        );
        decode_rows(self.select_rows(&query).await?)
    }

    /// Number of users matching `filter`.
    async fn count_users(&self, filter: &UserFilter) -> Result<u64> {
        self.count::<User>(filter.to_cond()).await
    }

    /// Applies a patch (`updateUser`); `updated_at` is written only if the
    /// patch sets it. `NotFound` when missing.
    async fn update_user(&self, id: &str, patch: &UserPatch) -> Result<User> {
        self.update::<User>(id, patch).await
    }

    /// Deletes the user row only (`deleteUser`). `NotFound` when missing;
    /// `Reference` while agents, sessions, audit rows or other rows without
    /// a cascade still point at it — see [`UserStore::delete_user_cascade`].
    async fn delete_user(&self, id: &str) -> Result<()> {
        self.delete::<User>(id).await
    }

    /// Deletes a user and everything that belongs to them, in one
    /// transaction (admin delete, GDPR erasure). `NotFound` when missing.
    ///
    /// Removed, in this order: every agent the user owns with everything of
    /// each agent (see [`AgentStore::delete_agent_cascade`]); the user's
    /// audit rows; sessions; ephemeral sessions; OAuth access tokens and
    /// authorization codes; OAuth (social) accounts; OIDC authorization codes
    /// and refresh tokens; budget policies; approval requests; organizations
    /// the user owns (with their members, invitations and roles); the user's
    /// memberships, the invitations they sent and those sent to their
    /// email; passkey credentials and
    /// challenges; TOTP; API keys; magic links and email codes sent to the
    /// user's email; one-time tokens whose identifier is the user's id or
    /// email; stream events of the user; username accounts, trusted devices,
    /// login history, JWT refresh tokens, refresh-token families with their
    /// tokens; and finally the user row. Children are deleted explicitly, so
    /// this also works on schemas without foreign keys (Prisma-created).
    async fn delete_user_cascade(&self, id: &str) -> Result<DeletionReport> {
        let tx = self.begin().await?;
        let user: User = tx.get(id).await?.ok_or_else(|| StoreError::NotFound {
            table: User::TABLE,
            key: id.to_string(),
        })?;
        let mut report = DeletionReport::default();
        let agents: Vec<Agent> = tx.find_all(Cond::eq("owner_id", id), &[], None).await?;
        for agent in agents {
            let agent_report = tx.delete_agent_cascade(&agent.id).await?;
            for (table, count) in agent_report.deleted {
                report.add(table, count);
            }
        }
        let by_user = || Cond::eq("user_id", id);
        report.add(
            AuditLog::TABLE,
            tx.delete_where::<AuditLog>(by_user()).await?,
        );
        report.add(Session::TABLE, tx.delete_where::<Session>(by_user()).await?);
        report.add(
            EphemeralSession::TABLE,
            tx.delete_where::<EphemeralSession>(Cond::eq("owner_id", id))
                .await?,
        );
        report.add(
            OAuthAccessToken::TABLE,
            tx.delete_where::<OAuthAccessToken>(by_user()).await?,
        );
        report.add(
            OAuthAuthorizationCode::TABLE,
            tx.delete_where::<OAuthAuthorizationCode>(by_user()).await?,
        );
        report.add(
            OAuthAccount::TABLE,
            tx.delete_where::<OAuthAccount>(by_user()).await?,
        );
        report.add(
            OidcAuthCode::TABLE,
            tx.delete_where::<OidcAuthCode>(by_user()).await?,
        );
        report.add(
            OidcRefreshToken::TABLE,
            tx.delete_where::<OidcRefreshToken>(by_user()).await?,
        );
        report.add(
            BudgetPolicy::TABLE,
            tx.delete_where::<BudgetPolicy>(by_user()).await?,
        );
        report.add(
            ApprovalRequest::TABLE,
            tx.delete_where::<ApprovalRequest>(by_user()).await?,
        );
        let orgs: Vec<Organization> = tx.find_all(Cond::eq("owner_id", id), &[], None).await?;
        for org in orgs {
            let org_report = tx.delete_organization_cascade(&org.id).await?;
            for (table, count) in org_report.deleted {
                report.add(table, count);
            }
        }
        report.add(
            OrgMember::TABLE,
            tx.delete_where::<OrgMember>(by_user()).await?,
        );
        report.add(
            OrgInvitation::TABLE,
            tx.delete_where::<OrgInvitation>(Cond::Or(vec![
                Cond::eq("invited_by", id),
                Cond::eq("email", user.email.clone()),
            ]))
            .await?,
        );
        report.add(
            PasskeyCredential::TABLE,
            tx.delete_where::<PasskeyCredential>(by_user()).await?,
        );
        report.add(
            PasskeyChallenge::TABLE,
            tx.delete_where::<PasskeyChallenge>(by_user()).await?,
        );
        report.add(Totp::TABLE, tx.delete_where::<Totp>(by_user()).await?);
        report.add(ApiKey::TABLE, tx.delete_where::<ApiKey>(by_user()).await?);
        report.add(
            MagicLink::TABLE,
            tx.delete_where::<MagicLink>(Cond::eq("email", user.email.clone()))
                .await?,
        );
        report.add(
            EmailOtp::TABLE,
            tx.delete_where::<EmailOtp>(Cond::eq("email", user.email.clone()))
                .await?,
        );
        report.add(
            OneTimeToken::TABLE,
            tx.delete_where::<OneTimeToken>(Cond::is_in(
                "identifier",
                [id.to_string(), user.email.clone()],
            ))
            .await?,
        );
        report.add(
            StreamEvent::TABLE,
            tx.delete_where::<StreamEvent>(by_user()).await?,
        );
        // These cascade from the user row where foreign keys exist; deleting
        // them explicitly also cleans schemas without foreign keys (Prisma).
        report.add(
            UsernameAccount::TABLE,
            tx.delete_where::<UsernameAccount>(by_user()).await?,
        );
        report.add(
            TrustedDevice::TABLE,
            tx.delete_where::<TrustedDevice>(by_user()).await?,
        );
        report.add(
            LoginHistory::TABLE,
            tx.delete_where::<LoginHistory>(by_user()).await?,
        );
        report.add(
            JwtRefreshToken::TABLE,
            tx.delete_where::<JwtRefreshToken>(by_user()).await?,
        );
        let families: Vec<RefreshTokenFamily> = tx.find_all(by_user(), &[], None).await?;
        let family_ids: Vec<String> = families.into_iter().map(|f| f.id).collect();
        report.add(
            RefreshToken::TABLE,
            tx.delete_where::<RefreshToken>(Cond::is_in("family_id", family_ids))
                .await?,
        );
        report.add(
            RefreshTokenFamily::TABLE,
            tx.delete_where::<RefreshTokenFamily>(by_user()).await?,
        );
        tx.delete::<User>(id).await?;
        report.add(User::TABLE, 1);
        tx.commit().await?;
        Ok(report)
    }
}

impl<T: RowStore + ?Sized> UserStore for T {}

//! Username/password accounts and login history.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Username + password-hash credentials linked to a user.
    ///
    /// Table `kavach_username_accounts`.
    pub struct UsernameAccount => "kavach_username_accounts", patch UsernameAccountPatch {
        /// `id`.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `username`: Lower-cased unless the module is configured case-sensitive.
        pub username: String,
        /// `password_hash`.
        pub password_hash: String [secret],
        /// `created_at`.
        pub created_at: DateTime<Utc>,
        /// `updated_at`.
        pub updated_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_username_accounts_username_key": ["username"]];
    references: ["user_id" -> "kavach_users"."id" Cascade];
}

record! {
    /// Per-user log of recent sign-ins (method, IP, user agent), pruned to the newest N.
    ///
    /// Table `kavach_login_history`.
    pub struct LoginHistory => "kavach_login_history", patch LoginHistoryPatch {
        /// `id`.
        pub id: String,
        /// `user_id`.
        pub user_id: String,
        /// `method`: Login method, e.g. `password`, `magic-link`, `oauth:<provider>`.
        pub method: String,
        /// `ip`.
        pub ip: Option<String>,
        /// `user_agent`.
        pub user_agent: Option<String>,
        /// `timestamp`: Drizzle mode timestamp_ms: on SQLite this ONE column is stored in epoch milliseconds.
        pub timestamp: DateTime<Utc> as TimestampMs,
    }
    primary_key: id;
    references: ["user_id" -> "kavach_users"."id" Cascade];
    indexes: ["kavach_login_history_user_ts": ["user_id", "timestamp"]];
}

const TIMESTAMP_DESC: &[OrderBy] = &[OrderBy::desc("timestamp"), OrderBy::desc("id")];

/// Username/password accounts.
#[async_trait]
pub trait UsernameAccountStore: RowStore {
    /// Inserts an account. `Conflict` on a duplicate username.
    async fn create_username_account(&self, account: UsernameAccount) -> Result<UsernameAccount> {
        self.create(account).await
    }
    /// Inserts the user and the account in one transaction (`signUp`).
    async fn sign_up_with_username(
        &self,
        user: User,
        account: UsernameAccount,
    ) -> Result<(User, UsernameAccount)> {
        let tx = self.begin().await?;
        let user = tx.create(user).await?;
        let account = tx.create(account).await?;
        tx.commit().await?;
        Ok((user, account))
    }
    /// The account with this username.
    async fn find_username_account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<UsernameAccount>> {
        self.find_first(Cond::eq("username", username), &[]).await
    }
    /// The account of a user.
    async fn find_username_account_by_user(
        &self,
        user_id: &str,
    ) -> Result<Option<UsernameAccount>> {
        self.find_first(Cond::eq("user_id", user_id), &[]).await
    }
    /// Applies a patch (new password hash, new username). `NotFound` when missing.
    async fn update_username_account(
        &self,
        id: &str,
        patch: &UsernameAccountPatch,
    ) -> Result<UsernameAccount> {
        self.update::<UsernameAccount>(id, patch).await
    }
    /// Deletes an account. `NotFound` when missing.
    async fn delete_username_account(&self, id: &str) -> Result<()> {
        self.delete::<UsernameAccount>(id).await
    }
}

impl<T: RowStore + ?Sized> UsernameAccountStore for T {}

/// Login history (milliseconds on SQLite).
#[async_trait]
pub trait LoginHistoryStore: RowStore {
    /// Records a login and keeps only the user's newest `keep` entries, in
    /// one transaction; returns how many older entries were pruned.
    async fn record_login(&self, entry: LoginHistory, keep: u64) -> Result<u64> {
        let tx = self.begin().await?;
        let user_id = entry.user_id.clone();
        tx.create(entry).await?;
        let query = Select::new(
            LoginHistory::table_def(),
            Cond::eq("user_id", user_id.clone()),
        )
        .order(TIMESTAMP_DESC)
        .offset(keep)
        .limit(u64::MAX >> 2);
        let stale: Vec<LoginHistory> = decode_rows(tx.select_rows(&query).await?)?;
        let ids: Vec<String> = stale.into_iter().map(|e| e.id).collect();
        let pruned = tx
            .delete_where::<LoginHistory>(Cond::is_in("id", ids))
            .await?;
        tx.commit().await?;
        Ok(pruned)
    }
    /// One page of a user's logins, newest first (keyset on `timestamp`, `id`).
    async fn list_login_history(
        &self,
        user_id: &str,
        page: &PageRequest,
    ) -> Result<Page<LoginHistory>> {
        crate::page::keyset_page(
            self,
            Cond::eq("user_id", user_id),
            "timestamp",
            TIMESTAMP_DESC,
            page,
        )
        .await
    }
    /// The user's newest login.
    async fn last_login(&self, user_id: &str) -> Result<Option<LoginHistory>> {
        self.find_first(Cond::eq("user_id", user_id), TIMESTAMP_DESC)
            .await
    }
    /// Deletes a user's history; returns how many.
    async fn delete_login_history_by_user(&self, user_id: &str) -> Result<u64> {
        self.delete_where::<LoginHistory>(Cond::eq("user_id", user_id))
            .await
    }
}

impl<T: RowStore + ?Sized> LoginHistoryStore for T {}

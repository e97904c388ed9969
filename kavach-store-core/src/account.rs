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

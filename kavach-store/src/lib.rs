//! # kavach-store
//!
//! The storage layer of the KavachOS data model for Rust services: every
//! `kavach_*` table with KavachOS's column names, so a Rust service can share
//! a database with an existing KavachOS deployment, on the database you
//! already run. Pick backends with cargo features and open a store from a
//! URL:
//!
//! | feature | URL | backend |
//! |---|---|---|
//! | `sqlite` (default) | `sqlite://kavach.db`, `sqlite::memory:` | embedded SQLite (rusqlite, bundled) |
//! | `postgres` | `postgres://user@host/db` | PostgreSQL (sqlx) |
//! | `mysql` | `mysql://…`, `mariadb://…` | MySQL 8 / MariaDB (mysql_async) |
//! | `memory` | `memory://` | in-memory, for tests |
//!
//! ```no_run
//! use kavach_store::prelude::*;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = kavach_store::connect("sqlite://kavach.db", &Default::default()).await?;
//! if let Some(agent) = store.find_agent_by_token_hash("9f86d0…").await? {
//!     let permissions = store.list_permissions_by_agent(&agent.id).await?;
//!     println!("{} may use {} resources", agent.name, permissions.len());
//! }
//! # Ok(()) }
//! ```
//!
//! A service written against `Arc<dyn KavachStore>` compiles unchanged
//! whichever backend features are on.
#![warn(missing_docs)]

mod url;

use std::sync::Arc;
use std::time::Duration;

pub use kavach_store_core::*;
pub use url::{StoreUrl, redact};

#[cfg(feature = "memory")]
pub use kavach_store_memory as memory;
#[cfg(feature = "mysql")]
pub use kavach_store_mysql as mysql;
#[cfg(feature = "postgres")]
pub use kavach_store_postgres as postgres;
#[cfg(feature = "sqlite")]
pub use kavach_store_sqlite as sqlite;

/// How SQLite stores timestamps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqliteTimestamps {
    /// Unix seconds, as KavachOS's core writes them (milliseconds in
    /// `kavach_login_history.timestamp`): required when sharing a file with
    /// KavachOS.
    #[default]
    KavachOs,
    /// Unix milliseconds everywhere: full precision, for databases not shared
    /// with KavachOS.
    Millis,
}

/// Options of [`connect`]. `Default` is right for most uses.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Maximum pooled connections (PostgreSQL, MySQL) or reader connections
    /// (SQLite); the backend's default when `None`.
    pub max_connections: Option<u32>,
    /// How long to wait: for a pooled connection (PostgreSQL), SQLite's lock
    /// (SQLite `busy_timeout`), another process's migration (MySQL); the
    /// backend's default when `None`.
    pub timeout: Option<Duration>,
    /// Do not run migrations on connect (the schema is owned by another tool).
    pub skip_migrations: bool,
    /// SQLite timestamp encoding.
    pub sqlite_timestamps: SqliteTimestamps,
}

impl ConnectOptions {
    /// Sets [`ConnectOptions::max_connections`].
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = Some(n);
        self
    }
    /// Sets [`ConnectOptions::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Sets [`ConnectOptions::skip_migrations`].
    pub fn skip_migrations(mut self, skip: bool) -> Self {
        self.skip_migrations = skip;
        self
    }
    /// Sets [`ConnectOptions::sqlite_timestamps`].
    pub fn sqlite_timestamps(mut self, mode: SqliteTimestamps) -> Self {
        self.sqlite_timestamps = mode;
        self
    }
}

/// Why [`connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL cannot be parsed.
    #[error("invalid store URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The URL's backend is not compiled in.
    #[error(
        "the {backend} backend is not compiled in: enable the `{feature}` feature of kavach-store"
    )]
    FeatureDisabled {
        /// Backend name.
        backend: &'static str,
        /// Cargo feature that enables it.
        feature: &'static str,
    },
    /// Opening, connecting or migrating failed.
    #[error("cannot open {url}: {source}")]
    Store {
        /// The URL, password redacted.
        url: String,
        /// The store error.
        #[source]
        source: StoreError,
    },
}

/// Opens a store from a URL, migrating it unless
/// [`ConnectOptions::skip_migrations`] is set.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let err = kavach_store::connect("oracle://db", &Default::default()).await.unwrap_err();
/// assert!(err.to_string().contains("unknown scheme"));
/// # }
/// ```
pub async fn connect(
    url: &str,
    options: &ConnectOptions,
) -> Result<Arc<dyn KavachStore>, ConnectError> {
    let parsed = StoreUrl::parse(url)?;
    let store_error = |source: StoreError| ConnectError::Store {
        url: redact(url),
        source,
    };
    backends::open(&parsed, options).await?.map_err(store_error)
}

mod backends;

/// Everything a service needs in scope: the core's model types, domain
/// traits, store traits, errors and pages, plus [`connect`] and its options.
pub mod prelude {
    pub use crate::{ConnectError, ConnectOptions, SqliteTimestamps, connect};
    pub use kavach_store_core::prelude::*;
}

/// The README's code, compiled as a doctest so it cannot rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

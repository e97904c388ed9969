//! # kavach-store-mysql
//!
//! The MySQL 8 / MariaDB 10.11+ backend of kavach-store, on `mysql_async`
//! (no TLS stack).
//!
//! ```no_run
//! # async fn demo() -> Result<(), kavach_store_core::StoreError> {
//! use kavach_store_core::prelude::*;
//! use kavach_store_mysql::MySqlStore;
//!
//! let store = MySqlStore::connect("mysql://root@127.0.0.1:3306/kavach").await?; // migrates
//! let agent = store.find_agent_by_token_hash("…").await?;
//! # let _ = agent; Ok(()) }
//! ```
//!
//! * **Schema**: embedded versioned migrations ([`migrate::MIGRATIONS`], SQL
//!   under `migrations/`), run under `GET_LOCK`, recorded in
//!   `kavach_store_migrations`. Key columns are `VARCHAR … utf8mb4_bin`, long
//!   unique values are indexed through a STORED SHA-256 column; see the header
//!   of `migrations/0001_initial.sql` for every length and how the schema
//!   differs from KavachOS's reference DDL.
//! * **Bad input**: a text longer than its column is [`StoreError::InvalidInput`]
//!   naming `table.column`, checked against the real column lengths (read from
//!   `information_schema`) before anything is sent: never truncated.
//! * **Hot paths**: one statement on an index, SQL rendered once per query
//!   shape, prepared once per connection (the pool keeps statements: its
//!   `reset_connection` is off).
//! * **No `RETURNING`**: returning updates and deletes lock the rows with
//!   `SELECT … FOR UPDATE` in a transaction; upserts are `INSERT … ON
//!   DUPLICATE KEY UPDATE` then a read in the same transaction. Deadlocks of
//!   these internal transactions are retried.
//! * **Transactions**: [`Transactional::begin`], nested ones as savepoints, and
//!   the caller's own `mysql_async::Transaction` ([`MySqlStore::adopt`],
//!   [`MySqlStore::within`]).
#![warn(missing_docs)]

mod error;
pub mod migrate;
mod ops;
mod row;
mod sql;
mod tx;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use kavach_store_core::admin::{MigrationInfo, MigrationStatus, SchemaAdmin, TableInfo};
use kavach_store_core::{
    ColumnDef, Cond, Delete, KavachStore, Result, Row, RowStore, Select, StoreError, Sum, TableDef,
    Transaction, Transactional, Update, Upsert, Value,
};
use mysql_async::{Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, TxOpts};

use crate::error::map_general;
pub use crate::migrate::MigrationReport;
use crate::ops::{Ctx, Exec};
use crate::row::Meta;
use crate::sql::SqlCache;
pub use crate::tx::MySqlTransaction;
/// The driver, re-exported so callers use the same version for the pools and
/// transactions they hand to the store.
pub use mysql_async;

/// Session settings every connection of a pool built by this crate runs once:
/// UTC for `NOW()`-like functions (DATETIME values are sent and read as UTC
/// anyway), strict mode (errors instead of silent truncation), and the
/// utf8mb4 character set.
pub const SESSION_SETUP: &[&str] = &[
    "SET NAMES utf8mb4",
    "SET SESSION time_zone = '+00:00', SESSION sql_mode = \
     'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
];

/// Construction options.
#[derive(Clone, Debug)]
pub struct MySqlOptions {
    /// Pool size (for pools this crate builds). Default 16.
    pub max_connections: usize,
    /// Connections kept open when idle. Default 0.
    pub min_connections: usize,
    /// Run pending migrations at construction. Default true; turn off when
    /// another tool owns the schema, then call [`MySqlStore::migrate`] (or not).
    pub run_migrations: bool,
    /// Prepared statements kept per connection. Default 256.
    pub statement_cache_size: usize,
    /// How long to wait for another process's migration. Default 60 s.
    pub migration_lock_timeout: Duration,
    /// Retries of an internal transaction (returning update/delete, upsert,
    /// chunked insert) that lost a deadlock. Default 8.
    pub deadlock_retries: u32,
    /// How long an idle connection above `min_connections` stays open.
    /// Default 60 s. (With the driver's default of zero, every connection
    /// above the minimum is closed when it is returned: a reconnect, and
    /// re-preparing every statement, per operation.)
    pub idle_timeout: Duration,
    /// How long an operation waits for a pooled connection before failing
    /// with `Unavailable`. Default 30 s.
    pub acquire_timeout: Duration,
}

impl Default for MySqlOptions {
    fn default() -> Self {
        MySqlOptions {
            max_connections: 16,
            min_connections: 0,
            run_migrations: true,
            statement_cache_size: 256,
            migration_lock_timeout: Duration::from_secs(60),
            deadlock_retries: 8,
            idle_timeout: Duration::from_secs(60),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

impl MySqlOptions {
    /// Sets [`MySqlOptions::max_connections`].
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// Sets [`MySqlOptions::min_connections`].
    pub fn min_connections(mut self, n: usize) -> Self {
        self.min_connections = n;
        self
    }
    /// Does not run migrations at construction.
    pub fn skip_migrations(mut self) -> Self {
        self.run_migrations = false;
        self
    }
    /// Sets [`MySqlOptions::statement_cache_size`].
    pub fn statement_cache_size(mut self, n: usize) -> Self {
        self.statement_cache_size = n;
        self
    }
    /// Sets [`MySqlOptions::migration_lock_timeout`].
    pub fn migration_lock_timeout(mut self, timeout: Duration) -> Self {
        self.migration_lock_timeout = timeout;
        self
    }
    /// Sets [`MySqlOptions::idle_timeout`].
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }
    /// Sets [`MySqlOptions::acquire_timeout`].
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }
    /// Sets [`MySqlOptions::deadlock_retries`].
    pub fn deadlock_retries(mut self, n: u32) -> Self {
        self.deadlock_retries = n;
        self
    }
}

/// Shared state of a store and its transactions.
pub(crate) struct Inner {
    pool: Pool,
    meta: RwLock<Arc<Meta>>,
    pub(crate) sql: SqlCache,
    options: MySqlOptions,
    /// `host:port/database`, for `Debug` (never the password).
    target: String,
}

impl Inner {
    pub(crate) fn meta(&self) -> Arc<Meta> {
        self.meta.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A kavach store on MySQL 8 or MariaDB 10.11+.
///
/// Cheap to clone (an `Arc`); every clone shares the pool and the statement
/// cache.
#[derive(Clone)]
pub struct MySqlStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MySqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlStore")
            .field("target", &self.inner.target)
            .field("max_connections", &self.inner.options.max_connections)
            .field("cached_statements", &self.inner.sql.len())
            .finish()
    }
}

fn parse_url(url: &str) -> Result<Opts> {
    // The URL error would echo the URL (and its password): keep only its kind.
    Opts::from_url(url).map_err(|e| {
        let kind = match e {
            mysql_async::UrlError::Invalid => "not a valid URL".to_string(),
            mysql_async::UrlError::UnsupportedScheme { .. } => {
                "the scheme must be mysql://".to_string()
            }
            mysql_async::UrlError::InvalidParamValue { param, .. } => {
                format!("bad value of parameter {param}")
            }
            mysql_async::UrlError::UnknownParameter { param } => {
                format!("unknown parameter {param}")
            }
            _ => "not a valid MySQL URL".to_string(),
        };
        StoreError::invalid_input("url", kind)
    })
}

fn describe(opts: &Opts) -> String {
    format!(
        "{}:{}/{}",
        opts.ip_or_hostname(),
        opts.tcp_port(),
        opts.db_name().unwrap_or("")
    )
}

impl MySqlStore {
    /// Connects with default options and runs pending migrations.
    pub async fn connect(url: &str) -> Result<MySqlStore> {
        MySqlStore::connect_with(url, MySqlOptions::default()).await
    }

    /// Connects with `options`.
    pub async fn connect_with(url: &str, options: MySqlOptions) -> Result<MySqlStore> {
        let builder = MySqlStore::opts_builder(url, &options)?;
        let target = describe(&Opts::from(builder.clone()));
        MySqlStore::build(Pool::new(builder), options, target).await
    }

    /// The driver options this crate uses for a URL: TCP even for
    /// `127.0.0.1` (`prefer_socket` off), no connection reset on checkout (it
    /// would drop the prepared statements), `CLIENT_FOUND_ROWS` (update counts
    /// are matched rows), [`SESSION_SETUP`], the pool size and statement
    /// cache of `options`. Use it to build a pool you share with the store
    /// ([`MySqlStore::from_pool`]).
    pub fn opts_builder(url: &str, options: &MySqlOptions) -> Result<OptsBuilder> {
        let opts = parse_url(url)?;
        let constraints = PoolConstraints::new(
            options.min_connections.min(options.max_connections),
            options.max_connections,
        )
        .ok_or_else(|| {
            StoreError::invalid_input("max_connections", "must be at least min_connections")
        })?;
        Ok(OptsBuilder::from_opts(opts)
            .prefer_socket(false)
            .client_found_rows(true)
            .stmt_cache_size(options.statement_cache_size)
            .setup(
                SESSION_SETUP
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>(),
            )
            .pool_opts(
                PoolOpts::default()
                    .with_reset_connection(false)
                    .with_inactive_connection_ttl(
                        options.idle_timeout.max(Duration::from_millis(1)),
                    )
                    .with_constraints(constraints),
            ))
    }

    /// A store over an existing pool. The pool must be built with
    /// `client_found_rows(true)` (else update counts would be changed rows,
    /// not matched ones); [`MySqlStore::opts_builder`] gives the recommended
    /// settings. A pool that resets connections on checkout, or closes them
    /// when returned (the driver's default `inactive_connection_ttl` of zero
    /// with `min` below the load), works but re-prepares every statement.
    pub async fn from_pool(pool: Pool, options: MySqlOptions) -> Result<MySqlStore> {
        let conn = pool.get_conn().await.map_err(map_general)?;
        if !conn.opts().client_found_rows() {
            return Err(StoreError::invalid_input(
                "pool",
                "build the pool with client_found_rows(true) (see MySqlStore::opts_builder)",
            ));
        }
        let target = describe(conn.opts());
        drop(conn);
        MySqlStore::build(pool, options, target).await
    }

    async fn build(pool: Pool, options: MySqlOptions, target: String) -> Result<MySqlStore> {
        let store = MySqlStore {
            inner: Arc::new(Inner {
                pool,
                meta: RwLock::new(Arc::new(Meta::default())),
                sql: SqlCache::default(),
                options,
                target,
            }),
        };
        if store.inner.options.run_migrations {
            store.migrate().await?;
        } else {
            store.reload_schema().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations (safe when several processes do it at
    /// once), then re-reads the schema facts.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let report =
            migrate::run(&self.inner.pool, self.inner.options.migration_lock_timeout).await?;
        self.reload_schema().await?;
        Ok(report)
    }

    /// Re-reads column lengths and hashed columns from `information_schema`
    /// (after the schema was changed by another tool).
    pub async fn reload_schema(&self) -> Result<()> {
        let meta = migrate::load_meta(&self.inner.pool).await?;
        *self.inner.meta.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(meta);
        self.inner.sql.clear();
        Ok(())
    }

    /// Checks the database against the core's table definitions (tables,
    /// columns, keys, foreign keys, indexes); returns the problems found.
    pub async fn verify(&self) -> Result<Vec<String>> {
        migrate::verify(&self.inner.pool).await
    }

    /// The pool (to run your own statements next to the store's).
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// Wraps a transaction the caller started (`pool.start_transaction(…)`):
    /// store operations on the result run in it, and its commit, rollback or
    /// drop ends it. [`MySqlTransaction::driver`] lends the driver transaction
    /// back for the caller's own statements; [`MySqlTransaction::into_inner`]
    /// returns it.
    pub fn adopt(&self, tx: mysql_async::Transaction<'static>) -> MySqlTransaction<'static> {
        MySqlTransaction::owned(self.inner.clone(), tx)
    }

    /// Runs store operations inside a transaction the caller keeps (any
    /// `mysql_async::Transaction`, e.g. from `conn.start_transaction(…)`).
    /// The result is a savepoint in it: its commit releases the savepoint, its
    /// rollback undoes the store's statements since; the caller's commit or
    /// rollback decides everything.
    pub async fn within<'c, 't: 'c>(
        &self,
        tx: &'c mut mysql_async::Transaction<'t>,
    ) -> Result<MySqlTransaction<'c>> {
        let exec: &'c mut (dyn Exec + 'c) = tx;
        MySqlTransaction::borrowed(self.inner.clone(), exec).await
    }

    /// Closes the pool's connections.
    pub async fn close(self) -> Result<()> {
        let pool = self.inner.pool.clone();
        drop(self);
        pool.disconnect().await.map_err(map_general)
    }

    async fn conn(&self) -> Result<mysql_async::Conn> {
        match tokio::time::timeout(
            self.inner.options.acquire_timeout,
            self.inner.pool.get_conn(),
        )
        .await
        {
            Ok(conn) => conn.map_err(map_general),
            Err(_) => Err(StoreError::Unavailable {
                message: format!(
                    "no connection within {:?} (pool of {})",
                    self.inner.options.acquire_timeout, self.inner.options.max_connections
                ),
                source: None,
            }),
        }
    }

    /// Backoff before retry `attempt` of a deadlocked internal transaction.
    async fn backoff(attempt: u32) {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let base = 1u64 << attempt.min(6);
        tokio::time::sleep(Duration::from_micros(base * 500 + u64::from(nanos % 1000))).await;
    }
}

/// Runs `$body` (using `$cx: &Ctx`, `$ex: &mut dyn Exec`) in an internal
/// transaction on a pooled connection, committing on success and retrying
/// the whole transaction when it lost a deadlock.
macro_rules! in_transaction {
    ($self:ident, |$cx:ident, $ex:ident| $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            let mut conn = $self.conn().await?;
            let meta = $self.inner.meta();
            let $cx = &Ctx {
                meta: &meta,
                sql: &$self.inner.sql,
            };
            let mut tx = conn
                .start_transaction(TxOpts::default())
                .await
                .map_err(map_general)?;
            let result = {
                let $ex: &mut dyn Exec = &mut tx;
                $body.await
            };
            let result = match result {
                Ok(value) => tx.commit().await.map(|()| value).map_err(map_general),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            };
            match result {
                Err(StoreError::Serialization { .. })
                    if attempt < $self.inner.options.deadlock_retries =>
                {
                    attempt += 1;
                    MySqlStore::backoff(attempt).await;
                }
                other => break other,
            }
        }
    }};
}

/// Runs `$body` on a pooled connection (autocommit).
macro_rules! on_conn {
    ($self:ident, |$cx:ident, $ex:ident| $body:expr) => {{
        let mut conn = $self.conn().await?;
        let meta = $self.inner.meta();
        let $cx = &Ctx {
            meta: &meta,
            sql: &$self.inner.sql,
        };
        let $ex: &mut dyn Exec = &mut conn;
        $body.await
    }};
}

#[async_trait]
impl RowStore for MySqlStore {
    async fn insert_rows(&self, table: &'static TableDef, rows: Vec<Row>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let per = ops::rows_per_statement(table);
        if rows.len() <= per {
            // One statement is atomic on its own.
            return on_conn!(self, |cx, ex| async move {
                ops::check_rows(cx, table, &rows)?;
                ops::insert_chunk(cx, ex, table, rows).await
            });
        }
        in_transaction!(self, |cx, ex| async {
            ops::check_rows(cx, table, &rows)?;
            for chunk in rows.chunks(per) {
                ops::insert_chunk(cx, &mut *ex, table, chunk.to_vec()).await?;
            }
            Ok(())
        })
    }

    async fn select_rows(&self, query: &Select) -> Result<Vec<Row>> {
        on_conn!(self, |cx, ex| ops::select(cx, ex, query, false))
    }

    async fn count_rows(&self, table: &'static TableDef, filter: &Cond) -> Result<u64> {
        on_conn!(self, |cx, ex| ops::count(cx, ex, table, filter))
    }

    async fn update_rows(&self, update: &Update) -> Result<u64> {
        on_conn!(self, |cx, ex| ops::update(cx, ex, update))
    }

    async fn update_rows_returning(&self, update: &Update) -> Result<Vec<Row>> {
        in_transaction!(self, |cx, ex| ops::update_returning_in_tx(cx, ex, update))
    }

    async fn delete_rows(&self, delete: &Delete) -> Result<u64> {
        on_conn!(self, |cx, ex| ops::delete(cx, ex, delete))
    }

    async fn delete_rows_returning(&self, delete: &Delete) -> Result<Vec<Row>> {
        in_transaction!(self, |cx, ex| ops::delete_returning_in_tx(cx, ex, delete))
    }

    async fn upsert_row(&self, upsert: &Upsert) -> Result<Row> {
        in_transaction!(self, |cx, ex| ops::upsert_in_tx(cx, ex, upsert))
    }

    async fn sum_rows(&self, sum: &Sum) -> Result<Vec<(Value, i64)>> {
        on_conn!(self, |cx, ex| ops::sum(cx, ex, sum))
    }
}

#[async_trait]
impl Transactional for MySqlStore {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let start = self.inner.pool.start_transaction(TxOpts::default());
        let tx = match tokio::time::timeout(self.inner.options.acquire_timeout, start).await {
            Ok(tx) => tx.map_err(map_general)?,
            Err(_) => {
                return Err(StoreError::Unavailable {
                    message: format!(
                        "no connection within {:?}",
                        self.inner.options.acquire_timeout
                    ),
                    source: None,
                });
            }
        };
        Ok(Box::new(MySqlTransaction::owned(self.inner.clone(), tx)))
    }
}

impl KavachStore for MySqlStore {
    fn backend_name(&self) -> &'static str {
        "mysql"
    }

    fn admin(&self) -> Option<&dyn SchemaAdmin> {
        Some(self)
    }
}

#[async_trait]
impl SchemaAdmin for MySqlStore {
    async fn migrate(&self) -> Result<Vec<MigrationInfo>> {
        let report = MySqlStore::migrate(self).await?;
        Ok(migrate::MIGRATIONS
            .iter()
            .filter(|m| report.applied.contains(&m.version))
            .map(|m| MigrationInfo {
                version: i64::from(m.version),
                name: m.name.to_string(),
            })
            .collect())
    }

    async fn migration_status(&self) -> Result<MigrationStatus> {
        migrate::status(&self.inner.pool).await
    }

    async fn inspect_tables(&self) -> Result<Vec<TableInfo>> {
        migrate::inspect(&self.inner.pool).await
    }

    fn column_type_compatible(
        &self,
        _table: &TableDef,
        column: &ColumnDef,
        sql_type: &str,
    ) -> bool {
        migrate::type_compatible(column.kind, sql_type)
    }
}

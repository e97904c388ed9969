//! # kavach-store-postgres
//!
//! The PostgreSQL backend of kavach-store, on sqlx (tokio, no TLS, no
//! compile-time-checked macros). It implements the core's row primitives
//! ([`RowStore`]); every domain trait (`AgentStore`, `AuditStore`, …) comes
//! with them from `kavach-store-core`.
//!
//! ```no_run
//! use kavach_store_core::prelude::*;
//! use kavach_store_postgres::PgStore;
//!
//! # async fn demo() -> Result<(), StoreError> {
//! // Connect (pool with sensible defaults) and migrate:
//! let store = PgStore::connect("postgres://app@127.0.0.1/app").await?;
//! let agent = store.find_agent_by_token_hash("…").await?;
//!
//! // Or bring your own pool (migrations are then explicit):
//! let pool = sqlx::PgPool::connect_lazy("postgres://app@127.0.0.1/app").map_err(|e| StoreError::backend("pool", e))?;
//! let store = PgStore::new(pool.clone());
//! store.migrate().await?;
//!
//! // Store operations inside your own transaction:
//! let mut tx = pool.begin().await.map_err(|e| StoreError::backend("begin", e))?;
//! sqlx::query("INSERT INTO my_table VALUES (1)").execute(&mut *tx).await.map_err(|e| StoreError::backend("q", e))?;
//! let attached = store.attach(tx);
//! attached.count::<Agent>(Cond::All).await?;
//! attached.into_inner().commit().await.map_err(|e| StoreError::backend("commit", e))?;
//! # let _ = agent; Ok(()) }
//! ```
//!
//! ## Design notes
//!
//! * **SQL per shape**: every query's SQL is rendered once per
//!   [`kavach_store_core::Shape`] and cached; calls only bind values. sqlx
//!   prepares each statement once per connection (its statement cache,
//!   sized by [`PgStoreOptions::statement_cache_capacity`]).
//! * **Atomic primitives**: `INSERT … ON CONFLICT … DO UPDATE … RETURNING`,
//!   `UPDATE … RETURNING`, `DELETE … RETURNING`, each one statement. Under
//!   READ COMMITTED, concurrent conditional updates re-check their `WHERE` on
//!   the locked row, so exactly one caller wins a consume-once race.
//! * **Bulk insert**: `INSERT … SELECT * FROM UNNEST($1::text[], …)`: one
//!   round trip and one prepared statement per table for any row count.
//! * **Upserts** that lose a race on a unique index other than their
//!   conflict target (a rate-limit bucket's id is derived from the bucket)
//!   run again, under a savepoint inside transactions.
//! * **Stores built by [`PgStore::connect`]** turn off sqlx's ping before
//!   every checkout (`test_before_acquire(false)`), set
//!   `plan_cache_mode = force_custom_plan` (so "newest rows of one agent"
//!   never runs a generic plan that ignores how skewed the data is), and
//!   run single statements on a small connection lane of their own that
//!   skips the ping sqlx's pool sends on every release (2.6× on a point
//!   lookup at one task; see `lane.rs` and
//!   [`PgStoreOptions::lane_connections`]). Pools passed to
//!   [`PgStore::new`] are used as configured, without a lane.
//! * **Transactions** (`begin`, and [`PgStore::attach`] for the caller's
//!   own) hold one connection; nesting uses savepoints. PostgreSQL aborts a
//!   transaction on its first failed statement: [`PgTransaction`] then
//!   refuses further work and `commit` reports the abort instead of a silent
//!   rollback; rolling back a nested transaction recovers, as on the server.
//! * **Types**: see [`migrate`] (`BIGINT`, `TIMESTAMPTZ`, `JSONB`,
//!   `BOOLEAN`, byte-ordered `TEXT`); reads also accept KavachOS's
//!   `INTEGER` and Prisma's `timestamp(3)` / `json`.
//! * **Errors** map SQLSTATE codes (see `error.rs`), never message text.
#![warn(missing_docs)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kavach_store_core::admin::{MigrationInfo, MigrationStatus, SchemaAdmin, TableInfo};
use kavach_store_core::{
    ColumnDef, Delete, KavachStore, Result, Row, RowStore, Select, StoreError, Sum, TableDef,
    Transaction, Transactional, Update, Upsert, Value,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow, PgSeverity};
use sqlx::{PgConnection, PgPool, Postgres};

mod error;
mod lane;
pub mod migrate;
mod row;
mod sql;
mod tx;

pub use migrate::MigrationReport;
/// The sqlx this crate is built on, for callers' own queries and pools.
pub use sqlx;
pub use tx::{PgAttached, PgConn, PgTransaction};

use crate::sql::{SqlCache, Stmt};

/// State shared by a store, its clones and its transactions.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    sql: SqlCache,
}

/// Runs prepared statements somewhere (the pool, a transaction's
/// connection); the row primitives are written once on top of it.
pub(crate) trait Runner: Send + Sync {
    fn shared(&self) -> &Shared;
    fn fetch_all(
        &self,
        table: &'static str,
        stmt: Stmt,
    ) -> impl Future<Output = Result<Vec<PgRow>>> + Send;
    fn execute(&self, table: &'static str, stmt: Stmt) -> impl Future<Output = Result<u64>> + Send;
    /// Runs an upsert, retrying when it lost a race on a unique index other
    /// than its conflict target (see [`UPSERT_ATTEMPTS`]).
    fn fetch_upsert(
        &self,
        table: &'static str,
        stmt: Stmt,
    ) -> impl Future<Output = Result<Vec<PgRow>>> + Send;
}

/// How often an upsert runs before its unique violation is reported.
///
/// `INSERT … ON CONFLICT (target) DO UPDATE` only absorbs conflicts on the
/// target's index. When two callers insert the same new row at once and the
/// row has a second unique key derived from the same values (a rate-limit
/// bucket's id is a hash of the bucket), the loser can hit that other index
/// first and fail with 23505. Run again, it finds the winner's committed
/// row through the target and updates it. A conflict that persists is real
/// and is reported. Inside a transaction each attempt runs under a
/// savepoint, so a lost race does not abort the transaction.
pub(crate) const UPSERT_ATTEMPTS: usize = 4;

/// The row primitives, once for every [`Runner`].
mod ops {
    use super::*;
    use crate::row::{decode_rows, decode_value};
    use sqlx::Row as _;

    pub async fn insert_rows<R: Runner>(
        r: &R,
        table: &'static TableDef,
        rows: Vec<Row>,
    ) -> Result<()> {
        let stmt = match rows.len() {
            0 => return Ok(()),
            1 => r.shared().sql.insert_one(table, &rows[0])?,
            _ => r.shared().sql.insert_many(table, &rows)?,
        };
        r.execute(table.name, stmt).await.map(drop)
    }

    pub async fn select_rows<R: Runner>(r: &R, q: &Select) -> Result<Vec<Row>> {
        if q.limit == Some(0) {
            return Ok(Vec::new());
        }
        let stmt = r.shared().sql.select(q)?;
        decode_rows(q.table, &r.fetch_all(q.table.name, stmt).await?)
    }

    pub async fn count_rows<R: Runner>(
        r: &R,
        table: &'static TableDef,
        filter: &kavach_store_core::Cond,
    ) -> Result<u64> {
        let stmt = r.shared().sql.count(table, filter)?;
        let rows = r.fetch_all(table.name, stmt).await?;
        let n: i64 = rows
            .first()
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(|e| StoreError::Decode {
                table: table.name,
                column: "count".into(),
                reason: e.to_string(),
            })?
            .unwrap_or(0);
        Ok(n.max(0) as u64)
    }

    pub async fn update_rows<R: Runner>(r: &R, u: &Update) -> Result<u64> {
        let stmt = r.shared().sql.update(u, false)?;
        r.execute(u.table.name, stmt).await
    }

    pub async fn update_rows_returning<R: Runner>(r: &R, u: &Update) -> Result<Vec<Row>> {
        let stmt = r.shared().sql.update(u, true)?;
        decode_rows(u.table, &r.fetch_all(u.table.name, stmt).await?)
    }

    pub async fn delete_rows<R: Runner>(r: &R, d: &Delete) -> Result<u64> {
        let stmt = r.shared().sql.delete(d, false)?;
        r.execute(d.table.name, stmt).await
    }

    pub async fn delete_rows_returning<R: Runner>(r: &R, d: &Delete) -> Result<Vec<Row>> {
        let stmt = r.shared().sql.delete(d, true)?;
        decode_rows(d.table, &r.fetch_all(d.table.name, stmt).await?)
    }

    pub async fn upsert_row<R: Runner>(r: &R, u: &Upsert) -> Result<Row> {
        let stmt = r.shared().sql.upsert(u)?;
        let mut rows = decode_rows(u.table, &r.fetch_upsert(u.table.name, stmt).await?)?;
        rows.pop().ok_or_else(|| StoreError::Backend {
            message: format!("{}: upsert returned no row", u.table.name),
            source: None,
        })
    }

    pub async fn sum_rows<R: Runner>(r: &R, s: &Sum) -> Result<Vec<(Value, i64)>> {
        let stmt = r.shared().sql.sum(s)?;
        let rows = r.fetch_all(s.table.name, stmt).await?;
        let group_col = s.group_by.and_then(|g| s.table.column(g));
        rows.iter()
            .map(|row| {
                let decode_err = |e: sqlx::Error| StoreError::Decode {
                    table: s.table.name,
                    column: s.column.into(),
                    reason: e.to_string(),
                };
                let (group, sum_at) = match group_col {
                    Some(col) => (
                        decode_value(s.table, col, row.try_get_raw(0).map_err(decode_err)?)?,
                        1,
                    ),
                    None => (Value::Null, 0),
                };
                Ok((group, row.try_get::<i64, _>(sum_at).map_err(decode_err)?))
            })
            .collect()
    }
}

/// Implements [`RowStore`] and [`KavachStore`] for a [`Runner`].
macro_rules! row_store_impl {
    ([$($generics:tt)*] $ty:ty) => {
        #[async_trait]
        impl<$($generics)*> RowStore for $ty {
            async fn insert_rows(&self, table: &'static TableDef, rows: Vec<Row>) -> Result<()> {
                ops::insert_rows(self, table, rows).await
            }
            async fn select_rows(&self, query: &Select) -> Result<Vec<Row>> {
                ops::select_rows(self, query).await
            }
            async fn count_rows(&self, table: &'static TableDef, filter: &kavach_store_core::Cond) -> Result<u64> {
                ops::count_rows(self, table, filter).await
            }
            async fn update_rows(&self, update: &Update) -> Result<u64> {
                ops::update_rows(self, update).await
            }
            async fn update_rows_returning(&self, update: &Update) -> Result<Vec<Row>> {
                ops::update_rows_returning(self, update).await
            }
            async fn delete_rows(&self, delete: &Delete) -> Result<u64> {
                ops::delete_rows(self, delete).await
            }
            async fn delete_rows_returning(&self, delete: &Delete) -> Result<Vec<Row>> {
                ops::delete_rows_returning(self, delete).await
            }
            async fn upsert_row(&self, upsert: &Upsert) -> Result<Row> {
                ops::upsert_row(self, upsert).await
            }
            async fn sum_rows(&self, sum: &Sum) -> Result<Vec<(Value, i64)>> {
                ops::sum_rows(self, sum).await
            }
        }


    };
}

row_store_impl!([] PgStore);

impl KavachStore for PgStore {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    fn admin(&self) -> Option<&dyn SchemaAdmin> {
        Some(self)
    }
}

impl KavachStore for PgTransaction<'_> {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }
}

impl<C: PgConn> KavachStore for PgAttached<C> {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }
}

/// Migrations and introspection for the `kavach-store` CLI.
#[async_trait]
impl SchemaAdmin for PgStore {
    async fn migrate(&self) -> Result<Vec<MigrationInfo>> {
        let report = PgStore::migrate(self).await?;
        Ok(migrate::MIGRATIONS
            .iter()
            .filter(|m| report.applied.contains(&m.version))
            .map(|m| MigrationInfo {
                version: m.version,
                name: m.name.to_string(),
            })
            .collect())
    }

    async fn migration_status(&self) -> Result<MigrationStatus> {
        migrate::status(&self.pool).await
    }

    async fn inspect_tables(&self) -> Result<Vec<TableInfo>> {
        migrate::inspect(&self.pool).await
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
row_store_impl!(['a] PgTransaction<'a>);
row_store_impl!([C: PgConn] PgAttached<C>);

/// Pool and migration settings for [`PgStore::connect_with`].
#[derive(Clone, Debug)]
pub struct PgStoreOptions {
    max_connections: u32,
    min_connections: u32,
    acquire_timeout: Duration,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    statement_cache_capacity: usize,
    force_custom_plan: bool,
    search_path: Option<String>,
    application_name: String,
    run_migrations: bool,
    lane_connections: Option<u32>,
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        PgStoreOptions {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            // 48 tables × a handful of query shapes: sqlx's default of 100
            // would evict (and re-prepare) statements.
            statement_cache_capacity: 1024,
            force_custom_plan: true,
            search_path: None,
            application_name: "kavach-store".into(),
            run_migrations: true,
            lane_connections: None,
        }
    }
}

impl PgStoreOptions {
    /// Maximum pool size (default 10).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// Connections kept open when idle (default 0).
    pub fn min_connections(mut self, n: u32) -> Self {
        self.min_connections = n;
        self
    }
    /// How long an operation waits for a connection (also bounds connecting)
    /// before failing with `Unavailable` (default 10 s).
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.acquire_timeout = d;
        self
    }
    /// Idle connections are closed after this (default 10 min).
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.idle_timeout = d;
        self
    }
    /// Connections are replaced after this (default 30 min).
    pub fn max_lifetime(mut self, d: Option<Duration>) -> Self {
        self.max_lifetime = d;
        self
    }
    /// Prepared statements kept per connection (default 1024).
    pub fn statement_cache_capacity(mut self, n: usize) -> Self {
        self.statement_cache_capacity = n;
        self
    }
    /// Sets `plan_cache_mode = force_custom_plan` on every connection
    /// (default on; see the crate documentation).
    pub fn force_custom_plan(mut self, on: bool) -> Self {
        self.force_custom_plan = on;
        self
    }
    /// Sets `search_path` to this schema on every connection (the schema must
    /// exist); the store's tables live there.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.search_path = Some(schema.into());
        self
    }
    /// `application_name` reported to the server (default `kavach-store`).
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }
    /// Whether `connect` runs [`PgStore::migrate`] (default true). Turn off
    /// when another tool owns the schema (e.g. Prisma migrate).
    pub fn run_migrations(mut self, on: bool) -> Self {
        self.run_migrations = on;
        self
    }
    /// Connections kept for single-statement operations, apart from the pool
    /// (default: `max_connections`; 0 runs everything through the pool). They
    /// skip the ping sqlx's pool sends whenever a connection is returned,
    /// which doubled the cost of a point lookup on the test machines; see
    /// `lane.rs`. The store may then hold up to `max_connections` pool
    /// connections (transactions, migrations, [`PgStore::pool`]) plus these.
    pub fn lane_connections(mut self, n: u32) -> Self {
        self.lane_connections = Some(n);
        self
    }
    /// Skips migrations (same as `run_migrations(false)`).
    pub fn skip_migrations(self) -> Self {
        self.run_migrations(false)
    }
}

/// The PostgreSQL store: a pool plus the SQL cache. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    shared: Arc<Shared>,
    lane: Option<Arc<lane::Lane>>,
}

impl std::fmt::Debug for PgStore {
    // Never prints connection options: the URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("connections", &self.pool.size())
            .field("idle", &self.pool.num_idle())
            .field("cached_statements", &self.shared.sql.len())
            .field("lane", &self.lane)
            .finish()
    }
}

impl PgStore {
    /// A store over the caller's pool. Runs no migrations (call
    /// [`PgStore::migrate`]) and leaves the pool's settings as they are.
    pub fn new(pool: PgPool) -> PgStore {
        PgStore {
            pool,
            shared: Arc::new(Shared::default()),
            lane: None,
        }
    }

    /// Connects with default [`PgStoreOptions`] and runs the migrations.
    /// `Unavailable` when the server cannot be reached.
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(url, PgStoreOptions::default()).await
    }

    /// Connects with `options` (pool size, timeouts, schema, migrations).
    pub async fn connect_with(url: &str, options: PgStoreOptions) -> Result<PgStore> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::invalid_input(
                "url",
                "expected a postgres:// or postgresql:// URL",
            ));
        }
        // The parse error may quote the URL; do not pass it on.
        let connect: PgConnectOptions = url
            .parse()
            .map_err(|_| StoreError::invalid_input("url", "not a valid postgres:// URL"))?;
        PgStore::connect_options(connect, options).await
    }

    /// Connects with explicit sqlx connect options (TLS-less sockets,
    /// passwords from elsewhere, …) and `options`.
    pub async fn connect_options(
        connect: PgConnectOptions,
        options: PgStoreOptions,
    ) -> Result<PgStore> {
        let mut connect = connect
            .statement_cache_capacity(options.statement_cache_capacity)
            .application_name(&options.application_name);
        let mut settings: Vec<(&str, String)> = Vec::new();
        if options.force_custom_plan {
            settings.push(("plan_cache_mode", "force_custom_plan".into()));
        }
        if let Some(schema) = &options.search_path {
            settings.push(("search_path", sql::quote(schema)));
        }
        if !settings.is_empty() {
            connect = connect.options(settings);
        }
        probe_connection(&connect, options.acquire_timeout).await?;
        let lane_size = options.lane_connections.unwrap_or(options.max_connections) as usize;
        let lane = (lane_size > 0).then(|| {
            Arc::new(lane::Lane::new(
                connect.clone(),
                lane_size,
                options.acquire_timeout,
                options.idle_timeout,
                options.max_lifetime,
            ))
        });
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .max_lifetime(options.max_lifetime)
            // The ping before every checkout costs a round trip per operation
            // (1.5× at 16 tasks, perf-notes); broken connections still fail the
            // operation with `Unavailable` and are replaced.
            .test_before_acquire(false)
            .connect_with(connect)
            .await
            .map_err(|e| error::map("(connect)", e))?;
        let store = PgStore {
            lane,
            ..PgStore::new(pool)
        };
        if options.run_migrations {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Creates or adopts the schema (see [`migrate`]). Idempotent and safe
    /// to run from several processes at once.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| error::map("(migrate)", e))?;
        migrate::run(&mut conn).await
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        if let Some(lane) = &self.lane {
            lane.close().await;
        }
        self.pool.close().await;
    }

    /// Creates a schema if it does not exist (for a store per tenant or per
    /// test: connect with [`PgStoreOptions::schema`] afterwards).
    pub async fn create_schema(&self, schema: &str) -> Result<()> {
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", sql::quote(schema));
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&self.pool)
            .await
            .map_err(|e| error::map("(schema)", e))?;
        Ok(())
    }

    /// Drops a schema and everything in it (`DROP SCHEMA … CASCADE`).
    pub async fn drop_schema(&self, schema: &str) -> Result<()> {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", sql::quote(schema));
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&self.pool)
            .await
            .map_err(|e| error::map("(schema)", e))?;
        Ok(())
    }

    /// Wraps the caller's transaction: store operations run in it, and
    /// [`PgAttached::into_inner`] gives it back to commit.
    pub fn attach<'c>(
        &self,
        tx: sqlx::Transaction<'c, Postgres>,
    ) -> PgAttached<sqlx::Transaction<'c, Postgres>> {
        PgAttached::new(self.shared.clone(), tx)
    }

    /// Wraps a borrowed connection or transaction (`&mut *tx`): store
    /// operations run on it until the wrapper is dropped.
    pub fn attach_connection<'c>(
        &self,
        conn: &'c mut PgConnection,
    ) -> PgAttached<&'c mut PgConnection> {
        PgAttached::new(self.shared.clone(), conn)
    }
}

impl Runner for PgStore {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    async fn fetch_all(&self, table: &'static str, stmt: Stmt) -> Result<Vec<PgRow>> {
        match &self.lane {
            Some(lane) => match on_lane(lane, table, stmt, true).await? {
                Outcome::Rows(rows) => Ok(rows),
                Outcome::Affected(_) => unreachable!("fetch returns rows"),
            },
            None => sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), stmt.args)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| error::map(table, e)),
        }
    }

    async fn fetch_upsert(&self, table: &'static str, stmt: Stmt) -> Result<Vec<PgRow>> {
        self.upsert_retrying(table, stmt).await
    }

    async fn execute(&self, table: &'static str, stmt: Stmt) -> Result<u64> {
        match &self.lane {
            Some(lane) => match on_lane(lane, table, stmt, false).await? {
                Outcome::Affected(n) => Ok(n),
                Outcome::Rows(_) => unreachable!("execute returns a count"),
            },
            None => sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), stmt.args)
                .execute(&self.pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| error::map(table, e)),
        }
    }
}

/// The connection is gone: an I/O or protocol failure, or a FATAL message
/// (the server terminated the session, e.g. SQLSTATE 57P01 after
/// `pg_terminate_backend` or a restart).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|p| matches!(p.severity(), PgSeverity::Fatal | PgSeverity::Panic)),
        _ => false,
    }
}

impl PgStore {
    async fn upsert_retrying(&self, table: &'static str, stmt: Stmt) -> Result<Vec<PgRow>> {
        let mut stmt = stmt;
        let mut attempt = 1;
        loop {
            let again = (attempt < UPSERT_ATTEMPTS).then(|| stmt.clone());
            match (self.fetch_all(table, stmt).await, again) {
                (Err(StoreError::Conflict { .. }), Some(next)) => {
                    stmt = next;
                    attempt += 1;
                }
                (result, _) => return result,
            }
        }
    }
}

enum Outcome {
    Rows(Vec<PgRow>),
    Affected(u64),
}

/// Runs one statement on a lane connection. A read that fails because a
/// reused connection died while idle (server restart, idle kill) runs again
/// on another one; writes never do (they may have been applied).
async fn on_lane(
    lane: &lane::Lane,
    table: &'static str,
    stmt: Stmt,
    fetch: bool,
) -> Result<Outcome> {
    let mut stmt = stmt;
    loop {
        let mut taken = lane.take().await.map_err(|e| error::map(table, e))?;
        let spare = (stmt.read_only && taken.reused).then(|| Stmt {
            sql: stmt.sql.clone(),
            args: stmt.args.clone(),
            read_only: true,
        });
        let result = if fetch {
            tx::run_fetch(taken.conn(), stmt).await.map(Outcome::Rows)
        } else {
            tx::run_execute(taken.conn(), stmt)
                .await
                .map(Outcome::Affected)
        };
        match result {
            Ok(outcome) => {
                taken.give_back();
                return Ok(outcome);
            }
            // The statement failed on the server, which is ready again: keep it.
            Err(e) if !connection_lost(&e) && matches!(e, sqlx::Error::Database(_)) => {
                taken.give_back();
                return Err(error::map(table, e));
            }
            Err(e) => {
                let lost = connection_lost(&e);
                drop(taken);
                match spare {
                    Some(again) if lost => stmt = again,
                    _ => return Err(error::map(table, e)),
                }
            }
        }
    }
}

#[async_trait]
impl Transactional for PgStore {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| error::map("(transaction)", e))?;
        Ok(Box::new(
            PgTransaction::start(self.shared.clone(), conn).await?,
        ))
    }
}

/// Opens and closes one connection. The pool retries a failing first
/// connection until its acquire timeout and then reports only "timed out";
/// a direct connection reports the cause (refused, unknown role, wrong
/// password) at once.
async fn probe_connection(connect: &PgConnectOptions, timeout: Duration) -> Result<()> {
    use sqlx::Connection;
    match tokio::time::timeout(timeout, PgConnection::connect_with(connect)).await {
        Ok(Ok(conn)) => {
            // A failed goodbye is no reason to refuse the store.
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(error::map("(connect)", e)),
        Err(_) => Err(StoreError::Unavailable {
            message: format!("no answer from the PostgreSQL server within {timeout:?}"),
            source: None,
        }),
    }
}

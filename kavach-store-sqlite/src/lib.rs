//! # kavach-store-sqlite
//!
//! The embedded default backend of kavach-store: SQLite through rusqlite
//! (bundled SQLite, no system library needed), file-compatible with the
//! SQLite databases KavachOS itself creates.
//!
//! ```no_run
//! use kavach_store_core::prelude::*;
//! use kavach_store_sqlite::SqliteStore;
//!
//! # async fn demo() -> Result<(), StoreError> {
//! // Opens (creating the file if needed) and migrates.
//! let store = SqliteStore::open("kavach.db").await?;
//! let n = store.count::<Agent>(Cond::All).await?;
//! # let _ = n; Ok(()) }
//! ```
//!
//! ## Storage (compatible with KavachOS)
//! Column names and storage classes are those of KavachOS's DDL: TEXT ids
//! and JSON, INTEGER 0/1 booleans, INTEGER timestamps. In the default
//! [`TimestampMode::KavachOs`], timestamps are written as Unix **seconds**
//! (floor), like KavachOS's core, except `kavach_login_history.timestamp` in
//! milliseconds: the sub-second part of the other columns is lost (declared
//! to the conformance suite as second precision). [`TimestampMode::Millis`]
//! keeps milliseconds everywhere, for databases KavachOS's core never reads.
//! Reading accepts every form found in real files: INTEGER seconds, INTEGER
//! milliseconds (|v| ≥ 10^11), REAL, ISO-8601 TEXT; range conditions and
//! ordering on timestamp columns normalise the three (see `sql.rs`).
//!
//! ## Concurrency
//! One writer connection and `readers` reader connections, each on its own
//! thread fed by a channel (no `spawn_blocking` per call, no blocking of the
//! async runtime); a read goes to the most recently idle reader, so a
//! task's lookups stay on one warm thread. WAL journal, so readers proceed while a write transaction
//! is open and never see its uncommitted rows; `foreign_keys = ON`;
//! `busy_timeout` (default 5 s); write transactions start with
//! `BEGIN IMMEDIATE`; statements are prepared once per connection
//! (`prepare_cached`) from SQL rendered once per query shape.
//!
//! ## Durability
//! `synchronous = FULL` by default: a write acknowledged by the store
//! survives a power loss. [`Synchronous::Normal`] (WAL) is ~2.4× faster on
//! single writes and never corrupts the database, and survives a crash of
//! the process, but the last transactions before a power loss or OS crash
//! can be rolled back.
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use kavach_store_core::admin::{MigrationInfo, MigrationStatus, SchemaAdmin, TableInfo};
use kavach_store_core::{
    ColumnDef, Cond, Delete, KavachStore, Result, Row, Select, StoreError, Sum, TableDef,
    Transaction, Transactional, Update, Upsert, Value,
};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

mod error;
pub mod migrate;
mod ops;
mod row;
mod sql;
mod tx;
mod worker;

pub use migrate::{MigrationReport, schema_sql};
pub use row::{TimestampMode, TimestampUnit};
pub use rusqlite;
pub use tx::SqliteTransaction;

use worker::{WriterMsg, job};

/// `PRAGMA synchronous` of the writer connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// Every commit is synced to disk: no acknowledged write is lost, even on power loss.
    #[default]
    Full,
    /// WAL only synced at checkpoints: safe against process crashes and
    /// corruption, but a power loss or OS crash can roll back the last commits.
    Normal,
}

/// `PRAGMA journal_mode` of a file database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JournalMode {
    /// Write-ahead log: readers proceed while a write is in progress.
    #[default]
    Wal,
    /// Rollback journal (SQLite's default), for files also opened by SQLite
    /// builds without WAL support (sql.js, KavachOS's default `sqlite`
    /// provider, keeps the database in memory and cannot use a WAL file):
    /// readers wait while a write commits.
    Delete,
}

#[derive(Clone, Debug)]
enum Location {
    File(PathBuf),
    Memory,
    Temporary,
}

/// Options of a [`SqliteStore`]; [`SqliteOptions::open`] opens it.
///
/// ```no_run
/// # async fn demo() -> Result<(), kavach_store_core::StoreError> {
/// use kavach_store_sqlite::{SqliteOptions, Synchronous, TimestampMode};
/// let store = SqliteOptions::file("kavach.db")
///     .timestamp_mode(TimestampMode::KavachOs)
///     .synchronous(Synchronous::Full)
///     .busy_timeout(std::time::Duration::from_secs(5))
///     .readers(4)
///     .skip_migrations(true)
///     .open()
///     .await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    location: Location,
    mode: TimestampMode,
    synchronous: Synchronous,
    journal: JournalMode,
    busy_timeout: Duration,
    readers: usize,
    migrate: bool,
    statement_cache: usize,
}

impl SqliteOptions {
    fn new(location: Location) -> SqliteOptions {
        SqliteOptions {
            location,
            mode: TimestampMode::default(),
            synchronous: Synchronous::default(),
            journal: JournalMode::default(),
            busy_timeout: Duration::from_secs(5),
            readers: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(2, 4),
            migrate: true,
            statement_cache: 256,
        }
    }

    /// A database file (created when missing).
    pub fn file(path: impl AsRef<Path>) -> SqliteOptions {
        SqliteOptions::new(Location::File(path.as_ref().to_path_buf()))
    }

    /// A private in-memory database, shared by the store's connections
    /// (SQLite's `memdb` VFS), gone when the store is dropped. It has no WAL:
    /// readers wait while a write commits.
    pub fn in_memory() -> SqliteOptions {
        SqliteOptions::new(Location::Memory)
    }

    /// A fresh database file in the system's temporary directory, deleted
    /// when the store is dropped (full WAL behaviour, e.g. for tests).
    pub fn temporary() -> SqliteOptions {
        SqliteOptions::new(Location::Temporary)
    }

    /// How timestamps are stored (default [`TimestampMode::KavachOs`]).
    pub fn timestamp_mode(mut self, mode: TimestampMode) -> Self {
        self.mode = mode;
        self
    }

    /// `PRAGMA synchronous` (default [`Synchronous::Full`]).
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// `PRAGMA journal_mode` of a file database (default [`JournalMode::Wal`]).
    pub fn journal_mode(mut self, journal: JournalMode) -> Self {
        self.journal = journal;
        self
    }

    /// How long a write waits for SQLite's lock (another process) or for a
    /// transaction of this store before failing with a retryable error
    /// (default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Number of reader connections (default: the CPU count, clamped to 2..=4).
    /// With 0, reads run on the writer connection.
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers;
        self
    }

    /// Do not run [`SqliteStore::migrate`] on open (the schema is owned by
    /// another tool, or migrations run separately). Default: migrate on open.
    pub fn skip_migrations(mut self, skip: bool) -> Self {
        self.migrate = !skip;
        self
    }

    /// Prepared statements kept per connection (default 256).
    pub fn statement_cache(mut self, capacity: usize) -> Self {
        self.statement_cache = capacity;
        self
    }

    /// Opens the store: starts the connection threads and, unless skipped,
    /// migrates.
    pub async fn open(self) -> Result<SqliteStore> {
        let (target, temp) = match &self.location {
            Location::File(p) => (p.to_string_lossy().into_owned(), None),
            Location::Memory => (
                format!(
                    "file:/kavach-store-{}?vfs=memdb",
                    uuid::Uuid::new_v4().simple()
                ),
                None,
            ),
            Location::Temporary => {
                let p = std::env::temp_dir().join(format!(
                    "kavach-store-{}.sqlite",
                    uuid::Uuid::now_v7().simple()
                ));
                (p.to_string_lossy().into_owned(), Some(TempFile(p)))
            }
        };
        let mut threads = Vec::new();

        let (writer_tx, writer_rx) = flume::unbounded::<WriterMsg>();
        let settings = self.clone();
        let path = target.clone();
        let (ready, started) = oneshot::channel();
        threads.push(spawn(
            "kavach-sqlite-writer",
            move || match open_connection(&path, &settings, true) {
                Ok(conn) => {
                    let _ = ready.send(Ok(()));
                    worker::writer_loop(conn, writer_rx, settings.busy_timeout);
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            },
        )?);
        started
            .await
            .map_err(|_| error::worker_gone())?
            .map_err(|e| error::map("open", e))?;

        let (pool, slots) = worker::ReaderPool::new(self.readers);
        for slot in slots {
            let settings = self.clone();
            let path = target.clone();
            let (ready, started) = oneshot::channel();
            threads.push(spawn(
                "kavach-sqlite-reader",
                move || match open_connection(&path, &settings, false) {
                    Ok(conn) => {
                        let _ = ready.send(Ok(()));
                        worker::reader_loop(conn, slot);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                },
            )?);
            started
                .await
                .map_err(|_| error::worker_gone())?
                .map_err(|e| error::map("open", e))?;
        }

        let description = match &self.location {
            Location::File(p) => p.display().to_string(),
            Location::Memory => ":memory:".to_string(),
            Location::Temporary => target,
        };
        let store = SqliteStore {
            inner: std::sync::Arc::new(Inner {
                writer: writer_tx,
                readers: pool,
                has_readers: self.readers > 0,
                sql: sql::SqlCache::new(row::Codec { mode: self.mode }),
                mode: self.mode,
                description,
                next_tx: AtomicU64::new(1),
                next_savepoint: AtomicU64::new(1),
                threads,
                _temp: temp,
            }),
        };
        if self.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .map_err(|e| StoreError::Unavailable {
            message: format!("cannot start {name}"),
            source: Some(Box::new(e)),
        })
}

fn open_connection(path: &str, o: &SqliteOptions, writer: bool) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    if writer {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(o.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(o.statement_cache);
    conn.pragma_update(None, "foreign_keys", true)?;
    if writer {
        if !matches!(o.location, Location::Memory) {
            let journal = match o.journal {
                JournalMode::Wal => "WAL",
                JournalMode::Delete => "DELETE",
            };
            let _: String =
                conn.pragma_update_and_check(None, "journal_mode", journal, |r| r.get(0))?;
        }
        let sync = match o.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
    } else {
        // Reader connections can never write, whatever SQL reaches them.
        conn.pragma_update(None, "query_only", true)?;
    }
    Ok(conn)
}

/// A temporary database file, deleted (with its WAL and shared-memory files)
/// after the connections are closed.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Where an operation runs: on the store (reads on a reader, writes in
/// autocommit on the writer) or inside transaction `id` on the writer.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    Store,
    Tx(u64),
}

pub(crate) struct Inner {
    writer: flume::Sender<WriterMsg>,
    readers: worker::ReaderPool,
    has_readers: bool,
    sql: sql::SqlCache,
    mode: TimestampMode,
    description: String,
    pub(crate) next_tx: AtomicU64,
    pub(crate) next_savepoint: AtomicU64,
    threads: Vec<JoinHandle<()>>,
    // Dropped after `Drop::drop` joined the threads (fields drop last).
    _temp: Option<TempFile>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Disconnect the queues so the threads finish their queued work and exit.
        let (w, _) = flume::unbounded();
        drop(std::mem::replace(&mut self.writer, w));
        self.readers.close();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Inner {
    pub(crate) fn send_writer(&self, msg: WriterMsg) -> Result<()> {
        self.writer.send(msg).map_err(|_| error::worker_gone())
    }

    /// Runs `f` where reads of `target` run.
    pub(crate) async fn read<T, F>(&self, target: Target, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (job, reply) = job(f);
        match target {
            Target::Store if self.has_readers => self.readers.dispatch(job)?,
            Target::Store => self.send_writer(WriterMsg::Run(job))?,
            Target::Tx(id) => self.send_writer(WriterMsg::Tx { id, job })?,
        }
        reply.wait().await
    }

    /// Runs `f` where writes of `target` run.
    pub(crate) async fn write<T, F>(&self, target: Target, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (job, reply) = job(f);
        match target {
            Target::Store => self.send_writer(WriterMsg::Run(job))?,
            Target::Tx(id) => self.send_writer(WriterMsg::Tx { id, job })?,
        }
        reply.wait().await
    }

    pub(crate) async fn insert_rows(
        &self,
        t: Target,
        table: &'static TableDef,
        rows: Vec<Row>,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = self.sql.insert(table);
        let params = rows
            .iter()
            .map(|r| self.sql.row_params(table, r))
            .collect::<Result<Vec<_>>>()?;
        self.write(t, move |conn| {
            ops::insert_rows(conn, table.name, &sql, &params)
        })
        .await
    }

    pub(crate) async fn select_rows(&self, t: Target, q: &Select) -> Result<Vec<Row>> {
        if q.limit == Some(0) {
            return Ok(Vec::new());
        }
        let (sql, params, codec, table) = (
            self.sql.select(q)?,
            self.sql.select_params(q),
            self.sql.codec(),
            q.table,
        );
        self.read(t, move |conn| {
            ops::query_rows(conn, codec, table, &sql, &params)
        })
        .await
    }

    pub(crate) async fn count_rows(
        &self,
        t: Target,
        table: &'static TableDef,
        filter: &Cond,
    ) -> Result<u64> {
        let sql = self.sql.count(table, filter)?;
        let mut params = Vec::new();
        self.sql.bind_cond(table, filter, &mut params);
        self.read(t, move |conn| {
            ops::query_i64(conn, table.name, &sql, &params)
        })
        .await
        .map(|n| n.max(0) as u64)
    }

    pub(crate) async fn update_rows(&self, t: Target, u: &Update) -> Result<u64> {
        let (sql, params, table) = (
            self.sql.update(u, false)?,
            self.sql.update_params(u)?,
            u.table.name,
        );
        self.write(t, move |conn| ops::execute(conn, table, &sql, &params))
            .await
    }

    pub(crate) async fn update_rows_returning(&self, t: Target, u: &Update) -> Result<Vec<Row>> {
        let (sql, params, codec, table) = (
            self.sql.update(u, true)?,
            self.sql.update_params(u)?,
            self.sql.codec(),
            u.table,
        );
        self.write(t, move |conn| {
            ops::query_rows(conn, codec, table, &sql, &params)
        })
        .await
    }

    pub(crate) async fn delete_rows(&self, t: Target, d: &Delete) -> Result<u64> {
        let (sql, params, table) = (
            self.sql.delete(d, false)?,
            self.sql.delete_params(d),
            d.table.name,
        );
        self.write(t, move |conn| ops::execute(conn, table, &sql, &params))
            .await
    }

    pub(crate) async fn delete_rows_returning(&self, t: Target, d: &Delete) -> Result<Vec<Row>> {
        let (sql, params, codec, table) = (
            self.sql.delete(d, true)?,
            self.sql.delete_params(d),
            self.sql.codec(),
            d.table,
        );
        self.write(t, move |conn| {
            ops::query_rows(conn, codec, table, &sql, &params)
        })
        .await
    }

    pub(crate) async fn upsert_row(&self, t: Target, u: &Upsert) -> Result<Row> {
        let (sql, params, codec, table) = (
            self.sql.upsert(u)?,
            self.sql.upsert_params(u)?,
            self.sql.codec(),
            u.table,
        );
        self.write(t, move |conn| {
            ops::query_rows(conn, codec, table, &sql, &params)?
                .pop()
                .ok_or_else(|| StoreError::Backend {
                    message: format!("{}: upsert returned no row", table.name),
                    source: None,
                })
        })
        .await
    }

    pub(crate) async fn sum_rows(&self, t: Target, s: &Sum) -> Result<Vec<(Value, i64)>> {
        if s.group_by.is_some() && s.limit == Some(0) {
            return Ok(Vec::new());
        }
        let (sql, params, codec, table, group) = (
            self.sql.sum(s)?,
            self.sql.sum_params(s),
            self.sql.codec(),
            s.table,
            s.group_by,
        );
        self.read(t, move |conn| {
            ops::query_sums(conn, codec, table, group, &sql, &params)
        })
        .await
    }
}

/// Implements `RowStore` for a type by delegating to [`Inner`] with a target.
#[macro_export]
#[doc(hidden)]
macro_rules! row_store_impl {
    ($ty:ty, |$s:ident| $exec:expr) => {
        #[async_trait::async_trait]
        impl kavach_store_core::RowStore for $ty {
            async fn insert_rows(
                &self,
                table: &'static kavach_store_core::TableDef,
                rows: Vec<kavach_store_core::Row>,
            ) -> kavach_store_core::Result<()> {
                let $s = self;
                let (inner, target) = $exec;
                inner.insert_rows(target, table, rows).await
            }
            async fn select_rows(
                &self,
                query: &kavach_store_core::Select,
            ) -> kavach_store_core::Result<Vec<kavach_store_core::Row>> {
                let $s = self;
                let (inner, target) = $exec;
                inner.select_rows(target, query).await
            }
            async fn count_rows(
                &self,
                table: &'static kavach_store_core::TableDef,
                filter: &kavach_store_core::Cond,
            ) -> kavach_store_core::Result<u64> {
                let $s = self;
                let (inner, target) = $exec;
                inner.count_rows(target, table, filter).await
            }
            async fn update_rows(
                &self,
                update: &kavach_store_core::Update,
            ) -> kavach_store_core::Result<u64> {
                let $s = self;
                let (inner, target) = $exec;
                inner.update_rows(target, update).await
            }
            async fn update_rows_returning(
                &self,
                update: &kavach_store_core::Update,
            ) -> kavach_store_core::Result<Vec<kavach_store_core::Row>> {
                let $s = self;
                let (inner, target) = $exec;
                inner.update_rows_returning(target, update).await
            }
            async fn delete_rows(
                &self,
                delete: &kavach_store_core::Delete,
            ) -> kavach_store_core::Result<u64> {
                let $s = self;
                let (inner, target) = $exec;
                inner.delete_rows(target, delete).await
            }
            async fn delete_rows_returning(
                &self,
                delete: &kavach_store_core::Delete,
            ) -> kavach_store_core::Result<Vec<kavach_store_core::Row>> {
                let $s = self;
                let (inner, target) = $exec;
                inner.delete_rows_returning(target, delete).await
            }
            async fn upsert_row(
                &self,
                upsert: &kavach_store_core::Upsert,
            ) -> kavach_store_core::Result<kavach_store_core::Row> {
                let $s = self;
                let (inner, target) = $exec;
                inner.upsert_row(target, upsert).await
            }
            async fn sum_rows(
                &self,
                sum: &kavach_store_core::Sum,
            ) -> kavach_store_core::Result<Vec<(kavach_store_core::Value, i64)>> {
                let $s = self;
                let (inner, target) = $exec;
                inner.sum_rows(target, sum).await
            }
        }
    };
}

/// The SQLite store. Cheap to clone (an `Arc`); the connections close when
/// the last clone is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: std::sync::Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("database", &self.inner.description)
            .field("timestamp_mode", &self.inner.mode)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates a database file, with default options.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteOptions::file(path).open().await
    }

    /// Opens and migrates a private in-memory database (see [`SqliteOptions::in_memory`]).
    pub async fn open_in_memory() -> Result<SqliteStore> {
        SqliteOptions::in_memory().open().await
    }

    /// Opens and migrates a fresh temporary database file, deleted on drop
    /// (see [`SqliteOptions::temporary`]).
    pub async fn open_temporary() -> Result<SqliteStore> {
        SqliteOptions::temporary().open().await
    }

    /// Options for a database file: `SqliteStore::options("kavach.db").readers(2).open()`.
    pub fn options(path: impl AsRef<Path>) -> SqliteOptions {
        SqliteOptions::file(path)
    }

    /// Applies pending migrations (idempotent; safe when several processes
    /// run it at once). See [`migrate`] for what it does to a database
    /// created by KavachOS.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let mode = self.inner.mode;
        self.inner
            .write(Target::Store, move |conn| migrate::migrate(conn, mode))
            .await
    }

    /// How this store writes timestamps.
    pub fn timestamp_mode(&self) -> TimestampMode {
        self.inner.mode
    }

    /// The unit a timestamp column is stored in; `None` for other columns.
    pub fn timestamp_unit(&self, column: &ColumnDef) -> Option<TimestampUnit> {
        self.inner.mode.unit(column.kind)
    }

    /// Starts a transaction with its concrete type, which also offers
    /// [`SqliteTransaction::with_connection`] (the caller's own SQL inside it).
    pub async fn begin_transaction(&self) -> Result<SqliteTransaction<'_>> {
        SqliteTransaction::begin_top(&self.inner).await
    }

    /// Runs the caller's own SQL on the writer connection, outside any store
    /// transaction (e.g. creating the caller's tables). A transaction the
    /// closure leaves open is rolled back and reported as an error.
    pub async fn with_connection<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner
            .write(Target::Store, move |conn| {
                let result = f(conn).map_err(|e| error::map("(caller SQL)", e));
                if !conn.is_autocommit() {
                    worker::ensure_autocommit(conn);
                    return Err(StoreError::invalid_input(
                        "with_connection",
                        "the closure left a transaction open (rolled back); use begin_transaction",
                    ));
                }
                result
            })
            .await
    }

    /// Runs the caller's own read-only SQL on a reader connection.
    pub async fn with_read_connection<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner
            .read(Target::Store, move |conn| {
                f(conn).map_err(|e| error::map("(caller SQL)", e))
            })
            .await
    }
}

row_store_impl!(SqliteStore, |s| (&*s.inner, Target::Store));

#[async_trait]
impl Transactional for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        Ok(Box::new(self.begin_transaction().await?))
    }
}

impl KavachStore for SqliteStore {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    fn admin(&self) -> Option<&dyn SchemaAdmin> {
        Some(self)
    }
}

#[async_trait]
impl SchemaAdmin for SqliteStore {
    async fn migrate(&self) -> Result<Vec<MigrationInfo>> {
        Ok(SqliteStore::migrate(self).await?.applied)
    }

    async fn migration_status(&self) -> Result<MigrationStatus> {
        let mode = self.inner.mode;
        self.inner
            .read(Target::Store, move |conn| migrate::status(conn, mode))
            .await
    }

    async fn inspect_tables(&self) -> Result<Vec<TableInfo>> {
        self.inner
            .read(Target::Store, |conn| migrate::inspect(conn))
            .await
    }

    fn column_type_compatible(
        &self,
        _table: &TableDef,
        column: &ColumnDef,
        sql_type: &str,
    ) -> bool {
        migrate::type_compatible(column, sql_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kavach_store_core::RowStore;
    use kavach_store_core::{AuditLog, LoginHistory, OrderBy, Record};

    async fn plan(store: &SqliteStore, q: &Select) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {}", store.inner.sql.select(q).unwrap());
        let params = store.inner.sql.select_params(q);
        store
            .with_read_connection(move |c| {
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                    r.get::<_, String>(3)
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map(|v| v.join(" | "))
            })
            .await
            .unwrap()
    }

    const NEWEST: &[OrderBy] = &[OrderBy::desc("timestamp"), OrderBy::desc("id")];

    /// Cached statements are not re-prepared when their parameters change
    /// (a bare `LIMIT ?` made SQLite re-prepare on every execution).
    #[tokio::test]
    async fn cached_statements_are_not_reprepared() {
        let store = SqliteOptions::temporary().readers(1).open().await.unwrap();
        let agents = kavach_store_core::Agent::table_def();
        for i in 0..20 {
            let q = Select::new(agents, Cond::eq("token_hash", format!("h{i}")))
                .limit(1 + i % 3)
                .offset(i % 2);
            store.select_rows(&q).await.unwrap();
        }
        let q = Select::new(agents, Cond::eq("token_hash", "h")).limit(1);
        let sql = store.inner.sql.select(&q).unwrap();
        let reprepares = store
            .with_read_connection(move |c| {
                Ok(c.prepare_cached(&sql)?
                    .get_status(rusqlite::StatementStatus::RePrepare))
            })
            .await
            .unwrap();
        assert_eq!(reprepares, 0);
    }

    /// The hot paths use the indexes, including the expression indexes on
    /// normalised timestamps (no sort step for "newest N of an agent").
    #[tokio::test]
    async fn hot_paths_use_their_indexes() {
        for mode in [TimestampMode::KavachOs, TimestampMode::Millis] {
            let store = SqliteOptions::temporary()
                .timestamp_mode(mode)
                .open()
                .await
                .unwrap();
            let token = Select::new(
                kavach_store_core::Agent::table_def(),
                Cond::eq("token_hash", "h"),
            )
            .limit(1);
            let p = plan(&store, &token).await;
            assert!(p.contains("kavach_agents_token_hash_key"), "{p}");

            let recent = Select::new(
                AuditLog::table_def(),
                Cond::eq("agent_id", "a").and(Cond::ge("timestamp", chrono::Utc::now())),
            )
            .order(NEWEST)
            .limit(50);
            let p = plan(&store, &recent).await;
            assert!(p.contains("kavach_audit_logs_agent_ts_"), "{p}");
            assert!(!p.contains("TEMP B-TREE"), "ordered by the index: {p}");

            let logins = Select::new(LoginHistory::table_def(), Cond::eq("user_id", "u"))
                .order(NEWEST)
                .limit(10);
            let p = plan(&store, &logins).await;
            assert!(
                p.contains("kavach_login_history_user_ts_ms") && !p.contains("TEMP B-TREE"),
                "{p}"
            );
        }
    }
}

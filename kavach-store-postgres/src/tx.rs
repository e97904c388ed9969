//! Transactions: the store's own ([`PgTransaction`]) and the caller's
//! ([`PgAttached`]).
//!
//! Both hold one connection behind an async mutex (store operations take
//! `&self`; a connection runs one statement at a time). Nesting uses sqlx's
//! own transaction manager on that connection, so the depth bookkeeping is
//! shared with any `sqlx::Transaction` the caller holds: `BEGIN` at depth 0,
//! `SAVEPOINT` deeper, and a transaction dropped without commit queues its
//! `ROLLBACK` / `ROLLBACK TO SAVEPOINT`, which sqlx sends before the
//! connection's next statement (or when it returns to the pool).
//!
//! PostgreSQL aborts a whole transaction (up to the innermost savepoint) when
//! one of its statements fails. A [`PgTransaction`] therefore remembers a
//! failed statement: later operations fail fast and `commit` rolls back and
//! returns an error instead of reporting a commit that the server turned
//! into a rollback. Rolling back a nested transaction (a savepoint) clears
//! this for the outer one, exactly as on the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use kavach_store_core::{Result, StoreError, Transaction, Transactional};
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgRow, PgTransactionManager};
use sqlx_core::transaction::TransactionManager;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::error;
use crate::sql::Stmt;
use crate::{Runner, Shared};

/// Something that lends a `&mut PgConnection`: a connection, a pooled
/// connection, a `sqlx::Transaction`, or a borrow of one of them.
pub trait PgConn: Send {
    /// The connection.
    fn connection(&mut self) -> &mut PgConnection;
}

impl PgConn for PgConnection {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}

impl PgConn for &mut PgConnection {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}

impl PgConn for PoolConnection<Postgres> {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}

impl PgConn for sqlx::Transaction<'_, Postgres> {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}

impl PgConn for &mut sqlx::Transaction<'_, Postgres> {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}

impl PgConn for MappedMutexGuard<'_, PgConnection> {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}

impl<T: PgConn + ?Sized> PgConn for Box<T> {
    fn connection(&mut self) -> &mut PgConnection {
        (**self).connection()
    }
}

const TX: &str = "(transaction)";

fn nested_open() -> StoreError {
    StoreError::invalid_input(
        "transaction",
        "a nested transaction of this transaction is still open: commit or roll it back first",
    )
}

fn aborted() -> StoreError {
    StoreError::Backend {
        message: "the transaction was aborted by an earlier failed statement (PostgreSQL rolls the whole \
                  transaction back); roll it back and retry"
            .into(),
        source: None,
    }
}

pub(crate) async fn run_fetch(
    conn: &mut PgConnection,
    stmt: Stmt,
) -> std::result::Result<Vec<PgRow>, sqlx::Error> {
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), stmt.args)
        .fetch_all(conn)
        .await
}

pub(crate) async fn run_execute(
    conn: &mut PgConnection,
    stmt: Stmt,
) -> std::result::Result<u64, sqlx::Error> {
    Ok(sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), stmt.args)
        .execute(conn)
        .await?
        .rows_affected())
}

/// An upsert under a savepoint, run again when it lost a race on another
/// unique index (see [`crate::UPSERT_ATTEMPTS`]). The flag tells whether the
/// enclosing transaction is now unusable (a savepoint command failed).
async fn upsert_in_savepoint(
    conn: &mut PgConnection,
    table: &'static str,
    stmt: Stmt,
) -> (Result<Vec<PgRow>>, bool) {
    let mut stmt = stmt;
    let mut attempt = 1;
    loop {
        if let Err(e) = PgTransactionManager::begin(conn, None).await {
            return (Err(error::map(table, e)), true);
        }
        let again = (attempt < crate::UPSERT_ATTEMPTS).then(|| stmt.clone());
        match run_fetch(conn, stmt).await {
            Ok(rows) => {
                return match PgTransactionManager::commit(conn).await {
                    Ok(()) => (Ok(rows), false),
                    Err(e) => {
                        PgTransactionManager::start_rollback(conn);
                        (Err(error::map(table, e)), true)
                    }
                };
            }
            Err(e) => {
                if let Err(e2) = PgTransactionManager::rollback(conn).await {
                    PgTransactionManager::start_rollback(conn);
                    return (Err(error::map(table, e2)), true);
                }
                let unique = e
                    .as_database_error()
                    .and_then(|d| d.code())
                    .is_some_and(|c| c == "23505");
                match again {
                    Some(next) if unique => {
                        stmt = next;
                        attempt += 1;
                    }
                    _ => return (Err(error::map(table, e)), false),
                }
            }
        }
    }
}

/// Starts a nested transaction on a locked connection.
async fn begin_on<'a>(
    shared: &Arc<Shared>,
    mut conn: MappedMutexGuard<'a, PgConnection>,
    flag: &'a AtomicBool,
) -> Result<PgTransaction<'a>> {
    PgTransactionManager::begin(&mut conn, None)
        .await
        .map_err(|e| error::map(TX, e))?;
    flag.store(true, Ordering::Release);
    Ok(PgTransaction::new(
        shared.clone(),
        Box::new(conn),
        Some(flag),
    ))
}

/// A transaction started by [`crate::PgStore`] (`begin`), or nested in
/// another one (a savepoint). Dropping it without `commit` rolls it back.
pub struct PgTransaction<'a> {
    shared: Arc<Shared>,
    conn: Mutex<Box<dyn PgConn + 'a>>,
    /// A nested transaction holds this transaction's connection.
    child_open: AtomicBool,
    /// A statement failed: the server has aborted the transaction.
    poisoned: AtomicBool,
    /// The parent's `child_open`, cleared when this one ends.
    parent: Option<&'a AtomicBool>,
    /// Committed or rolled back (nothing left to undo on drop).
    done: bool,
}

impl<'a> PgTransaction<'a> {
    pub(crate) fn new(
        shared: Arc<Shared>,
        conn: Box<dyn PgConn + 'a>,
        parent: Option<&'a AtomicBool>,
    ) -> Self {
        PgTransaction {
            shared,
            conn: Mutex::new(conn),
            child_open: AtomicBool::new(false),
            poisoned: AtomicBool::new(false),
            parent,
            done: false,
        }
    }

    /// Starts a top-level transaction on a pooled connection.
    pub(crate) async fn start(
        shared: Arc<Shared>,
        mut conn: PoolConnection<Postgres>,
    ) -> Result<PgTransaction<'static>> {
        PgTransactionManager::begin(&mut conn, None)
            .await
            .map_err(|e| error::map(TX, e))?;
        Ok(PgTransaction::new(shared, Box::new(conn), None))
    }

    async fn lock(&self) -> Result<MappedMutexGuard<'_, PgConnection>> {
        if self.child_open.load(Ordering::Acquire) {
            return Err(nested_open());
        }
        if self.poisoned.load(Ordering::Acquire) {
            return Err(aborted());
        }
        let guard = self.conn.lock().await;
        Ok(MutexGuard::map(guard, |c| c.connection()))
    }

    fn check<T>(&self, table: &'static str, r: std::result::Result<T, sqlx::Error>) -> Result<T> {
        r.map_err(|e| {
            self.poisoned.store(true, Ordering::Release);
            error::map(table, e)
        })
    }
}

impl std::fmt::Debug for PgTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTransaction")
            .field("nested", &self.parent.is_some())
            .field("aborted", &self.poisoned.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Drop for PgTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Queued; sqlx sends it before the connection's next statement or
            // when the pooled connection is returned.
            PgTransactionManager::start_rollback(self.conn.get_mut().connection());
        }
        if let Some(flag) = self.parent {
            flag.store(false, Ordering::Release);
        }
    }
}

impl Runner for PgTransaction<'_> {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    async fn fetch_all(&self, table: &'static str, stmt: Stmt) -> Result<Vec<PgRow>> {
        let mut conn = self.lock().await?;
        let r = run_fetch(&mut conn, stmt).await;
        self.check(table, r)
    }

    async fn execute(&self, table: &'static str, stmt: Stmt) -> Result<u64> {
        let mut conn = self.lock().await?;
        let r = run_execute(&mut conn, stmt).await;
        self.check(table, r)
    }

    async fn fetch_upsert(&self, table: &'static str, stmt: Stmt) -> Result<Vec<PgRow>> {
        let mut conn = self.lock().await?;
        let (result, broken) = upsert_in_savepoint(&mut conn, table, stmt).await;
        if broken {
            self.poisoned.store(true, Ordering::Release);
        }
        result
    }
}

#[async_trait]
impl Transactional for PgTransaction<'_> {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let conn = self.lock().await?;
        Ok(Box::new(
            begin_on(&self.shared, conn, &self.child_open).await?,
        ))
    }
}

#[async_trait]
impl Transaction for PgTransaction<'_> {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        if self.child_open.load(Ordering::Acquire) {
            return Err(nested_open());
        }
        let poisoned = self.poisoned.load(Ordering::Acquire);
        let conn = self.conn.get_mut().connection();
        if poisoned {
            PgTransactionManager::rollback(conn)
                .await
                .map_err(|e| error::map(TX, e))?;
            self.done = true;
            return Err(aborted());
        }
        // On failure `done` stays false: drop queues the rollback, which also
        // keeps sqlx's depth counter in step with the server.
        PgTransactionManager::commit(conn)
            .await
            .map_err(|e| error::map(TX, e))?;
        self.done = true;
        Ok(())
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        if self.child_open.load(Ordering::Acquire) {
            return Err(nested_open());
        }
        PgTransactionManager::rollback(self.conn.get_mut().connection())
            .await
            .map_err(|e| error::map(TX, e))?;
        self.done = true;
        Ok(())
    }
}

/// Store operations inside the caller's own connection or transaction.
///
/// Built by [`crate::PgStore::attach`] (from a `sqlx::Transaction`) or
/// [`crate::PgStore::attach_connection`] (from a `&mut PgConnection`, which
/// may be `&mut *tx`). Every operation of every store trait runs on that
/// connection, so it commits or rolls back with the caller's own queries;
/// [`PgAttached::into_inner`] hands the transaction back for the caller to
/// commit. `begin` on it opens a savepoint (or a transaction, on a bare
/// connection).
///
/// Unlike [`PgTransaction`], a failed operation does not mark the caller's
/// transaction: the caller owns it and decides (PostgreSQL will refuse
/// further statements until it is rolled back to a savepoint).
pub struct PgAttached<C: PgConn> {
    shared: Arc<Shared>,
    conn: Mutex<C>,
    child_open: AtomicBool,
}

impl<C: PgConn> PgAttached<C> {
    pub(crate) fn new(shared: Arc<Shared>, conn: C) -> Self {
        PgAttached {
            shared,
            conn: Mutex::new(conn),
            child_open: AtomicBool::new(false),
        }
    }

    /// Gives the connection or transaction back (to commit it, run more
    /// queries, or drop it to roll back).
    pub fn into_inner(self) -> C {
        self.conn.into_inner()
    }

    /// Runs `f` on the wrapped connection (the caller's own queries between
    /// store operations, without taking the wrapper apart).
    pub async fn with_connection<T>(
        &self,
        f: impl AsyncFnOnce(&mut PgConnection) -> T,
    ) -> Result<T> {
        let mut conn = self.lock().await?;
        Ok(f(&mut conn).await)
    }

    async fn lock(&self) -> Result<MappedMutexGuard<'_, PgConnection>> {
        if self.child_open.load(Ordering::Acquire) {
            return Err(nested_open());
        }
        Ok(MutexGuard::map(self.conn.lock().await, |c| c.connection()))
    }
}

impl<C: PgConn> std::fmt::Debug for PgAttached<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgAttached").finish_non_exhaustive()
    }
}

impl<C: PgConn> Runner for PgAttached<C> {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    async fn fetch_all(&self, table: &'static str, stmt: Stmt) -> Result<Vec<PgRow>> {
        let mut conn = self.lock().await?;
        run_fetch(&mut conn, stmt)
            .await
            .map_err(|e| error::map(table, e))
    }

    async fn execute(&self, table: &'static str, stmt: Stmt) -> Result<u64> {
        let mut conn = self.lock().await?;
        run_execute(&mut conn, stmt)
            .await
            .map_err(|e| error::map(table, e))
    }

    async fn fetch_upsert(&self, table: &'static str, stmt: Stmt) -> Result<Vec<PgRow>> {
        let mut conn = self.lock().await?;
        upsert_in_savepoint(&mut conn, table, stmt).await.0
    }
}

#[async_trait]
impl<C: PgConn> Transactional for PgAttached<C> {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let conn = self.lock().await?;
        Ok(Box::new(
            begin_on(&self.shared, conn, &self.child_open).await?,
        ))
    }
}

//! Transactions: the store's own (`BEGIN IMMEDIATE` on the writer
//! connection; nested ones are savepoints) and the caller's SQL inside them
//! ([`SqliteTransaction::with_connection`]).

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use kavach_store_core::{Result, StoreError, Transaction, Transactional};
use rusqlite::Connection;

use crate::error::map;
use crate::worker::{WriterMsg, job};
use crate::{Inner, Target, ops};

/// Table name used in errors of the caller's own SQL.
const CALLER_SQL: &str = "(caller SQL)";

/// An open transaction on the writer connection.
///
/// Every store operation ([`kavach_store_core::RowStore`] and, through it,
/// every domain trait) runs inside it; reads see its own uncommitted writes,
/// other readers do not. Other writes of the same store wait until it ends
/// (for at most `busy_timeout`, then they fail with a retryable
/// `Serialization` error), so keep transactions short.
///
/// Dropping it without [`SqliteTransaction::commit`] rolls it back.
/// [`Transactional::begin`] on it starts a nested transaction (a savepoint).
pub struct SqliteTransaction<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) id: u64,
    /// `None` for the outermost transaction.
    pub(crate) savepoint: Option<String>,
    pub(crate) done: bool,
}

impl std::fmt::Debug for SqliteTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTransaction")
            .field("id", &self.id)
            .field("savepoint", &self.savepoint)
            .finish()
    }
}

impl<'a> SqliteTransaction<'a> {
    /// Starts an outermost transaction.
    pub(crate) async fn begin_top(inner: &'a Inner) -> Result<SqliteTransaction<'a>> {
        let id = inner.next_tx.fetch_add(1, Ordering::Relaxed);
        // Built before awaiting: if this future is dropped while the BEGIN is
        // queued, the guard's drop still ends the transaction on the writer.
        let mut tx = SqliteTransaction {
            inner,
            id,
            savepoint: None,
            done: false,
        };
        let (job, reply) =
            job(|conn: &mut Connection| ops::begin_immediate(conn).map_err(|e| map("BEGIN", e)));
        inner.send_writer(WriterMsg::Begin { id, job })?;
        if let Err(e) = reply.wait().await {
            tx.done = true;
            return Err(e);
        }
        Ok(tx)
    }

    /// Runs the caller's own SQL on the transaction's connection, so that
    /// the caller's tables and the store's commit or roll back together.
    ///
    /// The closure runs on the store's writer thread (it must be `Send +
    /// 'static`; return what you need). It must not end the transaction
    /// (`COMMIT`/`ROLLBACK`): use [`SqliteTransaction::commit`]. Errors are
    /// mapped like the store's own (a unique violation is `Conflict`, …).
    ///
    /// ```no_run
    /// # async fn demo(store: &kavach_store_sqlite::SqliteStore) -> Result<(), kavach_store_core::StoreError> {
    /// let tx = store.begin_transaction().await?;
    /// tx.with_connection(|conn| {
    ///     conn.execute("INSERT INTO my_orders (id, agent) VALUES (?1, ?2)", ["o1", "agent-1"])
    /// })
    /// .await?;
    /// // … store operations on `tx` …
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    pub async fn with_connection<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner
            .write(Target::Tx(self.id), move |conn: &mut Connection| {
                let result = f(conn).map_err(|e| map(CALLER_SQL, e));
                if conn.is_autocommit() {
                    return Err(StoreError::invalid_input(
                        "with_connection",
                        "the closure ended the store's transaction; commit through the transaction object",
                    ));
                }
                result
            })
            .await
    }

    /// Commits (an outermost transaction) or releases the savepoint (a nested one).
    pub async fn commit(mut self) -> Result<()> {
        self.done = true;
        match &self.savepoint {
            None => self.end("COMMIT").await,
            Some(sp) => self.run_in_tx(format!("RELEASE {sp}")).await,
        }
    }

    /// Rolls back (an outermost transaction) or back to the savepoint (a nested one).
    pub async fn rollback(mut self) -> Result<()> {
        self.done = true;
        match &self.savepoint {
            None => self.end("ROLLBACK").await,
            Some(sp) => {
                self.run_in_tx(format!("ROLLBACK TO {sp}; RELEASE {sp}"))
                    .await
            }
        }
    }

    /// The savepoint name of a nested transaction; `None` for the outermost.
    pub fn savepoint(&self) -> Option<&str> {
        self.savepoint.as_deref()
    }

    async fn end(&self, sql: &'static str) -> Result<()> {
        let (job, reply) =
            job(move |conn: &mut Connection| conn.execute_batch(sql).map_err(|e| map(sql, e)));
        self.inner.send_writer(WriterMsg::End {
            id: self.id,
            job: Some(job),
        })?;
        reply.wait().await
    }

    async fn run_in_tx(&self, sql: String) -> Result<()> {
        self.inner
            .write(Target::Tx(self.id), move |conn: &mut Connection| {
                conn.execute_batch(&sql).map_err(|e| map("SAVEPOINT", e))
            })
            .await
    }

    /// Starts a nested transaction (a savepoint) inside this one.
    pub async fn begin_nested(&self) -> Result<SqliteTransaction<'_>> {
        let sp = format!(
            "kavach_sp_{}",
            self.inner.next_savepoint.fetch_add(1, Ordering::Relaxed)
        );
        self.run_in_tx(format!("SAVEPOINT {sp}")).await?;
        Ok(SqliteTransaction {
            inner: self.inner,
            id: self.id,
            savepoint: Some(sp),
            done: false,
        })
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Fire and forget: the writer handles messages in order, so the
        // rollback happens before anything sent after this drop.
        let msg = match self.savepoint.take() {
            None => WriterMsg::End {
                id: self.id,
                job: None,
            },
            Some(sp) => {
                let (job, _reply) = job(move |conn: &mut Connection| {
                    conn.execute_batch(&format!("ROLLBACK TO {sp}; RELEASE {sp}"))
                        .map_err(|e| map("SAVEPOINT", e))
                });
                WriterMsg::Tx { id: self.id, job }
            }
        };
        let _ = self.inner.send_writer(msg);
    }
}

#[async_trait]
impl Transactional for SqliteTransaction<'_> {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        Ok(Box::new(self.begin_nested().await?))
    }
}

#[async_trait]
impl Transaction for SqliteTransaction<'_> {
    async fn commit(self: Box<Self>) -> Result<()> {
        SqliteTransaction::commit(*self).await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        SqliteTransaction::rollback(*self).await
    }
}

crate::row_store_impl!(SqliteTransaction<'_>, |s| (s.inner, Target::Tx(s.id)));

//! Transactions: the store's own, nested ones (savepoints), and the caller's
//! `mysql_async::Transaction` wrapped so that the caller's statements and ours
//! commit or roll back together.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};

use async_trait::async_trait;
use kavach_store_core::{
    Delete, Result, Row, RowStore, Select, StoreError, Sum, TableDef, Transaction, Transactional,
    Update, Upsert, Value,
};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::Inner;
use crate::error::map_general;
use crate::ops::{self, Ctx, Exec};

/// The connection a transaction runs on.
enum Link<'c> {
    /// A driver transaction this object owns (the store's own, or one the
    /// caller handed over with [`crate::MySqlStore::adopt`]); `None` once
    /// committed, rolled back or handed back.
    Owned(Option<mysql_async::Transaction<'static>>),
    /// The caller's transaction, borrowed ([`crate::MySqlStore::within`]).
    Borrowed(&'c mut (dyn Exec + 'c)),
}

struct State<'c> {
    link: Link<'c>,
    /// Set when the server aborted the transaction (deadlock) or the
    /// connection broke: every later statement would run outside it.
    aborted: bool,
}

impl<'c> State<'c> {
    fn exec(&mut self) -> Result<&mut (dyn Exec + 'c)> {
        match &mut self.link {
            Link::Owned(Some(tx)) => Ok(tx),
            Link::Owned(None) => Err(StoreError::Backend {
                message: "the transaction has ended".into(),
                source: None,
            }),
            Link::Borrowed(exec) => Ok(&mut **exec),
        }
    }
}

/// What every level of one transaction shares.
struct Shared<'c> {
    state: Mutex<State<'c>>,
    /// Savepoints of nested transactions dropped without commit or rollback;
    /// rolled back before the next statement (a destructor cannot await).
    pending: SyncMutex<Vec<u32>>,
    next_savepoint: AtomicU32,
}

impl<'c> Shared<'c> {
    fn new(link: Link<'c>) -> Arc<Self> {
        Arc::new(Shared {
            state: Mutex::new(State {
                link,
                aborted: false,
            }),
            pending: SyncMutex::new(Vec::new()),
            next_savepoint: AtomicU32::new(1),
        })
    }

    /// Locks the connection, refusing an aborted transaction, and first rolls
    /// back to the savepoints of dropped nested transactions.
    async fn lock(&self) -> Result<MutexGuard<'_, State<'c>>> {
        let mut state = self.state.lock().await;
        if state.aborted {
            return Err(aborted());
        }
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        // Rolling back to the outermost one also discards the inner ones.
        if let Some(outermost) = pending.into_iter().min() {
            let sql = format!("ROLLBACK TO SAVEPOINT kv_sp_{outermost}");
            let result = state.exec()?.plain(&sql).await.map_err(map_general);
            note(&mut state, result)?;
        }
        Ok(state)
    }
}

fn aborted() -> StoreError {
    StoreError::Serialization {
        message: "the transaction was aborted by an earlier error (deadlock or lost connection); retry it".into(),
        source: None,
    }
}

/// Marks the transaction aborted after an error that ended it on the server.
fn note<T>(state: &mut State<'_>, result: Result<T>) -> Result<T> {
    if let Err(StoreError::Serialization { .. } | StoreError::Unavailable { .. }) = &result {
        state.aborted = true;
    }
    result
}

/// Runs one primitive on the transaction's connection: `$cx` is the
/// [`Ctx`], `$ex` the connection.
macro_rules! on_conn {
    ($self:ident, |$cx:ident, $ex:ident| $body:expr) => {{
        let mut state = $self.shared.lock().await?;
        let meta = $self.store.meta();
        let $cx = &Ctx {
            meta: &meta,
            sql: &$self.store.sql,
        };
        let result = {
            let $ex = state.exec()?;
            $body.await
        };
        note(&mut state, result)
    }};
}

/// An open transaction of a [`crate::MySqlStore`]: every store operation plus
/// commit and rollback. Nested transactions ([`Transactional::begin`]) are
/// savepoints.
///
/// * From [`Transactional::begin`] on the store, or [`crate::MySqlStore::adopt`]
///   (a caller's `mysql_async::Transaction<'static>`): commit and rollback end
///   the driver transaction; dropping the object uncommitted rolls it back.
///   [`MySqlTransaction::driver`] lends the driver transaction for the caller's
///   own statements, [`MySqlTransaction::into_inner`] hands it back.
/// * From [`crate::MySqlStore::within`] (a borrowed caller's transaction): the
///   object is a savepoint inside the caller's transaction; commit releases it,
///   rollback undoes our statements since it was taken; the caller's own
///   commit or rollback decides the rest. Dropping it uncommitted cannot roll
///   back (the borrow ends with the drop): its statements stay in the caller's
///   transaction.
pub struct MySqlTransaction<'c> {
    store: Arc<Inner>,
    shared: Arc<Shared<'c>>,
    /// `None` for the outermost level of an owned transaction.
    savepoint: Option<u32>,
    done: bool,
}

impl std::fmt::Debug for MySqlTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlTransaction")
            .field("savepoint", &self.savepoint)
            .field("done", &self.done)
            .finish()
    }
}

impl<'c> MySqlTransaction<'c> {
    pub(crate) fn owned(
        store: Arc<Inner>,
        tx: mysql_async::Transaction<'static>,
    ) -> MySqlTransaction<'static> {
        MySqlTransaction {
            store,
            shared: Shared::new(Link::Owned(Some(tx))),
            savepoint: None,
            done: false,
        }
    }

    pub(crate) async fn borrowed(
        store: Arc<Inner>,
        exec: &'c mut (dyn Exec + 'c),
    ) -> Result<MySqlTransaction<'c>> {
        let shared = Shared::new(Link::Borrowed(exec));
        let n = shared.next_savepoint.fetch_add(1, Ordering::Relaxed);
        {
            let mut state = shared.lock().await?;
            state
                .exec()?
                .plain(&format!("SAVEPOINT kv_sp_{n}"))
                .await
                .map_err(map_general)?;
        }
        Ok(MySqlTransaction {
            store,
            shared,
            savepoint: Some(n),
            done: false,
        })
    }

    /// Lends the driver transaction for the caller's own statements, which
    /// then commit or roll back with ours. Not available on a transaction
    /// from [`crate::MySqlStore::within`] (the caller holds that one).
    ///
    /// The guard holds the transaction's connection: drop it before the next
    /// store operation on this transaction, which would otherwise wait for it.
    pub async fn driver(&self) -> Result<MappedMutexGuard<'_, mysql_async::Transaction<'static>>> {
        let state = self.shared.lock().await?;
        MutexGuard::try_map(state, |s| match &mut s.link {
            Link::Owned(Some(tx)) => Some(tx),
            _ => None,
        })
        .map_err(|_| StoreError::Backend {
            message: "no owned driver transaction here (borrowed from the caller, or ended)".into(),
            source: None,
        })
    }

    /// Ends this wrapper without committing and hands the driver transaction
    /// back to the caller (after rolling back nested transactions that were
    /// dropped uncommitted). Only for the outermost level of an owned transaction.
    pub async fn into_inner(mut self) -> Result<mysql_async::Transaction<'static>> {
        if self.savepoint.is_some() {
            return Err(StoreError::Backend {
                message: "a nested or borrowed transaction has no driver transaction of its own"
                    .into(),
                source: None,
            });
        }
        self.done = true;
        let mut state = self.shared.lock().await?;
        match &mut state.link {
            Link::Owned(tx) => tx.take().ok_or_else(|| StoreError::Backend {
                message: "the transaction has ended".into(),
                source: None,
            }),
            Link::Borrowed(_) => Err(StoreError::Backend {
                message: "borrowed transaction".into(),
                source: None,
            }),
        }
    }
}

impl Drop for MySqlTransaction<'_> {
    fn drop(&mut self) {
        if !self.done
            && let Some(n) = self.savepoint
        {
            self.shared
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(n);
        }
        // The outermost owned level: dropping the driver transaction (with the
        // last `Arc`) makes the driver roll it back before the connection is reused.
    }
}

#[async_trait]
impl Transactional for MySqlTransaction<'_> {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let n = self.shared.next_savepoint.fetch_add(1, Ordering::Relaxed);
        {
            let mut state = self.shared.lock().await?;
            let result = state
                .exec()?
                .plain(&format!("SAVEPOINT kv_sp_{n}"))
                .await
                .map_err(map_general);
            note(&mut state, result)?;
        }
        Ok(Box::new(MySqlTransaction {
            store: self.store.clone(),
            shared: self.shared.clone(),
            savepoint: Some(n),
            done: false,
        }))
    }
}

#[async_trait]
impl Transaction for MySqlTransaction<'_> {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        self.done = true;
        let mut state = self.shared.lock().await?;
        let result = match self.savepoint {
            Some(n) => state
                .exec()?
                .plain(&format!("RELEASE SAVEPOINT kv_sp_{n}"))
                .await
                .map_err(map_general),
            None => match &mut state.link {
                Link::Owned(tx) => match tx.take() {
                    Some(tx) => tx.commit().await.map_err(map_general),
                    None => Err(StoreError::Backend {
                        message: "the transaction has ended".into(),
                        source: None,
                    }),
                },
                Link::Borrowed(_) => Ok(()),
            },
        };
        note(&mut state, result)
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        self.done = true;
        let mut state = self.shared.state.lock().await;
        if state.aborted {
            // The server already rolled everything back; end the driver's side.
            if let Link::Owned(tx) = &mut state.link
                && let Some(tx) = tx.take()
            {
                let _ = tx.rollback().await;
            }
            return Ok(());
        }
        drop(state);
        let mut state = self.shared.lock().await?;
        let result = match self.savepoint {
            Some(n) => state
                .exec()?
                .plain(&format!("ROLLBACK TO SAVEPOINT kv_sp_{n}"))
                .await
                .map_err(map_general),
            None => match &mut state.link {
                Link::Owned(tx) => match tx.take() {
                    Some(tx) => tx.rollback().await.map_err(map_general),
                    None => Ok(()),
                },
                Link::Borrowed(_) => Ok(()),
            },
        };
        note(&mut state, result)
    }
}

#[async_trait]
impl RowStore for MySqlTransaction<'_> {
    async fn insert_rows(&self, table: &'static TableDef, rows: Vec<Row>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let per = ops::rows_per_statement(table);
        if rows.len() <= per {
            return on_conn!(self, |cx, ex| async move {
                ops::check_rows(cx, table, &rows)?;
                ops::insert_chunk(cx, ex, table, rows).await
            });
        }
        // Several statements: all or none through a savepoint.
        let nested = self.begin().await?;
        for chunk in rows.chunks(per) {
            nested.insert_rows(table, chunk.to_vec()).await?;
        }
        nested.commit().await
    }

    async fn select_rows(&self, query: &Select) -> Result<Vec<Row>> {
        on_conn!(self, |cx, ex| ops::select(cx, ex, query, false))
    }

    async fn count_rows(
        &self,
        table: &'static TableDef,
        filter: &kavach_store_core::Cond,
    ) -> Result<u64> {
        on_conn!(self, |cx, ex| ops::count(cx, ex, table, filter))
    }

    async fn update_rows(&self, update: &Update) -> Result<u64> {
        on_conn!(self, |cx, ex| ops::update(cx, ex, update))
    }

    async fn update_rows_returning(&self, update: &Update) -> Result<Vec<Row>> {
        on_conn!(self, |cx, ex| ops::update_returning_in_tx(cx, ex, update))
    }

    async fn delete_rows(&self, delete: &Delete) -> Result<u64> {
        on_conn!(self, |cx, ex| ops::delete(cx, ex, delete))
    }

    async fn delete_rows_returning(&self, delete: &Delete) -> Result<Vec<Row>> {
        on_conn!(self, |cx, ex| ops::delete_returning_in_tx(cx, ex, delete))
    }

    async fn upsert_row(&self, upsert: &Upsert) -> Result<Row> {
        on_conn!(self, |cx, ex| ops::upsert_in_tx(cx, ex, upsert))
    }

    async fn sum_rows(&self, sum: &Sum) -> Result<Vec<(Value, i64)>> {
        on_conn!(self, |cx, ex| ops::sum(cx, ex, sum))
    }
}

//! Transactions.
//!
//! A top-level transaction holds the store's writer lock from `begin` to
//! commit, rollback or drop, so transactions and single-statement writes are
//! serialized (the isolation of SQLite, stronger than any SQL default).
//! It works on its own copy of the committed state (O(1): persistent maps);
//! commit publishes the copy, rollback or drop forgets it. Readers outside
//! keep reading the committed state and never wait for the lock.
//!
//! A nested transaction is a savepoint: it remembers the state of the
//! enclosing transaction when it began and works on that same state;
//! rollback (or drop) puts the remembered state back, commit keeps the
//! changes. Like `ROLLBACK TO SAVEPOINT`, a rollback also undoes whatever was
//! done through the enclosing transaction while the nested one was open.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use kavach_store_core::{Result, Transaction, Transactional};
use tokio::sync::OwnedMutexGuard;

use crate::MemoryStore;
use crate::schema::Schema;
use crate::state::State;

/// An open transaction of a [`MemoryStore`] (see [`Transactional::begin`]).
///
/// It offers every store operation (it is a [`kavach_store_core::RowStore`]),
/// sees its own uncommitted changes, and rolls back when dropped without
/// [`Transaction::commit`]. A failed statement inside it changes nothing
/// and leaves the transaction usable.
///
/// A top-level transaction holds the store's writer lock until it ends:
/// other writers wait (up to the lock timeout), readers outside see the
/// committed data only. `begin` on a transaction opens a savepoint: commit
/// keeps its changes in the enclosing transaction, rollback or drop undoes
/// everything done since it began (including through the enclosing
/// transaction meanwhile, as `ROLLBACK TO SAVEPOINT` does).
///
/// ```
/// use kavach_store_core::prelude::*;
/// use kavach_store_memory::MemoryStore;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), StoreError> {
/// let store = MemoryStore::new();
/// let tx = store.begin().await?;
/// tx.create(User { id: "u1".into(), email: "a@example.com".into(), ..Default::default() }).await?;
/// {
///     let savepoint = tx.begin().await?;
///     savepoint.delete::<User>("u1").await?;
///     savepoint.rollback().await?;
/// }
/// assert!(store.get::<User>("u1").await?.is_none(), "not committed yet");
/// tx.commit().await?;
/// assert!(store.get::<User>("u1").await?.is_some());
/// # Ok(()) }
/// ```
pub struct MemoryTransaction<'a> {
    store: MemoryStore,
    scope: Scope<'a>,
}

enum Scope<'a> {
    Top {
        state: Mutex<State>,
        // Released when the transaction ends, after commit has published.
        _writer: OwnedMutexGuard<()>,
    },
    Savepoint {
        state: &'a Mutex<State>,
        /// The state at `begin`; `None` once committed.
        saved: Option<State>,
        depth: usize,
    },
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic inside a statement never leaves a half-written state behind
    // (statements write to a copy), so a poisoned lock is still consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'a> MemoryTransaction<'a> {
    pub(crate) fn top(
        store: MemoryStore,
        state: State,
        writer: OwnedMutexGuard<()>,
    ) -> MemoryTransaction<'static> {
        MemoryTransaction {
            store,
            scope: Scope::Top {
                state: Mutex::new(state),
                _writer: writer,
            },
        }
    }

    fn cell(&self) -> &Mutex<State> {
        match &self.scope {
            Scope::Top { state, .. } => state,
            Scope::Savepoint { state, .. } => state,
        }
    }

    /// Nesting depth: 0 for a top-level transaction, 1 for a savepoint in
    /// it, and so on.
    pub fn depth(&self) -> usize {
        match &self.scope {
            Scope::Top { .. } => 0,
            Scope::Savepoint { depth, .. } => *depth,
        }
    }

    pub(crate) fn schema(&self) -> &Schema {
        self.store.schema()
    }

    /// Runs a read on the transaction's current state.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Schema, &State) -> Result<R>) -> Result<R> {
        let state = lock(self.cell());
        f(self.schema(), &state)
    }

    /// Runs a write on a copy of the transaction's state and keeps the copy
    /// only when the statement succeeded (statement atomicity).
    pub(crate) async fn write<R>(
        &self,
        f: impl FnOnce(&Schema, &mut State) -> Result<R>,
    ) -> Result<R> {
        let mut state = lock(self.cell());
        let mut copy = state.clone();
        let out = f(self.schema(), &mut copy)?;
        *state = copy;
        Ok(out)
    }
}

impl Drop for MemoryTransaction<'_> {
    fn drop(&mut self) {
        if let Scope::Savepoint {
            state,
            saved: Some(saved),
            ..
        } = &mut self.scope
        {
            *lock(state) = std::mem::replace(saved, State { tables: Vec::new() });
        }
        // A top-level transaction's copy is simply forgotten.
    }
}

impl fmt::Debug for MemoryTransaction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTransaction")
            .field("depth", &self.depth())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Transactional for MemoryTransaction<'_> {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let cell = self.cell();
        let saved = lock(cell).clone();
        Ok(Box::new(MemoryTransaction {
            store: self.store.clone(),
            scope: Scope::Savepoint {
                state: cell,
                saved: Some(saved),
                depth: self.depth() + 1,
            },
        }))
    }
}

#[async_trait]
impl Transaction for MemoryTransaction<'_> {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        match &mut self.scope {
            Scope::Top { state, .. } => {
                let state = lock(state).clone();
                self.store.publish(state);
            }
            Scope::Savepoint { saved, .. } => *saved = None,
        }
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        // Drop restores a savepoint and forgets a top-level copy.
        drop(self);
        Ok(())
    }
}

impl_row_store!(MemoryTransaction<'_>);

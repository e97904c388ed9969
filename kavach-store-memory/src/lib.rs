//! # kavach-store-memory
//!
//! The in-memory backend of kavach-store: every store trait of
//! [`kavach_store_core`], with the semantics of the SQL backends, in a
//! process-local store that needs no setup. It is meant for unit tests of
//! code that uses kavach-store, and for embedding.
//!
//! ```
//! use kavach_store_core::prelude::*;
//! use kavach_store_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), StoreError> {
//! let store = MemoryStore::new();
//! let user = store.create(User { id: "u1".into(), email: "ada@example.com".into(), ..Default::default() }).await?;
//! assert_eq!(store.get::<User>("u1").await?, Some(user));
//!
//! // Unique constraints, references and cascades behave as in SQL.
//! let err = store
//!     .create(User { id: "u2".into(), email: "ada@example.com".into(), ..Default::default() })
//!     .await
//!     .unwrap_err();
//! assert!(err.is_conflict());
//! # Ok(()) }
//! ```
//!
//! ## Semantics
//!
//! Everything is driven by the [`TableDef`] metadata of the tables (no
//! per-table code):
//!
//! * primary keys and unique constraints give [`StoreError::Conflict`](kavach_store_core::StoreError::Conflict) with
//!   the constraint name (`<table>_pkey` for the primary key); rows with a
//!   `NULL` in a unique key never conflict;
//! * foreign keys are checked on insert and on update of the referencing
//!   column (`NULL` is not checked) and give [`StoreError::Reference`](kavach_store_core::StoreError::Reference) named
//!   `<table>_<column>_fkey`, with `table` the table the statement ran on;
//!   deleting a parent deletes `ON DELETE CASCADE` children recursively and
//!   is refused while `NO ACTION` children remain (the whole statement fails);
//!   changing a referenced column while children point at it is refused;
//! * values are stored as a SQL database would: type-checked against the
//!   column kind, `NOT NULL` enforced (`InvalidInput`), timestamps truncated
//!   to milliseconds, integers 0/1 accepted for booleans;
//! * comparisons follow SQL: any comparison with `NULL` is false; text
//!   compares by bytes; `LIKE` is ASCII case-insensitive;
//! * unordered results come in insertion order; ordered ones by the given
//!   columns, ties in insertion order.
//!
//! ## Speed
//!
//! Tables are persistent (structurally shared) maps: a primary-key map, one
//! map per unique constraint, and an index per declared index and per
//! foreign-key column. A condition that pins all columns of a key or index
//! with `=` (or a short `IN` list) is a lookup; anything else scans.
//! Snapshots, statement atomicity, `begin` and `commit` cost the same
//! whatever the amount of data.
//!
//! ## Transactions and concurrency
//!
//! Reads never wait: they work on the committed snapshot of the moment.
//! Writes (single statements and whole transactions) take one writer lock,
//! so they are serialized; a writer that cannot get it within the lock
//! timeout (5 s by default, see [`MemoryStoreBuilder::lock_timeout`]) fails
//! with [`StoreError::Unavailable`](kavach_store_core::StoreError::Unavailable). Beware of writing through the store
//! while holding a transaction of it in the same task: that waits for the
//! transaction to end, which it cannot, and times out. Nested transactions
//! are savepoints (see [`MemoryTransaction`]).
#![warn(missing_docs)]

#[macro_use]
mod macros;
mod cond;
mod error;
mod exec;
mod row;
mod schema;
mod state;
mod tx;

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use kavach_store_core::{KavachStore, Result, TableDef, Transaction, Transactional};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

pub use tx::MemoryTransaction;

use crate::schema::{KeyHasher, Schema};
use crate::state::State;

/// The default time a writer waits for the writer lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// An in-memory store of the whole KavachOS data model.
///
/// Cloning is cheap and the clones share the same data (like cloning a
/// connection pool). To get an independent copy of the current data, e.g. a
/// seeded fixture per test, use [`MemoryStore::fork`].
///
/// ```
/// use kavach_store_core::prelude::*;
/// use kavach_store_memory::MemoryStore;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), StoreError> {
/// let store = MemoryStore::new();
/// let shared = store.clone();
/// store.create(User { id: "u1".into(), email: "a@example.com".into(), ..Default::default() }).await?;
/// assert_eq!(shared.count::<User>(Cond::All).await?, 1);
///
/// let fork = store.fork();
/// fork.delete::<User>("u1").await?;
/// assert_eq!(store.count::<User>(Cond::All).await?, 1);
/// assert_eq!(fork.count::<User>(Cond::All).await?, 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    schema: Arc<Schema>,
    /// The committed state; readers clone the `Arc` and let go of the lock.
    committed: RwLock<Arc<State>>,
    /// Serializes writers; a transaction holds it from begin to end.
    writer: Arc<AsyncMutex<()>>,
    lock_timeout: Duration,
}

/// Configures a [`MemoryStore`].
///
/// ```
/// use std::time::Duration;
/// use kavach_store_memory::MemoryStore;
///
/// let store = MemoryStore::builder().lock_timeout(Duration::from_millis(200)).build();
/// # drop(store);
/// ```
#[derive(Clone, Debug)]
pub struct MemoryStoreBuilder {
    tables: Vec<&'static TableDef>,
    lock_timeout: Duration,
    hasher: KeyHasher,
}

impl MemoryStoreBuilder {
    /// How long a writer (a single statement or `begin`) waits for another
    /// transaction to end before failing with [`StoreError::Unavailable`](kavach_store_core::StoreError::Unavailable).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Adds a table of your own (a [`TableDef`] with `'static` lifetime, e.g.
    /// from a `LazyLock`) next to the 48 KavachOS tables. Its references must
    /// name tables of the store.
    pub fn table(mut self, def: &'static TableDef) -> Self {
        self.tables.push(def);
        self
    }

    /// Makes every key hash collide, so tests exercise collision handling.
    #[cfg(test)]
    pub(crate) fn colliding_hashes(mut self) -> Self {
        self.hasher = KeyHasher::Colliding;
        self
    }

    /// Builds the store.
    ///
    /// # Panics
    /// When a table definition is inconsistent: a key, index or reference
    /// names a column the table does not have, or a reference names a table
    /// that is not in the store.
    pub fn build(self) -> MemoryStore {
        let schema = Arc::new(Schema::new(&self.tables, self.hasher));
        let state = State::new(&schema);
        MemoryStore {
            inner: Arc::new(Inner {
                schema,
                committed: RwLock::new(Arc::new(state)),
                writer: Arc::new(AsyncMutex::new(())),
                lock_timeout: self.lock_timeout,
            }),
        }
    }
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        MemoryStoreBuilder {
            tables: kavach_store_core::all_tables().to_vec(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            hasher: KeyHasher::Random(std::hash::RandomState::new()),
        }
    }
}

impl MemoryStore {
    /// An empty store with every KavachOS table.
    pub fn new() -> MemoryStore {
        MemoryStoreBuilder::default().build()
    }

    /// A builder to set the lock timeout or add tables.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// An independent store holding a copy of this store's committed data
    /// (O(1): the data is shared until either side writes).
    pub fn fork(&self) -> MemoryStore {
        MemoryStore {
            inner: Arc::new(Inner {
                schema: self.inner.schema.clone(),
                committed: RwLock::new(self.snapshot()),
                writer: Arc::new(AsyncMutex::new(())),
                lock_timeout: self.inner.lock_timeout,
            }),
        }
    }

    /// The configured lock timeout.
    pub fn lock_timeout(&self) -> Duration {
        self.inner.lock_timeout
    }

    /// Number of rows in `table` (committed data).
    pub fn row_count(&self, table: &TableDef) -> Result<usize> {
        let t = self.inner.schema.table(table)?;
        Ok(self.snapshot().tables[t].rows.len())
    }

    pub(crate) fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    fn snapshot(&self) -> Arc<State> {
        self.inner
            .committed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn publish(&self, state: State) {
        *self
            .inner
            .committed
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
    }

    async fn lock_writer(&self) -> Result<OwnedMutexGuard<()>> {
        if let Ok(guard) = self.inner.writer.clone().try_lock_owned() {
            return Ok(guard);
        }
        let timeout = self.inner.lock_timeout;
        tokio::time::timeout(timeout, self.inner.writer.clone().lock_owned())
            .await
            .map_err(|_| error::lock_timeout(timeout))
    }

    pub(crate) fn read<R>(&self, f: impl FnOnce(&Schema, &State) -> Result<R>) -> Result<R> {
        f(self.schema(), &self.snapshot())
    }

    /// One statement: serialized with other writers, applied to a copy,
    /// published only when it succeeded.
    pub(crate) async fn write<R>(
        &self,
        f: impl FnOnce(&Schema, &mut State) -> Result<R>,
    ) -> Result<R> {
        let _writer = self.lock_writer().await?;
        let mut state = State::clone(&self.snapshot());
        let out = f(self.schema(), &mut state)?;
        self.publish(state);
        Ok(out)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.snapshot();
        let rows: usize = state.tables.iter().map(|t| t.rows.len()).sum();
        f.debug_struct("MemoryStore")
            .field("tables", &state.tables.len())
            .field("rows", &rows)
            .field("lock_timeout", &self.inner.lock_timeout)
            .finish()
    }
}

#[async_trait]
impl Transactional for MemoryStore {
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let writer = self.lock_writer().await?;
        let state = State::clone(&self.snapshot());
        Ok(Box::new(MemoryTransaction::top(
            self.clone(),
            state,
            writer,
        )))
    }
}

impl KavachStore for MemoryStore {
    fn backend_name(&self) -> &'static str {
        "memory"
    }
}

impl_row_store!(MemoryStore);

#[cfg(test)]
mod tests;

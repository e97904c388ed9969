//! The backend contract ([`RowStore`], [`Transactional`], [`Transaction`]),
//! the umbrella [`KavachStore`], and generic record access ([`RecordStore`]).
//!
//! A backend implements [`RowStore`] (a handful of row-level primitives) and
//! [`Transactional`]. Every domain trait ([`crate::AgentStore`],
//! [`crate::AuditStore`], …) is implemented once, here in the core, for every
//! `RowStore`, so all backends share one definition of each operation's
//! semantics, and a transaction object, itself a `RowStore`, offers every
//! operation too.

use async_trait::async_trait;

use crate::error::{Result, StoreError};
use crate::query::{Assign, Cond, Delete, OrderBy, Select, Sum, Update, Upsert};
use crate::record::{Patch, Record};
use crate::schema::TableDef;
use crate::value::{Row, Value};

/// Row-level primitives every backend implements.
///
/// All methods are atomic on their own. Errors use the kinds of
/// [`StoreError`]: a unique violation is `Conflict`, a missing or still
/// referenced parent is `Reference`.
#[async_trait]
pub trait RowStore: Transactional + Send + Sync {
    /// Inserts rows (all or none).
    async fn insert_rows(&self, table: &'static TableDef, rows: Vec<Row>) -> Result<()>;
    /// Selects whole rows.
    async fn select_rows(&self, query: &Select) -> Result<Vec<Row>>;
    /// Counts rows matching `filter`.
    async fn count_rows(&self, table: &'static TableDef, filter: &Cond) -> Result<u64>;
    /// Updates rows, returning how many matched.
    async fn update_rows(&self, update: &Update) -> Result<u64>;
    /// Updates rows, returning them as they are after the update. Concurrent
    /// callers racing on the same rows with a condition that the update makes
    /// false (e.g. `used = false` → `used = true`) see each row returned to
    /// exactly one of them.
    async fn update_rows_returning(&self, update: &Update) -> Result<Vec<Row>>;
    /// Deletes rows, returning how many.
    async fn delete_rows(&self, delete: &Delete) -> Result<u64>;
    /// Deletes rows, returning them; each row is returned to exactly one of
    /// several concurrent callers.
    async fn delete_rows_returning(&self, delete: &Delete) -> Result<Vec<Row>>;
    /// Atomic insert-or-update; see [`Upsert`].
    async fn upsert_row(&self, upsert: &Upsert) -> Result<Row>;
    /// Integer sums, optionally grouped; see [`Sum`].
    async fn sum_rows(&self, sum: &Sum) -> Result<Vec<(Value, i64)>>;
}

/// Starting transactions.
///
/// ```
/// use kavach_store_core::prelude::*;
///
/// /// Creates a user and their first API key, both or neither.
/// async fn onboard(store: &dyn KavachStore, user: User, key: ApiKey) -> Result<(), StoreError> {
///     let tx = store.begin().await?;
///     tx.create_user(user).await?;
///     tx.create_api_key(key).await?; // an error here drops `tx`: rolled back
///     tx.commit().await
/// }
/// ```
#[async_trait]
pub trait Transactional: Send + Sync {
    /// Starts a transaction. On a transaction this starts a nested one (a
    /// savepoint): committing it keeps its changes in the outer transaction,
    /// rolling it back undoes only them.
    ///
    /// Dropping the returned object without [`Transaction::commit`] rolls it back.
    async fn begin(&self) -> Result<Box<dyn Transaction + '_>>;
}

/// An open transaction: every store operation, plus commit and rollback.
#[async_trait]
pub trait Transaction: RowStore {
    /// Makes the transaction's changes permanent (or, for a nested one, part
    /// of the outer transaction).
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Discards the transaction's changes.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// The umbrella trait services hold as `Arc<dyn KavachStore>`.
///
/// Every domain trait is implemented for every [`RowStore`], so a
/// `dyn KavachStore` (and a transaction) offers all of them; bring them into
/// scope with `use kavach_store_core::prelude::*`.
pub trait KavachStore: RowStore + std::fmt::Debug {
    /// A short name of the backend (`"memory"`, `"sqlite"`, …).
    fn backend_name(&self) -> &'static str;

    /// Migrations and schema introspection, where the backend has a schema
    /// to manage (SQL backends); `None` otherwise.
    fn admin(&self) -> Option<&dyn crate::admin::SchemaAdmin> {
        None
    }
}

/// Runs `f` in a transaction: commits when it returns `Ok`, rolls back when it
/// returns `Err` (and when it panics, through drop).
///
/// ```
/// # use kavach_store_core::prelude::*;
/// # async fn demo(store: &dyn KavachStore) -> Result<(), StoreError> {
/// let count = transaction(store, |tx| Box::pin(async move {
///     tx.count::<User>(Cond::All).await
/// })).await?;
/// # let _ = count; Ok(()) }
/// ```
pub async fn transaction<'s, S, T, F>(store: &'s S, f: F) -> Result<T>
where
    S: Transactional + ?Sized,
    F: for<'t> FnOnce(
        &'t dyn Transaction,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<T>> + Send + 't>,
    >,
{
    let tx = store.begin().await?;
    match f(tx.as_ref()).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(e) => {
            // The caller's error is the one that matters; a failed rollback
            // ends the transaction anyway.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Generic access to any table by its model type: create, get by key,
/// find, update with a patch, delete, count.
///
/// Implemented for every [`RowStore`], including `dyn KavachStore` and
/// transactions. The named domain methods (`create_agent`, …) are built on it.
#[async_trait]
pub trait RecordStore: RowStore {
    /// Inserts a record and returns it as written: the contract's precision,
    /// timestamps truncated to milliseconds (a backend that stores a column
    /// more coarsely, like SQLite's seconds, returns that precision only when
    /// the row is read back). `Conflict` on a duplicate key, `Reference` on a
    /// missing parent.
    async fn create<R: Record>(&self, record: R) -> Result<R> {
        let row = record.to_row();
        self.insert_rows(R::table_def(), vec![row.clone()]).await?;
        R::from_row(row)
    }

    /// Inserts many records in one statement (all or none).
    async fn create_many<R: Record>(&self, records: &[R]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.insert_rows(R::table_def(), records.iter().map(Record::to_row).collect())
            .await
    }

    /// The record with this primary key, if any.
    async fn get<R: Record>(&self, key: &str) -> Result<Option<R>> {
        let def = R::table_def();
        self.find_first(Cond::eq(def.primary_key, key), &[]).await
    }

    /// The first record matching `filter` in `order`.
    async fn find_first<R: Record>(
        &self,
        filter: Cond,
        order: &'static [OrderBy],
    ) -> Result<Option<R>> {
        let query = Select::new(R::table_def(), filter).order(order).limit(1);
        let mut rows = self.select_rows(&query).await?;
        rows.pop().map(R::from_row).transpose()
    }

    /// All records matching `filter` in `order`, up to `limit`.
    async fn find_all<R: Record>(
        &self,
        filter: Cond,
        order: &'static [OrderBy],
        limit: Option<u64>,
    ) -> Result<Vec<R>> {
        let mut query = Select::new(R::table_def(), filter).order(order);
        query.limit = limit;
        self.select_rows(&query)
            .await?
            .into_iter()
            .map(R::from_row)
            .collect()
    }

    /// Applies a patch to the record with this key and returns the record as
    /// updated. `NotFound` when there is no such row.
    async fn update<R: Record>(&self, key: &str, patch: &R::Patch) -> Result<R> {
        let def = R::table_def();
        let set: Vec<Assign> = patch
            .assignments()
            .into_iter()
            .map(|(column, value)| Assign::Set(column, value))
            .collect();
        if set.iter().any(|a| a.column() == def.primary_key) {
            return Err(StoreError::invalid_input(
                format!("{}.{}", def.name, def.primary_key),
                "the primary key cannot be changed by a patch",
            ));
        }
        if set.is_empty() {
            return self.get(key).await?.ok_or_else(|| StoreError::NotFound {
                table: def.name,
                key: key.to_string(),
            });
        }
        let update = Update {
            table: def,
            filter: Cond::eq(def.primary_key, key),
            set,
        };
        match self.update_rows_returning(&update).await?.pop() {
            Some(row) => R::from_row(row),
            None => Err(StoreError::NotFound {
                table: def.name,
                key: key.to_string(),
            }),
        }
    }

    /// Updates every row matching `filter`; returns how many.
    async fn update_where<R: Record>(&self, filter: Cond, set: Vec<Assign>) -> Result<u64> {
        self.update_rows(&Update {
            table: R::table_def(),
            filter,
            set,
        })
        .await
    }

    /// Updates rows matching `filter` and returns them as updated.
    async fn update_where_returning<R: Record>(
        &self,
        filter: Cond,
        set: Vec<Assign>,
    ) -> Result<Vec<R>> {
        let rows = self
            .update_rows_returning(&Update {
                table: R::table_def(),
                filter,
                set,
            })
            .await?;
        rows.into_iter().map(R::from_row).collect()
    }

    /// Deletes the record with this key. `NotFound` when there is none.
    async fn delete<R: Record>(&self, key: &str) -> Result<()> {
        let def = R::table_def();
        match self
            .delete_where::<R>(Cond::eq(def.primary_key, key))
            .await?
        {
            0 => Err(StoreError::NotFound {
                table: def.name,
                key: key.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Deletes every row matching `filter`; returns how many.
    async fn delete_where<R: Record>(&self, filter: Cond) -> Result<u64> {
        self.delete_rows(&Delete {
            table: R::table_def(),
            filter,
        })
        .await
    }

    /// Deletes rows matching `filter` and returns them (consume-once).
    async fn delete_where_returning<R: Record>(&self, filter: Cond) -> Result<Vec<R>> {
        let rows = self
            .delete_rows_returning(&Delete {
                table: R::table_def(),
                filter,
            })
            .await?;
        rows.into_iter().map(R::from_row).collect()
    }

    /// Counts rows matching `filter`.
    async fn count<R: Record>(&self, filter: Cond) -> Result<u64> {
        self.count_rows(R::table_def(), &filter).await
    }
}

impl<T: RowStore + ?Sized> RecordStore for T {}

//! The errors the engine raises, named the way the SQL backends name them, so
//! a test written against the memory store sees the same kinds and
//! constraint names as against PostgreSQL.

use std::time::Duration;

use kavach_store_core::StoreError;

/// A unique or primary-key violation.
pub(crate) fn conflict(table: &'static str, constraint: &str) -> StoreError {
    StoreError::Conflict {
        table,
        constraint: constraint.to_string(),
        source: None,
    }
}

/// A foreign-key violation (missing parent, or a parent still referenced).
/// `table` is the table the statement was run on.
pub(crate) fn reference(table: &'static str, constraint: &str) -> StoreError {
    StoreError::Reference {
        table,
        constraint: constraint.to_string(),
        source: None,
    }
}

/// PostgreSQL's default name of a foreign-key constraint.
pub(crate) fn fk_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_fkey")
}

/// The writer lock could not be had in time (another transaction is open).
pub(crate) fn lock_timeout(timeout: Duration) -> StoreError {
    StoreError::Unavailable {
        message: format!(
            "memory store: the writer lock was not released within {timeout:?} \
             (is a transaction of this store still open, perhaps in this very task?)"
        ),
        source: None,
    }
}

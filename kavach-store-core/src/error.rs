//! The one error type of every store operation.

use std::error::Error as StdError;

/// A boxed driver error kept as [`std::error::Error::source`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything a store operation can fail with.
///
/// Backends map driver error **codes** (SQLSTATE, MySQL error numbers, SQLite
/// extended result codes) to these kinds, never message text. The driver error
/// is kept as the [`source`](std::error::Error::source).
///
/// The kind is the contract; the `table` and `constraint` details are what
/// the database reports (for a foreign key refusing a parent's delete, some
/// databases name the child table) and are meant for people, not matching.
/// A `NULL` in a `NOT NULL` column and an update without assignments are
/// [`StoreError::InvalidInput`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row an update or delete addressed does not exist.
    #[error("{table}: no row with key {key}")]
    NotFound {
        /// Table name.
        table: &'static str,
        /// The key that was looked up.
        key: String,
    },
    /// A unique constraint or primary key was violated.
    #[error("{table}: unique constraint {constraint} violated")]
    Conflict {
        /// Table name.
        table: &'static str,
        /// The constraint or the columns it covers, as far as the backend knows.
        constraint: String,
        /// Driver error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A foreign key was violated: a referenced row is missing, or a row is
    /// still referenced by another table.
    #[error("{table}: foreign key {constraint} violated")]
    Reference {
        /// Table name.
        table: &'static str,
        /// The constraint or the column, as far as the backend knows.
        constraint: String,
        /// Driver error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// The input cannot be stored as given (too long, out of range, bad cursor, …).
    #[error("invalid input for {field}: {reason}")]
    InvalidInput {
        /// The field (`table.column`, or a parameter name).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A stored row could not be decoded into its model type.
    #[error("{table}.{column}: cannot decode stored value: {reason}")]
    Decode {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// The database is unreachable, the pool timed out, or a lock could not be
    /// had in time. Usually worth retrying.
    #[error("store unavailable: {message}")]
    Unavailable {
        /// What happened.
        message: String,
        /// Driver error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A transaction lost a serialization conflict or a deadlock (SQLSTATE
    /// 40001/40P01, MySQL 1213/1205, `SQLITE_BUSY`): retry the whole transaction.
    #[error("transaction conflict: {message}")]
    Serialization {
        /// What happened.
        message: String,
        /// Driver error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// Any other driver or backend failure.
    #[error("backend error: {message}")]
    Backend {
        /// What happened.
        message: String,
        /// Driver error, if any.
        #[source]
        source: Option<BoxError>,
    },
}

impl StoreError {
    /// True when retrying the operation (or the whole transaction) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. } | StoreError::Serialization { .. }
        )
    }

    /// True for [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// True for [`StoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// True for [`StoreError::Reference`].
    pub fn is_reference(&self) -> bool {
        matches!(self, StoreError::Reference { .. })
    }

    /// True for [`StoreError::InvalidInput`].
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, StoreError::InvalidInput { .. })
    }

    /// A [`StoreError::Backend`] with a message and the driver error.
    pub fn backend(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        StoreError::Backend {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A [`StoreError::InvalidInput`].
    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

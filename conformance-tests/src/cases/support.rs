//! Helpers shared by the pagination, transaction, concurrency, error and
//! expiry cases, on top of the record builders of [`super::builders`]:
//! whole-second instants (boundary checks hold on backends that store
//! seconds), error-kind assertions and row counts.

use chrono::{DateTime, TimeZone, Utc};
use kavach_store_core::prelude::*;

use super::builders as b;
use crate::fixtures::{self, Variant, fix_string_lists, insert_with_parents, sample_row};

/// A whole-second instant `secs` seconds after a fixed base (no
/// milliseconds, so "at the boundary" means the same on every backend).
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_774_234_575 + secs, 0)
        .single()
        .expect("valid instant")
}

/// A fresh lowercase ASCII id with a readable prefix.
pub fn uid(prefix: &str) -> String {
    fixtures::id(prefix)
}

/// An audit entry ([`b::audit`]) at `timestamp`.
pub fn audit_at(agent_id: &str, user_id: &str, timestamp: DateTime<Utc>) -> AuditLog {
    AuditLog {
        timestamp,
        ..b::audit(agent_id, user_id, 0)
    }
}

/// A cost event ([`b::cost_event`]) recorded at `recorded_at`.
pub fn cost_at(agent_id: &str, recorded_at: DateTime<Utc>) -> CostEvent {
    CostEvent {
        recorded_at,
        ..b::cost_event(agent_id, 0, 1_500)
    }
}

/// A login ([`b::login`]) at `timestamp`.
pub fn login_at(user_id: &str, timestamp: DateTime<Utc>) -> LoginHistory {
    LoginHistory {
        timestamp,
        ..b::login(user_id, 0)
    }
}

/// A stream event ([`b::stream_event`]) at `timestamp`.
pub fn event_at(r#type: &str, timestamp: DateTime<Utc>) -> StreamEvent {
    StreamEvent {
        timestamp,
        ..b::stream_event(r#type, 0)
    }
}

/// Which kind of error an operation must fail with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`StoreError::NotFound`]
    NotFound,
    /// [`StoreError::Conflict`]
    Conflict,
    /// [`StoreError::Reference`]
    Reference,
    /// [`StoreError::InvalidInput`]
    InvalidInput,
}

/// The kind of an error, `None` for the other kinds.
pub fn kind_of(err: &StoreError) -> Option<Kind> {
    match err {
        StoreError::NotFound { .. } => Some(Kind::NotFound),
        StoreError::Conflict { .. } => Some(Kind::Conflict),
        StoreError::Reference { .. } => Some(Kind::Reference),
        StoreError::InvalidInput { .. } => Some(Kind::InvalidInput),
        _ => None,
    }
}

/// Asserts that `result` failed with `kind` (which is never retryable) and
/// returns the error.
pub fn expect_err<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    kind: Kind,
    what: &str,
) -> StoreError {
    let err = match result {
        Ok(value) => panic!("{what}: expected {kind:?}, got Ok({value:?})"),
        Err(err) => err,
    };
    assert_eq!(
        kind_of(&err),
        Some(kind),
        "{what}: expected {kind:?}, got {err:?}"
    );
    assert!(
        !err.is_retryable(),
        "{what}: a {kind:?} error must not be retryable: {err:?}"
    );
    assert_eq!(
        err.is_not_found(),
        kind == Kind::NotFound,
        "{what}: is_not_found() of {err:?}"
    );
    assert_eq!(
        err.is_conflict(),
        kind == Kind::Conflict,
        "{what}: is_conflict() of {err:?}"
    );
    assert_eq!(
        err.is_reference(),
        kind == Kind::Reference,
        "{what}: is_reference() of {err:?}"
    );
    assert_eq!(
        err.is_invalid_input(),
        kind == Kind::InvalidInput,
        "{what}: is_invalid_input() of {err:?}"
    );
    assert!(!err.to_string().is_empty(), "{what}: empty error message");
    err
}

/// Number of rows of `table` matching `filter`.
pub async fn count(store: &dyn KavachStore, table: &'static TableDef, filter: Cond) -> u64 {
    store
        .count_rows(table, &filter)
        .await
        .unwrap_or_else(|e| panic!("count {}: {e}", table.name))
}

/// Number of rows in `table`.
pub async fn count_all(store: &dyn KavachStore, table: &'static TableDef) -> u64 {
    count(store, table, Cond::All).await
}

/// A row of `table` whose every foreign key (nullable ones too) points at a
/// freshly inserted parent; the row itself is not inserted.
pub async fn row_with_parents(
    store: &dyn KavachStore,
    table: &'static TableDef,
    variant: Variant,
) -> Row {
    let mut parents: Vec<(&str, Value)> = Vec::new();
    for fk in &table.foreign_keys {
        let parent = table_by_name(fk.parent_table).expect("parent table");
        let parent_row = insert_with_parents(store, parent, Variant::Minimal).await;
        parents.push((
            fk.column,
            parent_row[parent.expect_column(fk.parent_column)].clone(),
        ));
    }
    let mut row = sample_row(table, variant, &parents);
    fix_string_lists(table, &mut row, variant);
    row
}

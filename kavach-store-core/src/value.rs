//! Column values: the neutral form every backend reads and writes.
//!
//! Model structs convert to and from a [`Row`] (one [`Value`] per column, in
//! the table's column order) through [`ColumnValue`]. Backends only ever see
//! values and [`ColumnKind`]s, which is what lets one generic row mapper per
//! backend serve all 48 tables.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, TimeZone, Utc};

use crate::error::StoreError;

/// One row of a table: one value per column, in [`crate::TableDef::columns`] order.
pub type Row = Vec<Value>;

/// A column value in its logical form.
///
/// Timestamps are always UTC with millisecond precision (see [`truncate_to_millis`]);
/// how a backend stores them (seconds, milliseconds, `TIMESTAMPTZ`, …) is the
/// backend's business.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean (SQLite/MySQL store 0/1).
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// UTF-8 text.
    Text(String),
    /// An instant, truncated to milliseconds.
    Timestamp(DateTime<Utc>),
    /// A JSON document (SQLite TEXT, PostgreSQL JSONB, MySQL JSON).
    Json(serde_json::Value),
}

impl Value {
    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The text, if this is [`Value::Text`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is [`Value::Int`].
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The instant, if this is [`Value::Timestamp`].
    pub fn as_timestamp(&self) -> Option<DateTime<Utc>> {
        match self {
            Value::Timestamp(t) => Some(*t),
            _ => None,
        }
    }

    /// Total order used for sorting and range comparisons by the in-memory
    /// backend and for keyset cursors: `Null` sorts first, then values of the
    /// same variant compare naturally. Values of different variants compare by
    /// variant (never happens for values of one column).
    pub fn sql_cmp(&self, other: &Value) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Less,
            (_, Value::Null) => Ordering::Greater,
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
            (Value::Json(a), Value::Json(b)) => a.to_string().cmp(&b.to_string()),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Text(_) => 3,
            Value::Timestamp(_) => 4,
            Value::Json(_) => 5,
        }
    }

    /// A short name of the variant, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Text(_) => "text",
            Value::Timestamp(_) => "timestamp",
            Value::Json(_) => "json",
        }
    }
}

// Values are used as keys of unique indexes (in memory) and of SQL caches.
// JSON is never a key column, so hashing its text form is enough.
impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Text(s) => s.hash(state),
            Value::Timestamp(t) => t.timestamp_millis().hash(state),
            Value::Json(j) => j.to_string().hash(state),
        }
    }
}

/// How a column is stored, as far as encoding values is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnKind {
    /// Text (ids, hashes, enums, JSON kept as text on every dialect).
    Text,
    /// 64-bit integer (32-bit `INTEGER` in KavachOS's Postgres/MySQL DDL).
    Int,
    /// Boolean: `BOOLEAN` / `TINYINT(1)` / SQLite 0/1.
    Bool,
    /// Boolean stored as a plain integer 0/1 on every dialect
    /// (`kavach_sso_connections.enabled`).
    IntBool,
    /// Instant; SQLite stores Unix **seconds** as KavachOS's core does.
    Timestamp,
    /// Instant; SQLite stores Unix **milliseconds**
    /// (only `kavach_login_history.timestamp`).
    TimestampMs,
    /// JSON document: SQLite TEXT, PostgreSQL JSONB, MySQL JSON.
    Json,
}

/// Truncates an instant to whole milliseconds (toward the past), the
/// precision of the contract.
pub fn truncate_to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t.timestamp_millis())
        .single()
        .unwrap_or(t)
}

/// Conversion between a Rust field type and a [`Value`].
///
/// Implemented for the types model structs use; `KIND` and `NULLABLE` feed
/// the table definitions generated by [`crate::record!`].
pub trait ColumnValue: Sized {
    /// How the column is stored.
    const KIND: ColumnKind;
    /// Whether the column accepts `NULL`.
    const NULLABLE: bool = false;
    /// The value to write.
    fn to_value(&self) -> Value;
    /// Reads a value; `column` names the column for error messages.
    fn from_value(
        value: Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<Self, StoreError>;
}

fn mismatch(table: &'static str, column: &'static str, expected: &str, got: &Value) -> StoreError {
    StoreError::Decode {
        table,
        column: column.to_string(),
        reason: format!("expected {expected}, found {}", got.type_name()),
    }
}

impl ColumnValue for String {
    const KIND: ColumnKind = ColumnKind::Text;
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
    fn from_value(
        value: Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<Self, StoreError> {
        match value {
            Value::Text(s) => Ok(s),
            other => Err(mismatch(table, column, "text", &other)),
        }
    }
}

impl ColumnValue for i64 {
    const KIND: ColumnKind = ColumnKind::Int;
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
    fn from_value(
        value: Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<Self, StoreError> {
        match value {
            Value::Int(i) => Ok(i),
            Value::Bool(b) => Ok(b as i64),
            other => Err(mismatch(table, column, "integer", &other)),
        }
    }
}

impl ColumnValue for bool {
    const KIND: ColumnKind = ColumnKind::Bool;
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_value(
        value: Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<Self, StoreError> {
        match value {
            Value::Bool(b) => Ok(b),
            // Drizzle's boolean mode reads "true iff the value equals 1".
            Value::Int(i) => Ok(i == 1),
            other => Err(mismatch(table, column, "bool", &other)),
        }
    }
}

impl ColumnValue for DateTime<Utc> {
    const KIND: ColumnKind = ColumnKind::Timestamp;
    fn to_value(&self) -> Value {
        Value::Timestamp(truncate_to_millis(*self))
    }
    fn from_value(
        value: Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<Self, StoreError> {
        match value {
            Value::Timestamp(t) => Ok(t),
            other => Err(mismatch(table, column, "timestamp", &other)),
        }
    }
}

impl ColumnValue for serde_json::Value {
    const KIND: ColumnKind = ColumnKind::Json;
    fn to_value(&self) -> Value {
        Value::Json(self.clone())
    }
    fn from_value(
        value: Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<Self, StoreError> {
        match value {
            Value::Json(j) => Ok(j),
            Value::Text(s) => serde_json::from_str(&s).map_err(|e| StoreError::Decode {
                table,
                column: column.to_string(),
                reason: format!("invalid JSON: {e}"),
            }),
            other => Err(mismatch(table, column, "json", &other)),
        }
    }
}

/// A JSON array of strings (`actions`, `redirect_uris`, `permissions`, …).
impl ColumnValue for Vec<String> {
    const KIND: ColumnKind = ColumnKind::Json;
    fn to_value(&self) -> Value {
        Value::Json(serde_json::Value::Array(
            self.iter()
                .cloned()
                .map(serde_json::Value::String)
                .collect(),
        ))
    }
    fn from_value(
        value: Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<Self, StoreError> {
        let json = serde_json::Value::from_value(value, table, column)?;
        match json {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    serde_json::Value::String(s) => Ok(s),
                    // Keep non-string entries readable rather than failing the row.
                    other => Ok(other.to_string()),
                })
                .collect(),
            other => Err(StoreError::Decode {
                table,
                column: column.to_string(),
                reason: format!("expected a JSON array of strings, found {other}"),
            }),
        }
    }
}

impl<T: ColumnValue> ColumnValue for Option<T> {
    const KIND: ColumnKind = T::KIND;
    const NULLABLE: bool = true;
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
    fn from_value(
        value: Value,
        table: &'static str,
        column: &'static str,
    ) -> Result<Self, StoreError> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v, table, column).map(Some),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Self {
        Value::Timestamp(truncate_to_millis(t))
    }
}
impl From<serde_json::Value> for Value {
    fn from(j: serde_json::Value) -> Self {
        Value::Json(j)
    }
}

//! Values as a column of a given [`ColumnKind`] stores them: what a SQL
//! database does on write (type check, `NOT NULL`, 0/1 booleans, JSON text
//! parsed, timestamps truncated to milliseconds).

use std::borrow::Cow;

use kavach_store_core::{
    ColumnDef, ColumnKind, Result, Row, StoreError, TableDef, Value, truncate_to_millis,
};

/// Converts `value` to what `column` stores, or `InvalidInput`.
pub(crate) fn coerce(table: &TableDef, column: &ColumnDef, value: Value) -> Result<Value> {
    let invalid = |reason: String| {
        StoreError::invalid_input(format!("{}.{}", table.name, column.name), reason)
    };
    if value.is_null() {
        return if column.nullable {
            Ok(Value::Null)
        } else {
            Err(invalid("NULL in a NOT NULL column".into()))
        };
    }
    match (column.kind, value) {
        (ColumnKind::Text, v @ Value::Text(_)) => Ok(v),
        (ColumnKind::Int, v @ Value::Int(_)) => Ok(v),
        (ColumnKind::Int, Value::Bool(b)) => Ok(Value::Int(b as i64)),
        (ColumnKind::Bool | ColumnKind::IntBool, v @ Value::Bool(_)) => Ok(v),
        (ColumnKind::Bool | ColumnKind::IntBool, Value::Int(i @ (0 | 1))) => {
            Ok(Value::Bool(i == 1))
        }
        (ColumnKind::Timestamp | ColumnKind::TimestampMs, Value::Timestamp(t)) => {
            Ok(Value::Timestamp(truncate_to_millis(t)))
        }
        (ColumnKind::Json, v @ Value::Json(_)) => Ok(v),
        (ColumnKind::Json, Value::Text(s)) => serde_json::from_str(&s)
            .map(Value::Json)
            .map_err(|e| invalid(format!("invalid JSON text: {e}"))),
        (ColumnKind::Text | ColumnKind::Int | ColumnKind::Bool | ColumnKind::IntBool, v)
        | (ColumnKind::Timestamp | ColumnKind::TimestampMs | ColumnKind::Json, v) => {
            Err(invalid(format!(
                "a {:?} column cannot store a {} value",
                column.kind,
                v.type_name()
            )))
        }
        // Kinds added to the core later: store as given.
        (_, v) => Ok(v),
    }
}

/// Checks the arity of a row and coerces every value.
pub(crate) fn coerce_row(table: &TableDef, row: Row) -> Result<Row> {
    if row.len() != table.columns.len() {
        return Err(StoreError::invalid_input(
            table.name,
            format!(
                "a row has {} values, the table has {} columns",
                row.len(),
                table.columns.len()
            ),
        ));
    }
    row.into_iter()
        .zip(&table.columns)
        .map(|(v, c)| coerce(table, c, v))
        .collect()
}

/// A condition value in the form the column stores, where that conversion
/// is lossless (`1` against a boolean column), so index lookups and scans
/// agree. Anything else is compared as given.
pub(crate) fn normalize_operand<'a>(column: &ColumnDef, value: &'a Value) -> Cow<'a, Value> {
    match (column.kind, value) {
        (ColumnKind::Bool | ColumnKind::IntBool, Value::Int(i @ (0 | 1))) => {
            Cow::Owned(Value::Bool(*i == 1))
        }
        (ColumnKind::Int, Value::Bool(b)) => Cow::Owned(Value::Int(*b as i64)),
        (ColumnKind::Json, Value::Text(s)) => match serde_json::from_str(s) {
            Ok(j) => Cow::Owned(Value::Json(j)),
            Err(_) => Cow::Borrowed(value),
        },
        _ => Cow::Borrowed(value),
    }
}

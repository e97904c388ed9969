//! [`Value`] ⇄ PostgreSQL wire values, per [`ColumnKind`].
//!
//! Writes are driven by the column's *logical* kind (a NULL still needs a
//! typed parameter). Reads are driven by the type the server reports for
//! the column, so a database created by KavachOS's DDL (`INTEGER` = INT4) or
//! by Prisma (`timestamp(3)` without time zone, `json`) decodes as well as
//! one created by our migrations (`BIGINT`, `TIMESTAMPTZ`, `JSONB`).

use chrono::{DateTime, NaiveDateTime, Utc};
use kavach_store_core::{
    ColumnDef, ColumnKind, Result, Row, StoreError, TableDef, Value, truncate_to_millis,
};
use sqlx::postgres::{PgArguments, PgRow, PgValueRef};
use sqlx::types::Json;
use sqlx::{Arguments, Decode, Postgres, Row as _, TypeInfo, ValueRef};

// Type OIDs (pg_type.oid), stable across PostgreSQL versions.
const BOOL: u32 = 16;
const NAME: u32 = 19;
const INT8: u32 = 20;
const INT2: u32 = 21;
const INT4: u32 = 23;
const TEXT: u32 = 25;
const JSON: u32 = 114;
const BPCHAR: u32 = 1042;
const VARCHAR: u32 = 1043;
const TIMESTAMP: u32 = 1114;
const TIMESTAMPTZ: u32 = 1184;
const JSONB: u32 = 3802;

fn field(table: &TableDef, column: &str) -> String {
    format!("{}.{column}", table.name)
}

fn mismatch(table: &TableDef, col: &ColumnDef, value: &Value) -> StoreError {
    StoreError::invalid_input(
        field(table, col.name),
        format!(
            "a {} value cannot be stored in a {:?} column",
            value.type_name(),
            col.kind
        ),
    )
}

fn encode_failed(table: &TableDef, col: &ColumnDef, e: sqlx::error::BoxDynError) -> StoreError {
    StoreError::invalid_input(field(table, col.name), format!("cannot encode value: {e}"))
}

/// Adds `value` as the next parameter, typed by the column's kind.
pub(crate) fn bind(
    args: &mut PgArguments,
    table: &TableDef,
    col: &ColumnDef,
    value: &Value,
) -> Result<()> {
    let added = match (col.kind, value) {
        (ColumnKind::Text, Value::Text(s)) => args.add(s.as_str()),
        (ColumnKind::Text, Value::Null) => args.add(None::<&str>),
        (ColumnKind::Int, Value::Int(i)) => args.add(*i),
        (ColumnKind::Int, Value::Bool(b)) => args.add(i64::from(*b)),
        (ColumnKind::Int, Value::Null) => args.add(None::<i64>),
        (ColumnKind::Bool, Value::Bool(b)) => args.add(*b),
        (ColumnKind::Bool, Value::Int(i)) => args.add(*i == 1),
        (ColumnKind::Bool, Value::Null) => args.add(None::<bool>),
        // INTEGER 0/1, as KavachOS's DDL declares `kavach_sso_connections.enabled`.
        (ColumnKind::IntBool, Value::Bool(b)) => args.add(i32::from(*b)),
        (ColumnKind::IntBool, Value::Int(i)) => args.add(i32::from(*i == 1)),
        (ColumnKind::IntBool, Value::Null) => args.add(None::<i32>),
        (ColumnKind::Timestamp | ColumnKind::TimestampMs, Value::Timestamp(t)) => {
            args.add(truncate_to_millis(*t))
        }
        (ColumnKind::Timestamp | ColumnKind::TimestampMs, Value::Null) => {
            args.add(None::<DateTime<Utc>>)
        }
        (ColumnKind::Json, Value::Json(j)) => args.add(Json(j)),
        (ColumnKind::Json, Value::Null) => args.add(None::<Json<&serde_json::Value>>),
        _ => return Err(mismatch(table, col, value)),
    };
    added.map_err(|e| encode_failed(table, col, e))
}

/// Adds one array parameter holding `values` (one per row) for `UNNEST`.
pub(crate) fn bind_array<'v>(
    args: &mut PgArguments,
    table: &TableDef,
    col: &ColumnDef,
    values: impl ExactSizeIterator<Item = &'v Value>,
) -> Result<()> {
    fn collect<'v, T>(
        table: &TableDef,
        col: &ColumnDef,
        values: impl ExactSizeIterator<Item = &'v Value>,
        f: impl Fn(&'v Value) -> Option<Option<T>>,
    ) -> Result<Vec<Option<T>>> {
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            match (v, f(v)) {
                (Value::Null, _) => out.push(None),
                (_, Some(x)) => out.push(x),
                (_, None) => return Err(mismatch(table, col, v)),
            }
        }
        Ok(out)
    }
    let added = match col.kind {
        ColumnKind::Text => args.add(collect(table, col, values, |v| v.as_str().map(Some))?),
        ColumnKind::Int => args.add(collect(table, col, values, |v| match v {
            Value::Int(i) => Some(Some(*i)),
            Value::Bool(b) => Some(Some(i64::from(*b))),
            _ => None,
        })?),
        ColumnKind::Bool => args.add(collect(table, col, values, |v| match v {
            Value::Bool(b) => Some(Some(*b)),
            Value::Int(i) => Some(Some(*i == 1)),
            _ => None,
        })?),
        ColumnKind::IntBool => args.add(collect(table, col, values, |v| match v {
            Value::Bool(b) => Some(Some(i32::from(*b))),
            Value::Int(i) => Some(Some(i32::from(*i == 1))),
            _ => None,
        })?),
        ColumnKind::Timestamp | ColumnKind::TimestampMs => {
            args.add(collect(table, col, values, |v| {
                v.as_timestamp().map(|t| Some(truncate_to_millis(t)))
            })?)
        }
        ColumnKind::Json => args.add(collect(table, col, values, |v| match v {
            Value::Json(j) => Some(Some(Json(j))),
            _ => None,
        })?),
        other => {
            return Err(StoreError::invalid_input(
                field(table, col.name),
                format!("unsupported column kind {other:?}"),
            ));
        }
    };
    added.map_err(|e| encode_failed(table, col, e))
}

/// The PostgreSQL array type of a column kind, for `UNNEST($n::type[])`.
pub(crate) fn array_type(kind: ColumnKind) -> Option<&'static str> {
    Some(match kind {
        ColumnKind::Text => "text[]",
        ColumnKind::Int => "int8[]",
        ColumnKind::Bool => "bool[]",
        ColumnKind::IntBool => "int4[]",
        ColumnKind::Timestamp | ColumnKind::TimestampMs => "timestamptz[]",
        ColumnKind::Json => "jsonb[]",
        _ => return None,
    })
}

/// Decodes the first `table.columns.len()` columns of `row`, in table order.
pub(crate) fn decode_row(table: &'static TableDef, row: &PgRow) -> Result<Row> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let raw = row
                .try_get_raw(i)
                .map_err(|e| decode_error(table, col, e.to_string()))?;
            decode_value(table, col, raw)
        })
        .collect()
}

/// Decodes rows of `table`.
pub(crate) fn decode_rows(table: &'static TableDef, rows: &[PgRow]) -> Result<Vec<Row>> {
    rows.iter().map(|r| decode_row(table, r)).collect()
}

fn decode_error(table: &'static TableDef, col: &ColumnDef, reason: String) -> StoreError {
    StoreError::Decode {
        table: table.name,
        column: col.name.to_string(),
        reason,
    }
}

fn dec<'r, T: Decode<'r, Postgres>>(
    table: &'static TableDef,
    col: &ColumnDef,
    raw: PgValueRef<'r>,
) -> Result<T> {
    T::decode(raw).map_err(|e| decode_error(table, col, e.to_string()))
}

/// Decodes one value of column `col`, accepting every physical type a
/// KavachOS, Prisma or kavach-store database uses for its kind.
pub(crate) fn decode_value(
    table: &'static TableDef,
    col: &ColumnDef,
    raw: PgValueRef<'_>,
) -> Result<Value> {
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let type_info = raw.type_info().into_owned();
    let oid = type_info.oid().map(|o| o.0).unwrap_or(0);
    let int = |raw: PgValueRef<'_>| -> Result<i64> {
        match oid {
            INT8 => dec::<i64>(table, col, raw),
            INT4 => dec::<i32>(table, col, raw).map(i64::from),
            INT2 => dec::<i16>(table, col, raw).map(i64::from),
            _ => Err(decode_error(
                table,
                col,
                format!("expected an integer, found {}", type_info.name()),
            )),
        }
    };
    Ok(match col.kind {
        ColumnKind::Text => match oid {
            TEXT | VARCHAR | BPCHAR | NAME => Value::Text(dec::<String>(table, col, raw)?),
            JSON | JSONB => Value::Text(dec::<serde_json::Value>(table, col, raw)?.to_string()),
            INT2 | INT4 | INT8 => Value::Text(int(raw)?.to_string()),
            _ => {
                return Err(decode_error(
                    table,
                    col,
                    format!("expected text, found {}", type_info.name()),
                ));
            }
        },
        ColumnKind::Int => match oid {
            BOOL => Value::Int(i64::from(dec::<bool>(table, col, raw)?)),
            _ => Value::Int(int(raw)?),
        },
        ColumnKind::Bool | ColumnKind::IntBool => match oid {
            BOOL => Value::Bool(dec::<bool>(table, col, raw)?),
            // Drizzle's boolean mode: true iff the stored integer is 1.
            _ => Value::Bool(int(raw)? == 1),
        },
        ColumnKind::Timestamp | ColumnKind::TimestampMs => match oid {
            TIMESTAMPTZ => {
                Value::Timestamp(truncate_to_millis(dec::<DateTime<Utc>>(table, col, raw)?))
            }
            // `timestamp` without time zone (Prisma): the wall clock is UTC.
            TIMESTAMP => Value::Timestamp(truncate_to_millis(
                dec::<NaiveDateTime>(table, col, raw)?.and_utc(),
            )),
            _ => {
                return Err(decode_error(
                    table,
                    col,
                    format!("expected a timestamp, found {}", type_info.name()),
                ));
            }
        },
        ColumnKind::Json => match oid {
            JSON | JSONB => Value::Json(dec::<serde_json::Value>(table, col, raw)?),
            // JSON kept in TEXT by some writer: parse it, or hand the text over.
            TEXT | VARCHAR => {
                let text = dec::<String>(table, col, raw)?;
                match serde_json::from_str(&text) {
                    Ok(json) => Value::Json(json),
                    Err(_) => Value::Text(text),
                }
            }
            _ => {
                return Err(decode_error(
                    table,
                    col,
                    format!("expected JSON, found {}", type_info.name()),
                ));
            }
        },
        other => {
            return Err(decode_error(
                table,
                col,
                format!("unsupported column kind {other:?}"),
            ));
        }
    })
}

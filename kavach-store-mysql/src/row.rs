//! [`Value`] ↔ driver values per [`ColumnKind`], and the physical facts of the
//! database (column lengths, hashed unique columns) that writes are checked
//! against.
//!
//! The facts come from `information_schema` of the connected database, not from
//! a table list in this crate: the migrations are the one place that knows the
//! physical schema, and a database whose schema another tool owns is checked
//! against its real column lengths.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use kavach_store_core::{ColumnKind, Result, StoreError, TableDef, Value};
use mysql_async::Value as MyValue;
use sha2::{Digest, Sha256};

/// Suffix of the STORED generated column that carries the unique index of a
/// long text column (`access_token` → `access_token_sha256`).
pub(crate) const HASH_SUFFIX: &str = "_sha256";

/// How long a value a text column accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Limit {
    /// `VARCHAR(n)` / `CHAR(n)`: characters.
    Chars(u64),
    /// `TEXT` and relatives: bytes.
    Bytes(u64),
}

/// One row of `information_schema.COLUMNS`: table, column, data type,
/// character maximum length, octet length.
pub(crate) type ColumnFacts = (String, String, String, Option<u64>, Option<u64>);

/// What the store knows about the physical columns of one table.
#[derive(Debug, Default)]
pub(crate) struct TableMeta {
    limits: HashMap<String, Limit>,
    hashed: HashSet<String>,
}

/// Physical facts of every `kavach_*` table of the database.
#[derive(Debug, Default)]
pub(crate) struct Meta {
    tables: HashMap<String, TableMeta>,
}

impl Meta {
    /// Builds the facts from `information_schema.COLUMNS` rows:
    /// `(table, column, data_type, character_maximum_length, character_octet_length)`.
    pub(crate) fn from_columns(rows: Vec<ColumnFacts>) -> Meta {
        let mut meta = Meta::default();
        let mut names: HashMap<String, HashSet<String>> = HashMap::new();
        for (table, column, data_type, chars, octets) in rows {
            names
                .entry(table.clone())
                .or_default()
                .insert(column.clone());
            let limit = match data_type.to_ascii_lowercase().as_str() {
                "varchar" | "char" => chars.map(Limit::Chars),
                "tinytext" | "text" | "mediumtext" | "longtext" => {
                    octets.or(chars).map(Limit::Bytes)
                }
                _ => None,
            };
            let entry = meta.tables.entry(table).or_default();
            if let Some(limit) = limit {
                entry.limits.insert(column, limit);
            }
        }
        for (table, columns) in names {
            let entry = meta.tables.entry(table).or_default();
            for column in &columns {
                if let Some(base) = column.strip_suffix(HASH_SUFFIX)
                    && columns.contains(base)
                {
                    entry.hashed.insert(base.to_string());
                }
            }
        }
        meta
    }

    /// True when `table.column` is looked up through its `_sha256` column.
    pub(crate) fn is_hashed(&self, table: &str, column: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|t| t.hashed.contains(column))
    }

    /// Rejects a value the column cannot hold (instead of letting the server
    /// truncate it or fail with a less precise error).
    pub(crate) fn check(&self, table: &'static str, column: &str, value: &Value) -> Result<()> {
        let limit = match value {
            Value::Text(_) => self
                .tables
                .get(table)
                .and_then(|t| t.limits.get(column))
                .copied(),
            _ => None,
        };
        check_value(table, column, limit, value)
    }

    /// Checks every value of a row (one table lookup per row).
    pub(crate) fn check_row(&self, table: &'static TableDef, row: &[Value]) -> Result<()> {
        if row.len() != table.columns.len() {
            return Err(StoreError::invalid_input(
                table.name,
                format!(
                    "row has {} values, the table {} columns",
                    row.len(),
                    table.columns.len()
                ),
            ));
        }
        let facts = self.tables.get(table.name);
        for (c, v) in table.columns.iter().zip(row) {
            let limit = match (v, facts) {
                (Value::Text(_), Some(t)) => t.limits.get(c.name).copied(),
                _ => None,
            };
            check_value(table.name, c.name, limit, v)?;
        }
        Ok(())
    }
}

/// The check itself; messages are built only on failure (hot path).
fn check_value(
    table: &'static str,
    column: &str,
    limit: Option<Limit>,
    value: &Value,
) -> Result<()> {
    match (value, limit) {
        (Value::Text(s), Some(limit)) => {
            let fits = match limit {
                // Bytes ≥ characters, so most values pass without counting.
                Limit::Chars(n) => s.len() as u64 <= n || s.chars().count() as u64 <= n,
                Limit::Bytes(n) => s.len() as u64 <= n,
            };
            if fits {
                return Ok(());
            }
            let what = match limit {
                Limit::Chars(n) => format!("{n} characters"),
                Limit::Bytes(n) => format!("{n} bytes"),
            };
            Err(StoreError::invalid_input(
                format!("{table}.{column}"),
                format!("longer than the column's {what}"),
            ))
        }
        (Value::Timestamp(t), _) if !(1000..=9999).contains(&t.year()) => {
            Err(StoreError::invalid_input(
                format!("{table}.{column}"),
                "instant outside the years 1000-9999 a DATETIME holds",
            ))
        }
        _ => Ok(()),
    }
}

/// The driver value to bind for `value`.
pub(crate) fn encode(value: &Value) -> MyValue {
    match value {
        Value::Null => MyValue::NULL,
        Value::Bool(b) => MyValue::Int(*b as i64),
        Value::Int(i) => MyValue::Int(*i),
        Value::Text(s) => MyValue::Bytes(s.as_bytes().to_vec()),
        Value::Timestamp(t) => MyValue::Date(
            t.year() as u16,
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            // DATETIME(3) rounds on MySQL and truncates on MariaDB: send whole
            // milliseconds so both store the same instant.
            t.timestamp_subsec_millis() * 1000,
        ),
        Value::Json(j) => MyValue::Bytes(j.to_string().into_bytes()),
    }
}

/// [`encode`] of an owned value: text moves into the parameter.
pub(crate) fn encode_owned(value: Value) -> MyValue {
    match value {
        Value::Text(s) => MyValue::Bytes(s.into_bytes()),
        other => encode(&other),
    }
}

/// The SHA-256 of a text value, bound against a `_sha256` column.
pub(crate) fn encode_hash(value: &Value) -> MyValue {
    match value {
        Value::Text(s) => MyValue::Bytes(Sha256::digest(s.as_bytes()).to_vec()),
        Value::Null => MyValue::NULL,
        // Only text columns are hashed; anything else matches nothing.
        _ => MyValue::Bytes(Vec::new()),
    }
}

fn decode_err(table: &'static str, column: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Decode {
        table,
        column: column.to_string(),
        reason: reason.into(),
    }
}

fn text(bytes: Vec<u8>, table: &'static str, column: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| decode_err(table, column, "not valid UTF-8"))
}

fn int(value: MyValue, table: &'static str, column: &str) -> Result<i64> {
    match value {
        MyValue::Int(i) => Ok(i),
        MyValue::UInt(u) => {
            i64::try_from(u).map_err(|_| decode_err(table, column, "integer out of range"))
        }
        MyValue::Bytes(b) => std::str::from_utf8(&b)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| decode_err(table, column, "not an integer")),
        other => Err(decode_err(
            table,
            column,
            format!("expected an integer, found {other:?}"),
        )),
    }
}

fn timestamp(value: MyValue, table: &'static str, column: &str) -> Result<DateTime<Utc>> {
    let bad = || decode_err(table, column, "not a valid DATETIME");
    let (y, mo, d, h, mi, s, us) = match value {
        MyValue::Date(y, mo, d, h, mi, s, us) => (y, mo, d, h, mi, s, us),
        MyValue::Bytes(b) => {
            // Text protocol: `YYYY-MM-DD HH:MM:SS[.fff]`.
            let s = std::str::from_utf8(&b).map_err(|_| bad())?;
            let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .map_err(|_| bad())?;
            return Ok(Utc.from_utc_datetime(&naive));
        }
        _ => return Err(bad()),
    };
    let naive = NaiveDate::from_ymd_opt(y.into(), mo.into(), d.into())
        .and_then(|date| date.and_hms_micro_opt(h.into(), mi.into(), s.into(), us))
        .ok_or_else(bad)?;
    Ok(kavach_store_core::truncate_to_millis(
        Utc.from_utc_datetime(&naive),
    ))
}

/// Decodes one stored value of a column of `kind`.
pub(crate) fn decode(
    value: MyValue,
    kind: ColumnKind,
    table: &'static str,
    column: &str,
) -> Result<Value> {
    if value == MyValue::NULL {
        return Ok(Value::Null);
    }
    Ok(match kind {
        ColumnKind::Int => Value::Int(int(value, table, column)?),
        // TINYINT(1) and the INT of sso_connections.enabled: any non-zero is true.
        ColumnKind::Bool | ColumnKind::IntBool => Value::Bool(int(value, table, column)? != 0),
        ColumnKind::Timestamp | ColumnKind::TimestampMs => {
            Value::Timestamp(timestamp(value, table, column)?)
        }
        ColumnKind::Json => match value {
            MyValue::Bytes(b) => Value::Json(
                serde_json::from_slice(&b)
                    .map_err(|e| decode_err(table, column, format!("invalid JSON: {e}")))?,
            ),
            other => {
                return Err(decode_err(
                    table,
                    column,
                    format!("expected JSON text, found {other:?}"),
                ));
            }
        },
        // Text and any kind added later: read as text.
        _ => match value {
            MyValue::Bytes(b) => Value::Text(text(b, table, column)?),
            MyValue::Int(i) => Value::Text(i.to_string()),
            MyValue::UInt(u) => Value::Text(u.to_string()),
            other => {
                return Err(decode_err(
                    table,
                    column,
                    format!("expected text, found {other:?}"),
                ));
            }
        },
    })
}

/// Decodes a whole row selected with the table's column list.
pub(crate) fn decode_row(table: &'static TableDef, row: mysql_async::Row) -> Result<Vec<Value>> {
    let values = row.unwrap();
    if values.len() != table.columns.len() {
        return Err(decode_err(
            table.name,
            "*",
            format!(
                "expected {} columns, got {}",
                table.columns.len(),
                values.len()
            ),
        ));
    }
    values
        .into_iter()
        .zip(&table.columns)
        .map(|(v, c)| decode(v, c.kind, table.name, c.name))
        .collect()
}

/// Decodes a single integer (`COUNT(*)`, sums).
pub(crate) fn decode_int(value: MyValue, table: &'static str, column: &str) -> Result<i64> {
    if value == MyValue::NULL {
        return Ok(0);
    }
    int(value, table, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_at_millisecond_precision() {
        let t = Utc.timestamp_millis_opt(1_774_234_575_123).unwrap();
        let back = decode(
            encode(&Value::Timestamp(t)),
            ColumnKind::Timestamp,
            "t",
            "c",
        )
        .unwrap();
        assert_eq!(back, Value::Timestamp(t));
        let text = MyValue::Bytes(b"2026-03-23 02:56:15.123".to_vec());
        assert_eq!(
            decode(text, ColumnKind::Timestamp, "t", "c").unwrap(),
            Value::Timestamp(t)
        );
    }

    #[test]
    fn limits_count_characters_for_varchar_and_bytes_for_text() {
        let meta = Meta::from_columns(vec![
            ("t".into(), "v".into(), "varchar".into(), Some(3), Some(12)),
            (
                "t".into(),
                "x".into(),
                "text".into(),
                Some(65535),
                Some(65535),
            ),
            (
                "t".into(),
                "tok".into(),
                "text".into(),
                Some(65535),
                Some(65535),
            ),
            (
                "t".into(),
                "tok_sha256".into(),
                "binary".into(),
                Some(32),
                Some(32),
            ),
        ]);
        assert!(meta.check("t", "v", &Value::Text("🦀🦀🦀".into())).is_ok());
        let err = meta
            .check("t", "v", &Value::Text("abcd".into()))
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::InvalidInput { field, .. } if field == "t.v"),
            "{err:?}"
        );
        assert!(
            meta.check("t", "x", &Value::Text("é".repeat(32768)))
                .is_err()
        );
        assert!(meta.is_hashed("t", "tok") && !meta.is_hashed("t", "x"));
    }

    #[test]
    fn booleans_and_json_decode() {
        assert_eq!(
            decode(MyValue::Int(1), ColumnKind::IntBool, "t", "c").unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            decode(MyValue::Int(0), ColumnKind::Bool, "t", "c").unwrap(),
            Value::Bool(false)
        );
        let j = decode(
            MyValue::Bytes(br#"{"a": [1, "\u0000"]}"#.to_vec()),
            ColumnKind::Json,
            "t",
            "c",
        )
        .unwrap();
        assert_eq!(j, Value::Json(serde_json::json!({"a": [1, "\u{0}"]})));
    }
}

//! Synchronous statement execution on a connection thread: cached prepared
//! statements, row decoding, bounded retry on `SQLITE_BUSY`.

use std::sync::Arc;
use std::time::Duration;

use kavach_store_core::{Row, StoreError, TableDef, Value};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};

use crate::error::{is_busy, map};
use crate::row::Codec;

/// Attempts of a statement that failed with `SQLITE_BUSY` after SQLite's
/// own busy handler gave up (or returned at once, e.g. `BUSY_RECOVERY`).
const BUSY_ATTEMPTS: u32 = 3;

/// Runs `f`, retrying a bounded number of times on `SQLITE_BUSY` when no
/// transaction is open (inside one, the caller must retry the transaction).
pub(crate) fn retry_busy<T>(
    conn: &Connection,
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let mut attempt = 1;
    loop {
        match f() {
            Err(e) if is_busy(&e) && attempt < BUSY_ATTEMPTS && conn.is_autocommit() => {
                std::thread::sleep(Duration::from_millis(5 * attempt as u64));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// `BEGIN IMMEDIATE`: takes the write lock up front, so a write transaction
/// never fails half-way with `SQLITE_BUSY` on lock upgrade.
pub(crate) fn begin_immediate(conn: &Connection) -> rusqlite::Result<()> {
    retry_busy(conn, || conn.execute_batch("BEGIN IMMEDIATE"))
}

/// Runs `f` atomically: in a new `BEGIN IMMEDIATE` transaction, or in a
/// savepoint when a transaction is already open.
pub(crate) fn atomic<T>(
    conn: &Connection,
    table: &'static str,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let top = conn.is_autocommit();
    if top {
        begin_immediate(conn).map_err(|e| map(table, e))?;
    } else {
        conn.execute_batch("SAVEPOINT kavach_atomic")
            .map_err(|e| map(table, e))?;
    }
    match f(conn) {
        Ok(v) => {
            let end = if top {
                "COMMIT"
            } else {
                "RELEASE kavach_atomic"
            };
            conn.execute_batch(end).map_err(|e| map(table, e))?;
            Ok(v)
        }
        Err(e) => {
            let undo = if top {
                "ROLLBACK"
            } else {
                "ROLLBACK TO kavach_atomic; RELEASE kavach_atomic"
            };
            let _ = conn.execute_batch(undo);
            Err(e)
        }
    }
}

/// Runs a statement returning rows of `table` (all columns, in order).
pub(crate) fn query_rows(
    conn: &Connection,
    codec: Codec,
    table: &'static TableDef,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<Row>, StoreError> {
    let err = |e| map(table.name, e);
    retry_busy(conn, || {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(table.columns.len());
            for (i, c) in table.columns.iter().enumerate() {
                // Decode errors are carried out of the rusqlite closure as a
                // conversion failure and turned back below.
                let v = codec
                    .decode(table.name, c.name, c.kind, r.get_ref(i)?)
                    .map_err(|e| {
                        rusqlite::Error::ToSqlConversionFailure(Box::new(DecodeError(e)))
                    })?;
                row.push(v);
            }
            out.push(row);
        }
        Ok(out)
    })
    .map_err(|e| match e {
        rusqlite::Error::ToSqlConversionFailure(inner) => match inner.downcast::<DecodeError>() {
            Ok(d) => d.0,
            Err(other) => err(rusqlite::Error::ToSqlConversionFailure(other)),
        },
        e => err(e),
    })
}

/// Carries a [`StoreError::Decode`] through rusqlite's error type.
#[derive(Debug)]
struct DecodeError(StoreError);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DecodeError {}

/// Runs a statement that returns no rows; the number of changed rows.
pub(crate) fn execute(
    conn: &Connection,
    table: &'static str,
    sql: &str,
    params: &[SqlValue],
) -> Result<u64, StoreError> {
    retry_busy(conn, || {
        conn.prepare_cached(sql)?.execute(params_from_iter(params))
    })
    .map(|n| n as u64)
    .map_err(|e| map(table, e))
}

/// A single-integer query (`COUNT(*)`).
pub(crate) fn query_i64(
    conn: &Connection,
    table: &'static str,
    sql: &str,
    params: &[SqlValue],
) -> Result<i64, StoreError> {
    retry_busy(conn, || {
        conn.prepare_cached(sql)?
            .query_row(params_from_iter(params), |r| r.get::<_, i64>(0))
    })
    .map_err(|e| map(table, e))
}

/// `(group, sum)` rows of a [`kavach_store_core::Sum`].
pub(crate) fn query_sums(
    conn: &Connection,
    codec: Codec,
    table: &'static TableDef,
    group_by: Option<&'static str>,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<(Value, i64)>, StoreError> {
    let group_kind = group_by
        .and_then(|g| table.column(g))
        .map(|c| (c.name, c.kind));
    retry_busy(conn, || {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let group = match group_kind {
                None => Value::Null,
                Some((name, kind)) => {
                    let v = r.get_ref(0)?;
                    match codec.mode.unit(kind) {
                        Some(_) => codec.decode_normalised(kind, v).unwrap_or(Value::Null),
                        None => codec
                            .decode(table.name, name, kind, v)
                            .unwrap_or(Value::Null),
                    }
                }
            };
            let sum = match r.get_ref(1)? {
                rusqlite::types::ValueRef::Integer(i) => i,
                rusqlite::types::ValueRef::Real(f) => f as i64,
                _ => 0,
            };
            out.push((group, sum));
        }
        Ok(out)
    })
    .map_err(|e| map(table.name, e))
}

/// An `INSERT` of several rows, all or nothing.
pub(crate) fn insert_rows(
    conn: &Connection,
    table: &'static str,
    sql: &Arc<str>,
    rows: &[Vec<SqlValue>],
) -> Result<(), StoreError> {
    if let [one] = rows {
        return execute(conn, table, sql, one).map(drop);
    }
    atomic(conn, table, |conn| {
        let mut stmt = conn.prepare_cached(sql).map_err(|e| map(table, e))?;
        for row in rows {
            stmt.execute(params_from_iter(row))
                .map_err(|e| map(table, e))?;
        }
        Ok(())
    })
}

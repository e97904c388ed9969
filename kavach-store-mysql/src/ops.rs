//! The row primitives, written once over any connection-like target ([`Exec`]):
//! a pooled connection, the store's own transaction, or the caller's.

use std::future::Future;
use std::pin::Pin;

use kavach_store_core::{
    Assign, Cond, Delete, Result, Row, Select, StoreError, Sum, TableDef, Update, Upsert, Value,
};
use mysql_async::prelude::Queryable;
use mysql_async::{Params, Value as MyValue};

use crate::error::map;
use crate::row::{Meta, decode, decode_int, decode_row};
use crate::sql;
use crate::sql::SqlCache;

/// The driver's per-statement parameter limit.
const MAX_PARAMS: usize = 65_535;

type BoxFuture<'a, T> =
    Pin<Box<dyn Future<Output = std::result::Result<T, mysql_async::Error>> + Send + 'a>>;

/// The three things the primitives need from a connection, object-safe so a
/// pooled `Conn`, an owned `Transaction` and a borrowed caller's transaction
/// are one type to the code above.
pub(crate) trait Exec: Send {
    /// Runs a prepared statement (cached per connection by its text) and collects its rows.
    fn rows<'a>(
        &'a mut self,
        sql: &'a str,
        params: Vec<MyValue>,
    ) -> BoxFuture<'a, Vec<mysql_async::Row>>;
    /// Runs a prepared statement; returns the affected (with `CLIENT_FOUND_ROWS`: matched) rows.
    fn run<'a>(&'a mut self, sql: &'a str, params: Vec<MyValue>) -> BoxFuture<'a, u64>;
    /// Runs a statement through the text protocol (transaction control, DDL).
    fn plain<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, ()>;
}

fn params(values: Vec<MyValue>) -> Params {
    if values.is_empty() {
        Params::Empty
    } else {
        Params::Positional(values)
    }
}

impl<Q: Queryable> Exec for Q {
    fn rows<'a>(
        &'a mut self,
        sql: &'a str,
        values: Vec<MyValue>,
    ) -> BoxFuture<'a, Vec<mysql_async::Row>> {
        Box::pin(async move { self.exec(sql, params(values)).await })
    }

    fn run<'a>(&'a mut self, sql: &'a str, values: Vec<MyValue>) -> BoxFuture<'a, u64> {
        Box::pin(async move {
            let result = self.exec_iter(sql, params(values)).await?;
            let affected = result.affected_rows();
            result.drop_result().await?;
            Ok(affected)
        })
    }

    fn plain<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move { self.query_drop(sql).await })
    }
}

/// What the primitives read from the store: schema facts and the SQL cache.
pub(crate) struct Ctx<'a> {
    pub(crate) meta: &'a Meta,
    pub(crate) sql: &'a SqlCache,
}

pub(crate) async fn select(
    cx: &Ctx<'_>,
    ex: &mut dyn Exec,
    q: &Select,
    for_update: bool,
) -> Result<Vec<Row>> {
    let text = cx.sql.get(sql::key_select(q, for_update), || {
        sql::select(cx.meta, q, for_update)
    });
    let rows = ex
        .rows(&text, sql::select_params(cx.meta, q))
        .await
        .map_err(|e| map(e, q.table.name))?;
    rows.into_iter().map(|r| decode_row(q.table, r)).collect()
}

pub(crate) async fn count(
    cx: &Ctx<'_>,
    ex: &mut dyn Exec,
    table: &'static TableDef,
    filter: &Cond,
) -> Result<u64> {
    let text = cx.sql.get(sql::key_count(table, filter), || {
        sql::count(cx.meta, table, filter)
    });
    let mut p = Vec::new();
    sql::bind_cond(&mut p, cx.meta, table, filter);
    let rows = ex.rows(&text, p).await.map_err(|e| map(e, table.name))?;
    let value = rows
        .into_iter()
        .next()
        .and_then(|r| r.unwrap().into_iter().next())
        .unwrap_or(MyValue::Int(0));
    Ok(decode_int(value, table.name, "COUNT(*)")? as u64)
}

fn check_assignments(meta: &Meta, table: &'static TableDef, set: &[Assign]) -> Result<()> {
    for a in set {
        if table.column(a.column()).is_none() {
            return Err(StoreError::invalid_input(
                format!("{}.{}", table.name, a.column()),
                "no such column",
            ));
        }
        if let Assign::Set(c, v) = a {
            meta.check(table.name, c, v)?;
        }
    }
    Ok(())
}

pub(crate) async fn update(cx: &Ctx<'_>, ex: &mut dyn Exec, u: &Update) -> Result<u64> {
    if u.set.is_empty() {
        return count(cx, ex, u.table, &u.filter).await;
    }
    check_assignments(cx.meta, u.table, &u.set)?;
    let text = cx.sql.get(sql::key_update(u), || sql::update(cx.meta, u));
    ex.run(&text, sql::update_params(cx.meta, u))
        .await
        .map_err(|e| map(e, u.table.name))
}

pub(crate) async fn delete(cx: &Ctx<'_>, ex: &mut dyn Exec, d: &Delete) -> Result<u64> {
    let text = cx.sql.get(sql::key_delete(d), || sql::delete(cx.meta, d));
    let mut p = Vec::new();
    sql::bind_cond(&mut p, cx.meta, d.table, &d.filter);
    ex.run(&text, p).await.map_err(|e| map(e, d.table.name))
}

/// Rows per INSERT statement for a table (the driver caps a statement at
/// 65,535 parameters).
pub(crate) fn rows_per_statement(table: &TableDef) -> usize {
    (MAX_PARAMS / table.columns.len().max(1)).max(1)
}

/// Checks rows before any is written.
pub(crate) fn check_rows(cx: &Ctx<'_>, table: &'static TableDef, rows: &[Row]) -> Result<()> {
    rows.iter().try_for_each(|r| cx.meta.check_row(table, r))
}

/// One multi-row INSERT (rows already checked; at most [`rows_per_statement`]).
pub(crate) async fn insert_chunk(
    cx: &Ctx<'_>,
    ex: &mut dyn Exec,
    table: &'static TableDef,
    rows: Vec<Row>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let text = cx.sql.get(sql::key_insert(table, rows.len()), || {
        sql::insert(table, rows.len())
    });
    // The rows are ours: their strings move into the parameters uncopied.
    let p: Vec<MyValue> = rows
        .into_iter()
        .flat_map(|r| r.into_iter().map(crate::row::encode_owned))
        .collect();
    ex.run(&text, p).await.map_err(|e| map(e, table.name))?;
    Ok(())
}

/// Keys of the rows matching `filter`, locked until the transaction ends.
async fn lock_keys(
    cx: &Ctx<'_>,
    ex: &mut dyn Exec,
    table: &'static TableDef,
    filter: &Cond,
) -> Result<Vec<Value>> {
    let text = cx.sql.get(sql::key_keys_for_update(table, filter), || {
        sql::select_keys_for_update(cx.meta, table, filter)
    });
    let mut p = Vec::new();
    sql::bind_cond(&mut p, cx.meta, table, filter);
    let rows = ex.rows(&text, p).await.map_err(|e| map(e, table.name))?;
    let kind = table.columns[table.primary_key_index()].kind;
    rows.into_iter()
        .map(|r| {
            let v = r.unwrap().into_iter().next().unwrap_or(MyValue::NULL);
            decode(v, kind, table.name, table.primary_key)
        })
        .collect()
}

/// Must run inside a transaction: lock the matching rows (`SELECT … FOR
/// UPDATE` reads the latest committed versions and waits for concurrent
/// writers, so of N racing callers whose update makes the filter false only
/// the first still sees the row), update them by key, read them back.
pub(crate) async fn update_returning_in_tx(
    cx: &Ctx<'_>,
    ex: &mut dyn Exec,
    u: &Update,
) -> Result<Vec<Row>> {
    check_assignments(cx.meta, u.table, &u.set)?;
    let keys = lock_keys(cx, ex, u.table, &u.filter).await?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let pk = u.table.primary_key;
    if !u.set.is_empty() {
        for chunk in keys.chunks(KEY_CHUNK) {
            let by_key = Update {
                table: u.table,
                filter: Cond::In(pk, padded(chunk)),
                set: u.set.clone(),
            };
            update(cx, ex, &by_key).await?;
        }
    }
    // A changed primary key is read back under its new value.
    let new_key = u.set.iter().find_map(|a| match a {
        Assign::Set(c, v) if *c == pk => Some(v.clone()),
        _ => None,
    });
    let keys = match new_key {
        Some(v) => vec![v],
        None => keys,
    };
    let mut rows = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(KEY_CHUNK) {
        let by_key = Select::new(u.table, Cond::In(pk, padded(chunk)));
        rows.extend(select(cx, ex, &by_key, false).await?);
    }
    Ok(rows)
}

/// Keys per `IN (…)` list of the by-key statements.
const KEY_CHUNK: usize = 1024;

/// The keys, the last one repeated up to the next power of two: `IN` lists
/// of a handful of lengths, so a handful of prepared statements per table
/// whatever the number of rows (a repeated key changes nothing).
fn padded(keys: &[Value]) -> Vec<Value> {
    let mut out = keys.to_vec();
    if let Some(last) = keys.last() {
        out.resize(keys.len().next_power_of_two(), last.clone());
    }
    out
}

/// Must run inside a transaction: read and lock the matching rows, delete them by key.
pub(crate) async fn delete_returning_in_tx(
    cx: &Ctx<'_>,
    ex: &mut dyn Exec,
    d: &Delete,
) -> Result<Vec<Row>> {
    let rows = select(cx, ex, &Select::new(d.table, d.filter.clone()), true).await?;
    if rows.is_empty() {
        return Ok(rows);
    }
    let pki = d.table.primary_key_index();
    let keys: Vec<Value> = rows.iter().map(|r| r[pki].clone()).collect();
    for chunk in keys.chunks(KEY_CHUNK) {
        let by_key = Delete {
            table: d.table,
            filter: Cond::In(d.table.primary_key, padded(chunk)),
        };
        delete(cx, ex, &by_key).await?;
    }
    Ok(rows)
}

/// Must run inside a transaction: `INSERT … ON DUPLICATE KEY UPDATE`, then the
/// row by its conflict columns (still locked by the upsert, so it is exactly
/// the result of this call).
pub(crate) async fn upsert_in_tx(cx: &Ctx<'_>, ex: &mut dyn Exec, u: &Upsert) -> Result<Row> {
    cx.meta.check_row(u.table, &u.row)?;
    check_assignments(cx.meta, u.table, &u.on_conflict)?;
    let text = cx.sql.get(sql::key_upsert(u), || sql::upsert(u));
    ex.run(&text, sql::upsert_params(u))
        .await
        .map_err(|e| map(e, u.table.name))?;
    let mut conds = Vec::with_capacity(u.conflict.len());
    for c in u.conflict {
        let i = u.table.column_index(c).ok_or_else(|| {
            StoreError::invalid_input(
                format!("{}.{c}", u.table.name),
                "conflict column is not in the table",
            )
        })?;
        conds.push(Cond::Cmp(c, kavach_store_core::CmpOp::Eq, u.row[i].clone()));
    }
    // NULL never conflicts: the row was inserted under its own key.
    let filter = if conds.is_empty()
        || conds
            .iter()
            .any(|c| matches!(c, Cond::Cmp(_, _, Value::Null)))
    {
        let pki = u.table.primary_key_index();
        Cond::eq(u.table.primary_key, u.row[pki].clone())
    } else {
        Cond::And(conds)
    };
    let mut rows = select(cx, ex, &Select::new(u.table, filter), false).await?;
    match rows.len() {
        1 => Ok(rows.pop().expect("one row")),
        // The row collided on another unique key than `conflict` and that row
        // was updated instead: report the conflict rather than a wrong row.
        _ => Err(StoreError::Conflict {
            table: u.table.name,
            constraint: format!("unique key other than ({})", u.conflict.join(", ")),
            source: None,
        }),
    }
}

pub(crate) async fn sum(cx: &Ctx<'_>, ex: &mut dyn Exec, q: &Sum) -> Result<Vec<(Value, i64)>> {
    let text = cx.sql.get(sql::key_sum(q), || sql::sum(cx.meta, q));
    let rows = ex
        .rows(&text, sql::sum_params(cx.meta, q))
        .await
        .map_err(|e| map(e, q.table.name))?;
    match q.group_by {
        None => {
            let value = rows
                .into_iter()
                .next()
                .and_then(|r| r.unwrap().into_iter().next())
                .unwrap_or(MyValue::Int(0));
            Ok(vec![(
                Value::Null,
                decode_int(value, q.table.name, q.column)?,
            )])
        }
        Some(g) => {
            let kind = q
                .table
                .column(g)
                .ok_or_else(|| {
                    StoreError::invalid_input(format!("{}.{g}", q.table.name), "no such column")
                })?
                .kind;
            rows.into_iter()
                .map(|r| {
                    let mut values = r.unwrap().into_iter();
                    let group = decode(
                        values.next().unwrap_or(MyValue::NULL),
                        kind,
                        q.table.name,
                        g,
                    )?;
                    let total = decode_int(
                        values.next().unwrap_or(MyValue::NULL),
                        q.table.name,
                        q.column,
                    )?;
                    Ok((group, total))
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lists_are_padded_to_powers_of_two() {
        let keys: Vec<Value> = (0..5).map(Value::Int).collect();
        let p = padded(&keys);
        assert_eq!(p.len(), 8);
        assert_eq!(p[7], Value::Int(4));
        assert_eq!(padded(&keys[..1]).len(), 1);
        assert!(padded(&[]).is_empty());
    }
}

//! Rendering [`Select`], [`Update`], … to MySQL SQL, once per query shape.
//!
//! SQL text depends only on a query's [`Shape`](kavach_store_core::Shape) (and
//! on which columns of the database are hashed, fixed per database), so it is
//! rendered on first use and kept in a [`SqlCache`]; the driver keeps the
//! prepared statement per connection under that text. Values are bound by
//! walking the same tree in the same order as the renderer ([`bind_cond`]).

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use kavach_store_core::query::count_shape;
use kavach_store_core::{
    Assign, Cond, Delete, OrderBy, Select, Sum, TableDef, Update, Upsert, Value,
};
use mysql_async::Value as MyValue;

use crate::row::{HASH_SUFFIX, Meta, encode, encode_hash};

/// Escape character of rendered `LIKE` patterns (not `\`, whose meaning
/// depends on `NO_BACKSLASH_ESCAPES`).
const LIKE_ESCAPE: char = '!';

/// What a cached statement does (shapes of different statements over the same
/// query must not share an entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Select,
    SelectForUpdate,
    SelectKeysForUpdate,
    Count,
    Update,
    Delete,
    Upsert,
    Sum,
    Insert,
}

/// Rendered SQL per (statement kind, query shape, row count).
#[derive(Debug, Default)]
pub(crate) struct SqlCache {
    map: RwLock<HashMap<(Kind, u64, usize), Arc<str>>>,
}

impl SqlCache {
    /// The cached SQL for `key`, rendering it with `render` on first use.
    pub(crate) fn get(&self, key: (Kind, u64, usize), render: impl FnOnce() -> String) -> Arc<str> {
        if let Some(sql) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return sql.clone();
        }
        let sql: Arc<str> = render().into();
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert(sql)
            .clone()
    }

    /// Forgets everything (the schema facts changed, e.g. after a migration).
    pub(crate) fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Number of cached statements.
    pub(crate) fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A quoted identifier. Every identifier is quoted: `type`, `timestamp`,
/// `count`, `action`, … are keywords.
pub(crate) fn ident(out: &mut String, name: &str) {
    out.push('`');
    out.push_str(&name.replace('`', "``"));
    out.push('`');
}

fn column_list(out: &mut String, table: &TableDef) {
    for (i, c) in table.columns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        ident(out, c.name);
    }
}

fn placeholders(out: &mut String, n: usize) {
    out.push('(');
    for i in 0..n {
        out.push_str(if i == 0 { "?" } else { ", ?" });
    }
    out.push(')');
}

/// Renders a condition. Equality on a hashed column goes through its indexed
/// `_sha256` column and re-checks the value itself.
pub(crate) fn render_cond(out: &mut String, meta: &Meta, table: &TableDef, cond: &Cond) {
    match cond {
        Cond::All => out.push_str("TRUE"),
        // A comparison with NULL is never true (and is not bound).
        Cond::Cmp(_, _, Value::Null) => out.push_str("FALSE"),
        Cond::Cmp(c, kavach_store_core::CmpOp::Eq, _) if meta.is_hashed(table.name, c) => {
            hashed_eq(out, c)
        }
        Cond::Cmp(c, op, _) => {
            ident(out, c);
            let _ = write!(out, " {} ?", op.sql());
        }
        Cond::CmpColumn(a, op, b) => {
            ident(out, a);
            let _ = write!(out, " {} ", op.sql());
            ident(out, b);
        }
        Cond::IsNull(c) => {
            ident(out, c);
            out.push_str(" IS NULL");
        }
        Cond::IsNotNull(c) => {
            ident(out, c);
            out.push_str(" IS NOT NULL");
        }
        Cond::In(_, values) if values.is_empty() => out.push_str("FALSE"),
        Cond::In(c, values) if meta.is_hashed(table.name, c) => {
            out.push('(');
            for i in 0..values.len() {
                if i > 0 {
                    out.push_str(" OR ");
                }
                hashed_eq(out, c);
            }
            out.push(')');
        }
        Cond::In(c, values) => {
            ident(out, c);
            out.push_str(" IN ");
            placeholders(out, values.len());
        }
        Cond::Like(c, _) => {
            // LOWER on both sides: case-insensitive even on utf8mb4_bin columns.
            out.push_str("LOWER(");
            ident(out, c);
            let _ = write!(out, ") LIKE LOWER(?) ESCAPE '{LIKE_ESCAPE}'");
        }
        Cond::And(conds) | Cond::Or(conds) if conds.is_empty() => {
            out.push_str(if matches!(cond, Cond::And(_)) {
                "TRUE"
            } else {
                "FALSE"
            })
        }
        Cond::And(conds) | Cond::Or(conds) => {
            let sep = if matches!(cond, Cond::And(_)) {
                " AND "
            } else {
                " OR "
            };
            out.push('(');
            for (i, c) in conds.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                render_cond(out, meta, table, c);
            }
            out.push(')');
        }
    }
}

fn hashed_eq(out: &mut String, column: &str) {
    out.push('(');
    ident(out, &format!("{column}{HASH_SUFFIX}"));
    out.push_str(" = ? AND ");
    ident(out, column);
    out.push_str(" = ?)");
}

/// Binds the values of a condition in rendering order.
pub(crate) fn bind_cond(params: &mut Vec<MyValue>, meta: &Meta, table: &TableDef, cond: &Cond) {
    match cond {
        Cond::All
        | Cond::CmpColumn(..)
        | Cond::IsNull(_)
        | Cond::IsNotNull(_)
        | Cond::Cmp(_, _, Value::Null) => {}
        Cond::Cmp(c, kavach_store_core::CmpOp::Eq, v) if meta.is_hashed(table.name, c) => {
            params.push(encode_hash(v));
            params.push(encode(v));
        }
        Cond::Cmp(_, _, v) => params.push(encode(v)),
        Cond::In(c, values) if meta.is_hashed(table.name, c) => {
            for v in values {
                params.push(encode_hash(v));
                params.push(encode(v));
            }
        }
        Cond::In(_, values) => params.extend(values.iter().map(encode)),
        Cond::Like(_, pattern) => params.push(MyValue::Bytes(
            pattern.to_sql_pattern(LIKE_ESCAPE).into_bytes(),
        )),
        Cond::And(conds) | Cond::Or(conds) => {
            conds.iter().for_each(|c| bind_cond(params, meta, table, c))
        }
    }
}

fn order_by(out: &mut String, order: &[OrderBy]) {
    for (i, o) in order.iter().enumerate() {
        out.push_str(if i == 0 { " ORDER BY " } else { ", " });
        ident(out, o.column);
        out.push_str(if o.descending { " DESC" } else { " ASC" });
    }
}

/// `SELECT <columns> FROM t WHERE … [ORDER BY …] [LIMIT ?] [OFFSET ?] [FOR UPDATE]`.
pub(crate) fn select(meta: &Meta, q: &Select, for_update: bool) -> String {
    let mut s = String::from("SELECT ");
    column_list(&mut s, q.table);
    s.push_str(" FROM ");
    ident(&mut s, q.table.name);
    s.push_str(" WHERE ");
    render_cond(&mut s, meta, q.table, &q.filter);
    order_by(&mut s, q.order);
    match (q.limit.is_some(), q.offset > 0) {
        (true, true) => s.push_str(" LIMIT ? OFFSET ?"),
        (true, false) => s.push_str(" LIMIT ?"),
        // MySQL has no OFFSET without LIMIT.
        (false, true) => s.push_str(" LIMIT 18446744073709551615 OFFSET ?"),
        (false, false) => {}
    }
    if for_update {
        s.push_str(" FOR UPDATE");
    }
    s
}

/// Parameters of [`select`].
pub(crate) fn select_params(meta: &Meta, q: &Select) -> Vec<MyValue> {
    let mut p = Vec::new();
    bind_cond(&mut p, meta, q.table, &q.filter);
    if let Some(limit) = q.limit {
        p.push(MyValue::UInt(limit));
    }
    if q.offset > 0 {
        p.push(MyValue::UInt(q.offset));
    }
    p
}

/// `SELECT <primary key> FROM t WHERE … FOR UPDATE`: locks the rows a
/// returning update will change.
pub(crate) fn select_keys_for_update(meta: &Meta, table: &TableDef, filter: &Cond) -> String {
    let mut s = String::from("SELECT ");
    ident(&mut s, table.primary_key);
    s.push_str(" FROM ");
    ident(&mut s, table.name);
    s.push_str(" WHERE ");
    render_cond(&mut s, meta, table, filter);
    s.push_str(" FOR UPDATE");
    s
}

/// `SELECT COUNT(*) FROM t WHERE …`.
pub(crate) fn count(meta: &Meta, table: &TableDef, filter: &Cond) -> String {
    let mut s = String::from("SELECT COUNT(*) FROM ");
    ident(&mut s, table.name);
    s.push_str(" WHERE ");
    render_cond(&mut s, meta, table, filter);
    s
}

fn assignments(out: &mut String, set: &[Assign]) {
    for (i, a) in set.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        ident(out, a.column());
        out.push_str(" = ");
        if let Assign::Add(c, _) = a {
            ident(out, c);
            out.push_str(" + ");
        }
        out.push('?');
    }
}

fn bind_assignments(params: &mut Vec<MyValue>, set: &[Assign]) {
    params.extend(set.iter().map(|a| match a {
        Assign::Set(_, v) => encode(v),
        Assign::Add(_, d) => MyValue::Int(*d),
    }));
}

/// `UPDATE t SET … WHERE …`.
pub(crate) fn update(meta: &Meta, u: &Update) -> String {
    let mut s = String::from("UPDATE ");
    ident(&mut s, u.table.name);
    s.push_str(" SET ");
    assignments(&mut s, &u.set);
    s.push_str(" WHERE ");
    render_cond(&mut s, meta, u.table, &u.filter);
    s
}

/// Parameters of [`update`].
pub(crate) fn update_params(meta: &Meta, u: &Update) -> Vec<MyValue> {
    let mut p = Vec::with_capacity(u.set.len() + 2);
    bind_assignments(&mut p, &u.set);
    bind_cond(&mut p, meta, u.table, &u.filter);
    p
}

/// `DELETE FROM t WHERE …`.
pub(crate) fn delete(meta: &Meta, d: &Delete) -> String {
    let mut s = String::from("DELETE FROM ");
    ident(&mut s, d.table.name);
    s.push_str(" WHERE ");
    render_cond(&mut s, meta, d.table, &d.filter);
    s
}

/// `INSERT INTO t (<columns>) VALUES (…), (…)` for `rows` rows.
pub(crate) fn insert(table: &TableDef, rows: usize) -> String {
    let mut s = String::from("INSERT INTO ");
    ident(&mut s, table.name);
    s.push_str(" (");
    column_list(&mut s, table);
    s.push_str(") VALUES ");
    for i in 0..rows {
        if i > 0 {
            s.push_str(", ");
        }
        placeholders(&mut s, table.columns.len());
    }
    s
}

/// `INSERT … ON DUPLICATE KEY UPDATE …` (no assignment: a no-op update that
/// still takes the row lock).
pub(crate) fn upsert(u: &Upsert) -> String {
    let mut s = insert(u.table, 1);
    s.push_str(" ON DUPLICATE KEY UPDATE ");
    if u.on_conflict.is_empty() {
        ident(&mut s, u.table.primary_key);
        s.push_str(" = ");
        ident(&mut s, u.table.primary_key);
    } else {
        assignments(&mut s, &u.on_conflict);
    }
    s
}

/// Parameters of [`upsert`].
pub(crate) fn upsert_params(u: &Upsert) -> Vec<MyValue> {
    let mut p: Vec<MyValue> = u.row.iter().map(encode).collect();
    bind_assignments(&mut p, &u.on_conflict);
    p
}

/// `SELECT [group,] CAST(COALESCE(SUM(c), 0) AS SIGNED) …`.
pub(crate) fn sum(meta: &Meta, q: &Sum) -> String {
    let mut s = String::from("SELECT ");
    if let Some(g) = q.group_by {
        ident(&mut s, g);
        s.push_str(", ");
    }
    s.push_str("CAST(COALESCE(SUM(");
    ident(&mut s, q.column);
    s.push_str("), 0) AS SIGNED) AS `kavach_sum` FROM ");
    ident(&mut s, q.table.name);
    s.push_str(" WHERE ");
    render_cond(&mut s, meta, q.table, &q.filter);
    if let Some(g) = q.group_by {
        s.push_str(" GROUP BY ");
        ident(&mut s, g);
        s.push_str(" ORDER BY `kavach_sum` DESC, ");
        ident(&mut s, g);
        s.push_str(" ASC");
        if q.limit.is_some() {
            s.push_str(" LIMIT ?");
        }
    }
    s
}

/// Parameters of [`sum`].
pub(crate) fn sum_params(meta: &Meta, q: &Sum) -> Vec<MyValue> {
    let mut p = Vec::new();
    bind_cond(&mut p, meta, q.table, &q.filter);
    if let (Some(_), Some(limit)) = (q.group_by, q.limit) {
        p.push(MyValue::UInt(limit));
    }
    p
}

/// Cache keys.
pub(crate) fn key_select(q: &Select, for_update: bool) -> (Kind, u64, usize) {
    (
        if for_update {
            Kind::SelectForUpdate
        } else {
            Kind::Select
        },
        q.shape().0,
        0,
    )
}
pub(crate) fn key_keys_for_update(table: &TableDef, filter: &Cond) -> (Kind, u64, usize) {
    (Kind::SelectKeysForUpdate, count_shape(table, filter).0, 0)
}
pub(crate) fn key_count(table: &TableDef, filter: &Cond) -> (Kind, u64, usize) {
    (Kind::Count, count_shape(table, filter).0, 0)
}
pub(crate) fn key_update(u: &Update) -> (Kind, u64, usize) {
    (Kind::Update, u.shape().0, 0)
}
pub(crate) fn key_delete(d: &Delete) -> (Kind, u64, usize) {
    (Kind::Delete, d.shape().0, 0)
}
pub(crate) fn key_upsert(u: &Upsert) -> (Kind, u64, usize) {
    (Kind::Upsert, u.shape().0, 0)
}
pub(crate) fn key_sum(q: &Sum) -> (Kind, u64, usize) {
    (Kind::Sum, q.shape().0, 0)
}
pub(crate) fn key_insert(table: &TableDef, rows: usize) -> (Kind, u64, usize) {
    let mut h = DefaultHasher::new();
    table.name.hash(&mut h);
    (Kind::Insert, h.finish(), rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kavach_store_core::{Agent, LikePattern, Record, RefreshToken};

    #[test]
    fn renders_quoted_identifiers_and_binds_in_order() {
        let meta = Meta::default();
        let table = Agent::table_def();
        let filter = Cond::eq("owner_id", "u1")
            .and(Cond::Or(vec![
                Cond::Like("name", LikePattern::Contains("a_%".into())),
                Cond::is_in("type", ["x", "y"]),
            ]))
            .and(Cond::Cmp(
                "tenant_id",
                kavach_store_core::CmpOp::Eq,
                Value::Null,
            ))
            .and(Cond::In("status", vec![]));
        let q = Select::new(table, filter).limit(5);
        let sql = select(&meta, &q, false);
        assert!(sql.starts_with("SELECT `id`, `owner_id`"), "{sql}");
        assert!(
            sql.ends_with(
                "WHERE (`owner_id` = ? AND (LOWER(`name`) LIKE LOWER(?) ESCAPE '!' OR `type` IN (?, ?)) AND FALSE AND FALSE) LIMIT ?"
            ),
            "{sql}"
        );
        let params = select_params(&meta, &q);
        assert_eq!(params.len(), 5);
        assert_eq!(params[1], MyValue::Bytes(b"%a!_!%%".to_vec()));
        assert_eq!(params[4], MyValue::UInt(5));
    }

    #[test]
    fn hashed_columns_are_looked_up_through_their_hash() {
        let table = RefreshToken::table_def();
        let meta = Meta::from_columns(vec![
            (
                table.name.into(),
                "token_hash".into(),
                "text".into(),
                Some(65535),
                Some(65535),
            ),
            (
                table.name.into(),
                "token_hash_sha256".into(),
                "binary".into(),
                Some(32),
                Some(32),
            ),
        ]);
        let mut sql = String::new();
        render_cond(&mut sql, &meta, table, &Cond::eq("token_hash", "abc"));
        assert_eq!(sql, "(`token_hash_sha256` = ? AND `token_hash` = ?)");
        let mut params = Vec::new();
        bind_cond(&mut params, &meta, table, &Cond::eq("token_hash", "abc"));
        assert_eq!(params.len(), 2);
        assert_eq!(params[1], MyValue::Bytes(b"abc".to_vec()));
    }
}

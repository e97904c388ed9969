//! Rendering queries to SQL, once per [`Shape`].
//!
//! One traversal ([`Emit`]) both renders the SQL text and binds the
//! parameters, so the `$n` numbering and the bind order cannot drift apart.
//! On a cache hit the same traversal runs with rendering switched off: a
//! hot-path call binds its values and reuses the cached `Arc<str>`, which
//! sqlx maps to a per-connection prepared statement. No SQL text is built per
//! call.
//!
//! Conventions of the generated SQL:
//! * identifiers are always quoted (`"timestamp"`, `"type"`, `"count"`);
//! * whole rows are read through an explicit column list in table order, so
//!   adopted tables with another column order or extra columns still decode;
//! * text ordering and range comparisons use `COLLATE "C"` (byte order, the
//!   order of Rust strings and of the other backends) so keyset pagination is
//!   consistent whatever the database's default collation;
//! * `Cond::Like` is `COLLATE "C" ILIKE`, which folds ASCII letters only.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};

use kavach_store_core::query::count_shape;
use kavach_store_core::{
    Assign, CmpOp, ColumnDef, ColumnKind, Cond, Delete, OrderBy, Result, Row, Select, Shape,
    StoreError, Sum, TableDef, Update, Upsert, Value,
};
use sqlx::postgres::PgArguments;

use crate::row::{array_type, bind, bind_array};

/// A statement ready to run: cached SQL text and bound parameters.
#[derive(Clone)]
pub(crate) struct Stmt {
    pub sql: Arc<str>,
    pub args: PgArguments,
    /// A read (safe to run again on another connection).
    pub read_only: bool,
}

impl std::fmt::Debug for Stmt {
    // The SQL only: bound values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stmt")
            .field("sql", &self.sql)
            .finish_non_exhaustive()
    }
}

/// Quotes an identifier (`"name"`, with `"` doubled).
pub(crate) fn quote(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 2);
    push_quoted(&mut out, ident);
    out
}

fn push_quoted(out: &mut String, ident: &str) {
    out.push('"');
    for c in ident.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// Per-table SQL that does not depend on a query shape.
pub(crate) struct TableSql {
    /// `"a", "b", …` in table order.
    pub columns: String,
    /// Single-row `INSERT … VALUES ($1, …)`.
    pub insert_one: Arc<str>,
    /// Multi-row `INSERT … SELECT * FROM UNNEST($1::type[], …)`: one
    /// statement for any number of rows, one prepared statement per table.
    pub insert_unnest: Arc<str>,
}

impl TableSql {
    fn new(table: &TableDef) -> Result<TableSql> {
        let columns = table
            .columns
            .iter()
            .map(|c| quote(c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let name = quote(table.name);
        let placeholders = (1..=table.columns.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut arrays = Vec::with_capacity(table.columns.len());
        for (i, col) in table.columns.iter().enumerate() {
            let ty = array_type(col.kind).ok_or_else(|| {
                StoreError::invalid_input(
                    format!("{}.{}", table.name, col.name),
                    "unsupported column kind",
                )
            })?;
            arrays.push(format!("${}::{ty}", i + 1));
        }
        Ok(TableSql {
            insert_one: format!("INSERT INTO {name} ({columns}) VALUES ({placeholders})").into(),
            insert_unnest: format!(
                "INSERT INTO {name} ({columns}) SELECT * FROM UNNEST({})",
                arrays.join(", ")
            )
            .into(),
            columns,
        })
    }
}

// Statement kinds, so shapes shared by two statements (an update with and
// without RETURNING) get distinct cache entries.
const SELECT: u8 = 1;
const COUNT: u8 = 2;
const UPDATE: u8 = 3;
const UPDATE_RETURNING: u8 = 4;
const DELETE: u8 = 5;
const DELETE_RETURNING: u8 = 6;
const UPSERT: u8 = 7;
const SUM: u8 = 8;

/// Rendered SQL per shape and per table, shared by a store and its
/// transactions.
#[derive(Default)]
pub(crate) struct SqlCache {
    statements: RwLock<HashMap<(u64, u8), Arc<str>>>,
    tables: RwLock<HashMap<&'static str, Arc<TableSql>>>,
}

impl std::fmt::Debug for SqlCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlCache")
            .field("statements", &self.len())
            .finish()
    }
}

impl SqlCache {
    /// Number of cached shapes.
    pub fn len(&self) -> usize {
        self.statements.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn table(&self, table: &'static TableDef) -> Result<Arc<TableSql>> {
        if let Some(t) = self
            .tables
            .read()
            .ok()
            .and_then(|m| m.get(table.name).cloned())
        {
            return Ok(t);
        }
        let t = Arc::new(TableSql::new(table)?);
        if let Ok(mut m) = self.tables.write() {
            m.insert(table.name, t.clone());
        }
        Ok(t)
    }

    /// Runs `emit` with rendering on a cache miss, off on a hit.
    fn statement(
        &self,
        table: &'static TableDef,
        shape: Shape,
        kind: u8,
        emit: impl FnOnce(&mut Emit<'_>) -> Result<()>,
    ) -> Result<Stmt> {
        let key = (shape.0, kind);
        let cached = self
            .statements
            .read()
            .ok()
            .and_then(|m| m.get(&key).cloned());
        match cached {
            Some(sql) => {
                let mut e = Emit::new(table, None);
                emit(&mut e)?;
                Ok(Stmt {
                    sql,
                    args: e.args,
                    read_only: kind == SELECT || kind == COUNT || kind == SUM,
                })
            }
            None => {
                let mut text = String::with_capacity(256);
                let mut e = Emit::new(table, Some(&mut text));
                emit(&mut e)?;
                let args = e.args;
                let sql: Arc<str> = text.into();
                if let Ok(mut m) = self.statements.write() {
                    m.insert(key, sql.clone());
                }
                Ok(Stmt {
                    sql,
                    args,
                    read_only: kind == SELECT || kind == COUNT || kind == SUM,
                })
            }
        }
    }

    pub fn select(&self, q: &Select) -> Result<Stmt> {
        let t = self.table(q.table)?;
        self.statement(q.table, q.shape(), SELECT, |e| {
            e.push("SELECT ");
            e.push(&t.columns);
            e.push(" FROM ");
            e.ident(q.table.name);
            e.push(" WHERE ");
            e.cond(&q.filter)?;
            e.order_by(q.order)?;
            if let Some(limit) = q.limit {
                e.push(" LIMIT ");
                e.param_i64(clamp(limit))?;
            }
            if q.offset > 0 {
                e.push(" OFFSET ");
                e.param_i64(clamp(q.offset))?;
            }
            Ok(())
        })
    }

    pub fn count(&self, table: &'static TableDef, filter: &Cond) -> Result<Stmt> {
        self.statement(table, count_shape(table, filter), COUNT, |e| {
            e.push("SELECT COUNT(*) FROM ");
            e.ident(table.name);
            e.push(" WHERE ");
            e.cond(filter)
        })
    }

    pub fn update(&self, u: &Update, returning: bool) -> Result<Stmt> {
        if u.set.is_empty() {
            return Err(StoreError::invalid_input(
                u.table.name,
                "an update needs at least one assignment",
            ));
        }
        let t = self.table(u.table)?;
        let kind = if returning { UPDATE_RETURNING } else { UPDATE };
        self.statement(u.table, u.shape(), kind, |e| {
            e.push("UPDATE ");
            e.ident(u.table.name);
            e.push(" SET ");
            e.assignments(&u.set)?;
            e.push(" WHERE ");
            e.cond(&u.filter)?;
            if returning {
                e.push(" RETURNING ");
                e.push(&t.columns);
            }
            Ok(())
        })
    }

    pub fn delete(&self, d: &Delete, returning: bool) -> Result<Stmt> {
        let t = self.table(d.table)?;
        let kind = if returning { DELETE_RETURNING } else { DELETE };
        self.statement(d.table, d.shape(), kind, |e| {
            e.push("DELETE FROM ");
            e.ident(d.table.name);
            e.push(" WHERE ");
            e.cond(&d.filter)?;
            if returning {
                e.push(" RETURNING ");
                e.push(&t.columns);
            }
            Ok(())
        })
    }

    pub fn upsert(&self, u: &Upsert) -> Result<Stmt> {
        check_row(u.table, &u.row)?;
        if u.conflict.is_empty() {
            return Err(StoreError::invalid_input(
                u.table.name,
                "an upsert needs conflict columns",
            ));
        }
        let t = self.table(u.table)?;
        self.statement(u.table, u.shape(), UPSERT, |e| {
            e.push("INSERT INTO ");
            e.ident(u.table.name);
            e.push(" (");
            e.push(&t.columns);
            e.push(") VALUES (");
            for (i, (col, value)) in u.table.columns.iter().zip(&u.row).enumerate() {
                if i > 0 {
                    e.push(", ");
                }
                e.param(col, value)?;
            }
            e.push(") ON CONFLICT (");
            for (i, c) in u.conflict.iter().enumerate() {
                e.column(c)?;
                if i > 0 {
                    e.push(", ");
                }
                e.ident(c);
            }
            e.push(") DO UPDATE SET ");
            if u.on_conflict.is_empty() {
                // A no-op assignment, so the existing row is locked and returned
                // (DO NOTHING would return no row).
                e.ident(u.conflict[0]);
                e.push(" = ");
                e.ident(u.table.name);
                e.push(".");
                e.ident(u.conflict[0]);
            } else {
                e.assignments(&u.on_conflict)?;
            }
            e.push(" RETURNING ");
            e.push(&t.columns);
            Ok(())
        })
    }

    /// `SELECT [group,] COALESCE(SUM(col), 0)::BIGINT …`; the group (if any)
    /// is the first output column, the sum the last.
    pub fn sum(&self, s: &Sum) -> Result<Stmt> {
        self.statement(s.table, s.shape(), SUM, |e| {
            let col = e.column(s.column)?;
            if !matches!(col.kind, ColumnKind::Int) {
                return Err(StoreError::invalid_input(
                    format!("{}.{}", s.table.name, s.column),
                    "only integer columns can be summed",
                ));
            }
            e.push("SELECT ");
            if let Some(g) = s.group_by {
                e.column(g)?;
                e.ident(g);
                e.push(", ");
            }
            e.push("COALESCE(SUM(");
            e.ident(s.column);
            e.push("), 0)::BIGINT FROM ");
            e.ident(s.table.name);
            e.push(" WHERE ");
            e.cond(&s.filter)?;
            if let Some(g) = s.group_by {
                let text = e.column(g)?.kind == ColumnKind::Text;
                e.push(" GROUP BY ");
                e.ident(g);
                e.push(" ORDER BY 2 DESC, ");
                e.ident(g);
                if text {
                    e.push(" COLLATE \"C\"");
                }
                // The contract's value order puts NULL first.
                e.push(" ASC NULLS FIRST");
            }
            if let Some(limit) = s.limit {
                e.push(" LIMIT ");
                e.param_i64(clamp(limit))?;
            }
            Ok(())
        })
    }

    /// Single-row insert.
    pub fn insert_one(&self, table: &'static TableDef, row: &Row) -> Result<Stmt> {
        check_row(table, row)?;
        let t = self.table(table)?;
        let mut args = PgArguments::default();
        for (col, value) in table.columns.iter().zip(row) {
            bind(&mut args, table, col, value)?;
        }
        Ok(Stmt {
            sql: t.insert_one.clone(),
            args,
            read_only: false,
        })
    }

    /// Multi-row insert through `UNNEST`: one array parameter per column.
    pub fn insert_many(&self, table: &'static TableDef, rows: &[Row]) -> Result<Stmt> {
        for row in rows {
            check_row(table, row)?;
        }
        let t = self.table(table)?;
        let mut args = PgArguments::default();
        for (i, col) in table.columns.iter().enumerate() {
            bind_array(&mut args, table, col, rows.iter().map(|r| &r[i]))?;
        }
        Ok(Stmt {
            sql: t.insert_unnest.clone(),
            args,
            read_only: false,
        })
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn check_row(table: &TableDef, row: &Row) -> Result<()> {
    if row.len() != table.columns.len() {
        return Err(StoreError::invalid_input(
            table.name,
            format!(
                "a row of {} has {} values, got {}",
                table.name,
                table.columns.len(),
                row.len()
            ),
        ));
    }
    Ok(())
}

/// One render-and-bind traversal.
pub(crate) struct Emit<'a> {
    table: &'static TableDef,
    sql: Option<&'a mut String>,
    args: PgArguments,
    n: usize,
}

impl<'a> Emit<'a> {
    fn new(table: &'static TableDef, sql: Option<&'a mut String>) -> Emit<'a> {
        Emit {
            table,
            sql,
            args: PgArguments::default(),
            n: 0,
        }
    }

    fn push(&mut self, s: &str) {
        if let Some(sql) = self.sql.as_deref_mut() {
            sql.push_str(s);
        }
    }

    fn ident(&mut self, name: &str) {
        if let Some(sql) = self.sql.as_deref_mut() {
            push_quoted(sql, name);
        }
    }

    fn placeholder(&mut self) {
        self.n += 1;
        let n = self.n;
        if let Some(sql) = self.sql.as_deref_mut() {
            let _ = write!(sql, "${n}");
        }
    }

    fn column(&self, name: &str) -> Result<&'static ColumnDef> {
        self.table.column(name).ok_or_else(|| {
            StoreError::invalid_input(format!("{}.{name}", self.table.name), "no such column")
        })
    }

    fn param(&mut self, col: &ColumnDef, value: &Value) -> Result<()> {
        bind(&mut self.args, self.table, col, value)?;
        self.placeholder();
        Ok(())
    }

    fn param_i64(&mut self, v: i64) -> Result<()> {
        sqlx::Arguments::add(&mut self.args, v)
            .map_err(|e| StoreError::invalid_input(self.table.name, e.to_string()))?;
        self.placeholder();
        Ok(())
    }

    fn param_str(&mut self, v: &str) -> Result<()> {
        sqlx::Arguments::add(&mut self.args, v)
            .map_err(|e| StoreError::invalid_input(self.table.name, e.to_string()))?;
        self.placeholder();
        Ok(())
    }

    /// `"col"`, followed by `COLLATE "C"` for text columns when `bytewise`.
    fn column_expr(&mut self, col: &ColumnDef, bytewise: bool) {
        self.ident(col.name);
        if bytewise && col.kind == ColumnKind::Text {
            self.push(" COLLATE \"C\"");
        }
    }

    fn order_by(&mut self, order: &[OrderBy]) -> Result<()> {
        for (i, o) in order.iter().enumerate() {
            let col = self.column(o.column)?;
            self.push(if i == 0 { " ORDER BY " } else { ", " });
            self.column_expr(col, true);
            if o.descending {
                self.push(" DESC");
            }
        }
        Ok(())
    }

    fn assignments(&mut self, set: &[Assign]) -> Result<()> {
        for (i, a) in set.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            match a {
                Assign::Set(c, value) => {
                    let col = self.column(c)?;
                    self.ident(c);
                    self.push(" = ");
                    if value.is_null() {
                        self.push("NULL");
                    } else {
                        self.param(col, value)?;
                    }
                }
                Assign::Add(c, delta) => {
                    let col = self.column(c)?;
                    if col.kind != ColumnKind::Int {
                        return Err(StoreError::invalid_input(
                            format!("{}.{c}", self.table.name),
                            "only integer columns can be incremented",
                        ));
                    }
                    self.ident(c);
                    self.push(" = ");
                    // Qualified, so the same text works in ON CONFLICT DO UPDATE.
                    self.ident(self.table.name);
                    self.push(".");
                    self.ident(c);
                    self.push(" + ");
                    self.param_i64(*delta)?;
                }
            }
        }
        Ok(())
    }

    fn cond(&mut self, cond: &Cond) -> Result<()> {
        match cond {
            Cond::All => self.push("TRUE"),
            Cond::Cmp(c, op, value) => {
                let col = self.column(c)?;
                if value.is_null() {
                    // A comparison with NULL is never true.
                    self.push("FALSE");
                } else {
                    self.column_expr(col, !matches!(op, CmpOp::Eq | CmpOp::Ne));
                    self.push(" ");
                    self.push(op.sql());
                    self.push(" ");
                    self.param(col, value)?;
                }
            }
            Cond::CmpColumn(a, op, b) => {
                let (ca, cb) = (self.column(a)?, self.column(b)?);
                let bytewise = !matches!(op, CmpOp::Eq | CmpOp::Ne);
                self.column_expr(ca, bytewise);
                self.push(" ");
                self.push(op.sql());
                self.push(" ");
                self.column_expr(cb, bytewise);
            }
            Cond::IsNull(c) => {
                self.column(c)?;
                self.ident(c);
                self.push(" IS NULL");
            }
            Cond::IsNotNull(c) => {
                self.column(c)?;
                self.ident(c);
                self.push(" IS NOT NULL");
            }
            Cond::In(c, values) => {
                let col = self.column(c)?;
                if values.is_empty() {
                    self.push("FALSE");
                } else if col.kind != ColumnKind::Json {
                    // One array parameter: the same statement for any list length.
                    self.ident(c);
                    self.push(" = ANY(");
                    bind_array(&mut self.args, self.table, col, values.iter())?;
                    self.placeholder();
                    self.push(")");
                } else {
                    self.ident(c);
                    self.push(" IN (");
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            self.push(", ");
                        }
                        self.param(col, v)?;
                    }
                    self.push(")");
                }
            }
            Cond::Like(c, pattern) => {
                let col = self.column(c)?;
                if col.kind == ColumnKind::Text {
                    self.ident(c);
                } else {
                    self.push("CAST(");
                    self.ident(c);
                    self.push(" AS TEXT)");
                }
                // C collation: ILIKE folds ASCII letters only, as on every backend.
                self.push(" COLLATE \"C\" ILIKE ");
                self.param_str(&pattern.to_sql_pattern('\\'))?;
                self.push(" ESCAPE '\\'");
            }
            Cond::And(conds) | Cond::Or(conds) => {
                let and = matches!(cond, Cond::And(_));
                if conds.is_empty() {
                    self.push(if and { "TRUE" } else { "FALSE" });
                } else {
                    self.push("(");
                    for (i, c) in conds.iter().enumerate() {
                        if i > 0 {
                            self.push(if and { " AND " } else { " OR " });
                        }
                        self.cond(c)?;
                    }
                    self.push(")");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kavach_store_core::{LikePattern, Record};

    const NEWEST: &[OrderBy] = &[OrderBy::desc("created_at"), OrderBy::desc("id")];

    fn agents() -> &'static TableDef {
        kavach_store_core::Agent::table_def()
    }

    #[test]
    fn select_renders_once_and_binds_in_order() {
        let cache = SqlCache::default();
        let q = Select::new(
            agents(),
            Cond::eq("owner_id", "u1").and(Cond::Or(vec![
                Cond::lt("created_at", chrono::Utc::now()),
                Cond::IsNull("tenant_id"),
            ])),
        )
        .order(NEWEST)
        .limit(10);
        let a = cache.select(&q).unwrap();
        assert!(
            a.sql.starts_with("SELECT \"id\", \"owner_id\""),
            "{}",
            a.sql
        );
        assert!(
            a.sql.ends_with(
                "FROM \"kavach_agents\" WHERE (\"owner_id\" = $1 AND (\"created_at\" < $2 OR \"tenant_id\" IS NULL)) \
                 ORDER BY \"created_at\" DESC, \"id\" COLLATE \"C\" DESC LIMIT $3"
            ),
            "{}",
            a.sql
        );
        let q2 = Select::new(
            agents(),
            Cond::eq("owner_id", "u2").and(Cond::Or(vec![
                Cond::lt("created_at", chrono::Utc::now()),
                Cond::IsNull("tenant_id"),
            ])),
        )
        .order(NEWEST)
        .limit(99);
        let b = cache.select(&q2).unwrap();
        assert!(
            Arc::ptr_eq(&a.sql, &b.sql),
            "same shape must reuse the cached text"
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn null_comparisons_empty_lists_and_likes() {
        let cache = SqlCache::default();
        let q = Select::new(
            agents(),
            Cond::And(vec![
                Cond::Cmp("tenant_id", CmpOp::Eq, Value::Null),
                Cond::In("id", vec![]),
                Cond::is_in("status", ["active", "revoked"]),
                Cond::Like("name", LikePattern::Contains("50%_off".into())),
                Cond::Or(vec![]),
                Cond::And(vec![]),
            ]),
        );
        let s = cache.select(&q).unwrap();
        assert!(
            s.sql.ends_with(
                "WHERE (FALSE AND FALSE AND \"status\" = ANY($1) AND \"name\" COLLATE \"C\" ILIKE $2 ESCAPE '\\' AND FALSE AND TRUE)"
            ),
            "{}",
            s.sql
        );
        assert_eq!(
            LikePattern::Contains("50%_off".into()).to_sql_pattern('\\'),
            "%50\\%\\_off%"
        );
    }

    #[test]
    fn upsert_and_update_render() {
        let cache = SqlCache::default();
        let def = kavach_store_core::RateLimit::table_def();
        let row = vec![
            Value::from("r1"),
            Value::from("a1"),
            Value::from("tool"),
            Value::Timestamp(chrono::Utc::now()),
            Value::Int(1),
        ];
        let u = Upsert {
            table: def,
            row,
            conflict: &["agent_id", "resource", "window_start"],
            on_conflict: vec![Assign::Add("count", 1)],
        };
        let s = cache.upsert(&u).unwrap();
        assert!(
            s.sql.contains(
                "ON CONFLICT (\"agent_id\", \"resource\", \"window_start\") DO UPDATE SET \"count\" = \"kavach_rate_limits\".\"count\" + $6 RETURNING"
            ),
            "{}",
            s.sql
        );
        let up = Update {
            table: def,
            filter: Cond::eq("id", "r1"),
            set: vec![
                Assign::Set("resource", Value::Null),
                Assign::Add("count", 2),
            ],
        };
        let s = cache.update(&up, true).unwrap();
        assert!(s.sql.starts_with(
            "UPDATE \"kavach_rate_limits\" SET \"resource\" = NULL, \"count\" = \"kavach_rate_limits\".\"count\" + $1 WHERE \"id\" = $2 RETURNING"
        ));
        let s2 = cache.update(&up, false).unwrap();
        assert!(!s2.sql.contains("RETURNING"));
    }

    #[test]
    fn bad_input_is_rejected_before_the_server() {
        let cache = SqlCache::default();
        let q = Select::new(agents(), Cond::eq("no_such_column", "x"));
        assert!(cache.select(&q).unwrap_err().is_invalid_input());
        let q = Select::new(agents(), Cond::eq("created_at", "not a time"));
        assert!(cache.select(&q).unwrap_err().is_invalid_input());
        let table_sql = cache.table(agents()).unwrap();
        assert!(table_sql.insert_unnest.contains("UNNEST($1::text[]"));
    }
}

//! Versioned, embedded migrations, recorded in `kavach_store_migrations`.
//!
//! | Version | Name | What |
//! |---|---|---|
//! | 1 | `kavach_tables` | the 48 tables, generated from the core's [`TableDef`]s: `CREATE TABLE IF NOT EXISTS`, then `ALTER TABLE … ADD COLUMN` for every column an existing table lacks |
//! | 2 | `merge_duplicate_rate_limit_buckets` | `migrations/0002_merge_duplicate_rate_limit_buckets.sql` |
//! | 3 | `kavach_indexes` | every unique constraint and index of the [`TableDef`]s |
//!
//! Versions 1 and 3 are generated (a table, column or index added to the
//! core needs no change here); their checksum is a hash of the generated SQL,
//! so when the core's schema grows they run again on the next `migrate()`.
//! Everything they do is additive (`IF NOT EXISTS`, missing columns only):
//! user data is never dropped or rewritten. Version 2 is plain SQL.
//!
//! **Adoption of a KavachOS database** (tables created by KavachOS's
//! `createTables`, no ledger): version 1 keeps the existing tables and adds
//! missing columns (e.g. `kavach_users.email_verified`) with the DDL default
//! (a `NOT NULL` column without a default is added as nullable, since SQLite
//! cannot add it otherwise); foreign keys of added columns are not added
//! (SQLite cannot add a constraint without rebuilding the table). Version 2
//! merges duplicate rate-limit buckets (their counts are summed). Version 3
//! adds our unique constraints; when existing rows violate one, migration
//! fails with a [`StoreError::Conflict`] naming the table and columns, and
//! nothing is changed. A unique index KavachOS already has on the same
//! columns (its column-level `UNIQUE`) is reused.
//!
//! **Indexes with a timestamp column** are built on the normalising
//! expression of `sql::ts_expr` (so range queries and ordering are
//! correct when a column mixes seconds, milliseconds and ISO text, and still
//! use the index), followed by the primary key (so keyset pages are read in
//! index order). They are named `<index>_s` or `<index>_ms` after the unit
//! they normalise to, which keeps them apart from KavachOS's plain-column
//! indexes of the same base name. Unique constraints stay on plain columns.
//!
//! **Concurrency**: everything runs in one `BEGIN IMMEDIATE` transaction, so
//! two processes migrating at once serialise on SQLite's write lock (the
//! second waits up to `busy_timeout`, then finds the ledger up to date).

use std::collections::HashSet;

use kavach_store_core::admin::{ColumnInfo, IndexInfo, MigrationInfo, MigrationStatus, TableInfo};
use kavach_store_core::{
    ColumnDef, ColumnKind, DefaultValue, OnDelete, StoreError, TableDef, all_tables,
};
use rusqlite::{Connection, OptionalExtension};

use crate::error::map;
use crate::row::TimestampMode;
use crate::sql::{quote, ts_expr};

/// Name of the ledger table.
pub const LEDGER_TABLE: &str = "kavach_store_migrations";

/// What a [`crate::SqliteStore::migrate`] run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationReport {
    /// Migrations applied now (or re-applied after the core's schema grew).
    pub applied: Vec<MigrationInfo>,
    /// True when the database had `kavach_*` tables but no ledger (created by KavachOS).
    pub adopted: bool,
    /// Tables created.
    pub created_tables: Vec<String>,
    /// Columns added to existing tables, as `table.column`.
    pub added_columns: Vec<String>,
    /// Indexes and unique constraints created.
    pub created_indexes: Vec<String>,
    /// Duplicate rate-limit bucket rows merged into their bucket's first row.
    pub merged_rate_limit_rows: u64,
}

impl MigrationReport {
    /// True when nothing was applied (the database was up to date).
    pub fn is_noop(&self) -> bool {
        self.applied.is_empty()
    }
}

enum Step {
    Tables,
    Sql(&'static str),
    Indexes,
}

struct Migration {
    version: i64,
    name: &'static str,
    step: Step,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "kavach_tables",
        step: Step::Tables,
    },
    Migration {
        version: 2,
        name: "merge_duplicate_rate_limit_buckets",
        step: Step::Sql(include_str!(
            "../migrations/0002_merge_duplicate_rate_limit_buckets.sql"
        )),
    },
    Migration {
        version: 3,
        name: "kavach_indexes",
        step: Step::Indexes,
    },
];

/// SQLite storage class of a column kind.
pub(crate) fn sql_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Text | ColumnKind::Json => "TEXT",
        // Int, Bool, IntBool (0/1), Timestamp (Unix s), TimestampMs (Unix ms).
        _ => "INTEGER",
    }
}

fn literal(default: &DefaultValue) -> String {
    match default {
        DefaultValue::Bool(b) => (*b as i64).to_string(),
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Text(s) | DefaultValue::Json(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

fn column_sql(table: &TableDef, c: &ColumnDef) -> String {
    let mut s = format!("{} {}", quote(c.name), sql_type(c.kind));
    if c.name == table.primary_key {
        s.push_str(" PRIMARY KEY");
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(" DEFAULT ");
        s.push_str(&literal(d));
    }
    if let Some(fk) = table.foreign_keys.iter().find(|fk| fk.column == c.name) {
        s.push_str(&format!(
            " REFERENCES {}({})",
            quote(fk.parent_table),
            quote(fk.parent_column)
        ));
        if fk.on_delete == OnDelete::Cascade {
            s.push_str(" ON DELETE CASCADE");
        }
    }
    s
}

/// `CREATE TABLE IF NOT EXISTS` of one table, generated from its definition.
pub fn create_table_sql(table: &TableDef) -> String {
    let cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("    {}", column_sql(table, c)))
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{}\n)",
        quote(table.name),
        cols.join(",\n")
    )
}

/// `ALTER TABLE … ADD COLUMN` for a column an existing table lacks.
fn add_column_sql(table: &TableDef, c: &ColumnDef) -> String {
    let mut s = format!(
        "ALTER TABLE {} ADD COLUMN {} {}",
        quote(table.name),
        quote(c.name),
        sql_type(c.kind)
    );
    // SQLite cannot add a NOT NULL column without a default: such a column
    // is added as nullable.
    if let Some(d) = &c.default {
        if !c.nullable {
            s.push_str(" NOT NULL");
        }
        s.push_str(" DEFAULT ");
        s.push_str(&literal(d));
    }
    s
}

/// The indexes of a table as `(name, columns, unique, sql)`.
fn index_sql(
    table: &TableDef,
    mode: TimestampMode,
) -> Vec<(String, Vec<&'static str>, bool, String)> {
    let mut out = Vec::new();
    for u in &table.uniques {
        let cols = u
            .columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({cols})",
            quote(u.name),
            quote(table.name)
        );
        out.push((u.name.to_string(), u.columns.to_vec(), true, sql));
    }
    for ix in &table.indexes {
        let unit = ix
            .columns
            .iter()
            .find_map(|c| table.column(c).and_then(|d| mode.unit(d.kind)));
        let mut parts: Vec<String> = ix
            .columns
            .iter()
            .map(|c| match table.column(c).and_then(|d| mode.unit(d.kind)) {
                Some(u) => ts_expr(c, u),
                None => quote(c),
            })
            .collect();
        let name = match unit {
            None => ix.name.to_string(),
            Some(u) => {
                // Ordering indexes end with the primary key: keyset pages
                // (time, id) are then read in index order.
                if !ix.columns.contains(&table.primary_key) {
                    parts.push(quote(table.primary_key));
                }
                match u {
                    crate::row::TimestampUnit::Seconds => format!("{}_s", ix.name),
                    crate::row::TimestampUnit::Millis => format!("{}_ms", ix.name),
                }
            }
        };
        let sql = format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
            quote(&name),
            quote(table.name),
            parts.join(", ")
        );
        out.push((name, ix.columns.to_vec(), false, sql));
    }
    out
}

/// The whole schema as SQL (tables then indexes), as a fresh database gets
/// it; for documentation and tooling (`kavach-store` CLI `schema`).
pub fn schema_sql(mode: TimestampMode) -> String {
    let mut out = String::new();
    for t in all_tables() {
        out.push_str(&create_table_sql(t));
        out.push_str(";\n\n");
    }
    for t in all_tables() {
        for (_, _, _, sql) in index_sql(t, mode) {
            out.push_str(&sql);
            out.push_str(";\n");
        }
    }
    out
}

/// A stable 64-bit FNV-1a hash (std's hasher may change between releases).
fn fnv(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn checksum(step: &Step, mode: TimestampMode) -> String {
    match step {
        Step::Tables => fnv(&all_tables()
            .iter()
            .map(|t| create_table_sql(t))
            .collect::<Vec<_>>()
            .join(";")),
        Step::Sql(sql) => fnv(sql),
        Step::Indexes => fnv(&all_tables()
            .iter()
            .flat_map(|t| index_sql(t, mode))
            .map(|(_, _, _, sql)| sql)
            .collect::<Vec<_>>()
            .join(";")),
    }
}

fn ledger_err(e: rusqlite::Error) -> StoreError {
    map(LEDGER_TABLE, e)
}

/// Runs every pending migration in one `BEGIN IMMEDIATE` transaction.
pub(crate) fn migrate(
    conn: &mut Connection,
    mode: TimestampMode,
) -> Result<MigrationReport, StoreError> {
    crate::ops::begin_immediate(conn).map_err(ledger_err)?;
    let result = run(conn, mode);
    match result {
        Ok(report) => {
            conn.execute_batch("COMMIT").map_err(ledger_err)?;
            Ok(report)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn run(conn: &Connection, mode: TimestampMode) -> Result<MigrationReport, StoreError> {
    let mut report = MigrationReport::default();
    let had_ledger = table_exists(conn, LEDGER_TABLE)?;
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
            version INTEGER PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )"
    ))
    .map_err(ledger_err)?;
    if !had_ledger {
        report.adopted = all_tables()
            .iter()
            .any(|t| table_exists(conn, t.name).unwrap_or(false));
    }
    for m in MIGRATIONS {
        let sum = checksum(&m.step, mode);
        let recorded: Option<String> = conn
            .query_row(
                &format!("SELECT checksum FROM {LEDGER_TABLE} WHERE version = ?1"),
                [m.version],
                |r| r.get(0),
            )
            .optional()
            .map_err(ledger_err)?;
        match (&recorded, &m.step) {
            (Some(r), _) if *r == sum => continue,
            // A plain SQL migration never runs twice, even if its file changed.
            (Some(_), Step::Sql(_)) => continue,
            _ => {}
        }
        match &m.step {
            Step::Tables => apply_tables(conn, &mut report)?,
            Step::Sql(sql) => apply_sql(conn, m, sql, &mut report)?,
            Step::Indexes => apply_indexes(conn, mode, &mut report)?,
        }
        conn.execute(
            &format!(
                "INSERT INTO {LEDGER_TABLE} (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (version) DO UPDATE SET checksum = excluded.checksum, applied_at = excluded.applied_at"
            ),
            rusqlite::params![m.version, m.name, sum, chrono::Utc::now().timestamp()],
        )
        .map_err(ledger_err)?;
        report.applied.push(MigrationInfo {
            version: m.version,
            name: m.name.to_string(),
        });
    }
    Ok(report)
}

fn table_exists(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
    .map_err(ledger_err)
}

fn existing_columns(conn: &Connection, table: &'static str) -> Result<HashSet<String>, StoreError> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({})", quote(table)))
        .map_err(|e| map(table, e))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))
        .and_then(|rows| rows.collect::<Result<HashSet<_>, _>>())
        .map_err(|e| map(table, e))?;
    Ok(names.into_iter().map(|n| n.to_ascii_lowercase()).collect())
}

fn apply_tables(conn: &Connection, report: &mut MigrationReport) -> Result<(), StoreError> {
    for t in all_tables() {
        if !table_exists(conn, t.name)? {
            conn.execute_batch(&create_table_sql(t))
                .map_err(|e| map(t.name, e))?;
            report.created_tables.push(t.name.to_string());
            continue;
        }
        let have = existing_columns(conn, t.name)?;
        for c in &t.columns {
            if !have.contains(&c.name.to_ascii_lowercase()) {
                conn.execute_batch(&add_column_sql(t, c))
                    .map_err(|e| map(t.name, e))?;
                report.added_columns.push(format!("{}.{}", t.name, c.name));
            }
        }
    }
    Ok(())
}

fn apply_sql(
    conn: &Connection,
    m: &Migration,
    sql: &str,
    report: &mut MigrationReport,
) -> Result<(), StoreError> {
    let count = |conn: &Connection| -> Result<i64, StoreError> {
        conn.query_row("SELECT COUNT(*) FROM kavach_rate_limits", [], |r| r.get(0))
            .map_err(|e| map("kavach_rate_limits", e))
    };
    let before = if m.version == 2 { count(conn)? } else { 0 };
    conn.execute_batch(sql).map_err(|e| map(LEDGER_TABLE, e))?;
    if m.version == 2 {
        report.merged_rate_limit_rows = (before - count(conn)?).max(0) as u64;
    }
    Ok(())
}

/// Column sets of the existing non-partial unique indexes of a table.
fn unique_column_sets(
    conn: &Connection,
    table: &'static str,
) -> Result<Vec<Vec<String>>, StoreError> {
    let err = |e| map(table, e);
    let mut list = conn
        .prepare(&format!("PRAGMA index_list({})", quote(table)))
        .map_err(err)?;
    // Columns: seq, name, unique, origin, partial.
    let indexes: Vec<(String, bool, bool)> = list
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? == 1,
                r.get::<_, i64>(4)? == 1,
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(err)?;
    let mut sets = Vec::new();
    for (name, unique, partial) in indexes {
        if !unique || partial {
            continue;
        }
        let mut info = conn
            .prepare(&format!("PRAGMA index_info({})", quote(&name)))
            .map_err(err)?;
        let mut cols: Vec<String> = info
            .query_map([], |r| r.get::<_, Option<String>>(2))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(err)?
            .into_iter()
            // An expression column has no name: such an index never matches.
            .map(|c| c.unwrap_or_default().to_ascii_lowercase())
            .collect();
        cols.sort();
        sets.push(cols);
    }
    Ok(sets)
}

fn apply_indexes(
    conn: &Connection,
    mode: TimestampMode,
    report: &mut MigrationReport,
) -> Result<(), StoreError> {
    for t in all_tables() {
        let uniques = unique_column_sets(conn, t.name)?;
        for (name, columns, unique, sql) in index_sql(t, mode) {
            let exists = conn
                .query_row(
                    "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    [&name],
                    |_| Ok(()),
                )
                .optional()
                .map_err(|e| map(t.name, e))?
                .is_some();
            if exists {
                continue;
            }
            if unique {
                let mut want: Vec<String> =
                    columns.iter().map(|c| c.to_ascii_lowercase()).collect();
                want.sort();
                if uniques.contains(&want) {
                    // KavachOS's column-level UNIQUE already enforces it.
                    continue;
                }
            }
            if let Err(e) = conn.execute_batch(&sql) {
                if unique
                    && crate::error::primary_code(&e) == Some(rusqlite::ffi::SQLITE_CONSTRAINT)
                {
                    return Err(StoreError::Conflict {
                        table: t.name,
                        constraint: format!(
                            "{name} on ({}): existing rows hold duplicate values; resolve the duplicates and run migrate() again",
                            columns.join(", ")
                        ),
                        source: Some(Box::new(e)),
                    });
                }
                return Err(map(t.name, e));
            }
            report.created_indexes.push(name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kavach_store_core::{AuditLog, Record, User};

    #[test]
    fn generated_ddl_uses_spec_storage_classes() {
        let sql = create_table_sql(User::table_def());
        assert!(sql.contains("\"id\" TEXT PRIMARY KEY NOT NULL"), "{sql}");
        assert!(
            sql.contains("\"email_verified\" INTEGER NOT NULL DEFAULT 0"),
            "{sql}"
        );
        assert!(sql.contains("\"metadata\" TEXT"), "{sql}");
        assert!(sql.contains("\"created_at\" INTEGER NOT NULL"), "{sql}");
        let audit = create_table_sql(AuditLog::table_def());
        assert!(
            audit.contains("REFERENCES \"kavach_agents\"(\"id\")"),
            "{audit}"
        );
    }

    #[test]
    fn timestamp_indexes_are_on_the_normalising_expression() {
        let ix = index_sql(AuditLog::table_def(), TimestampMode::KavachOs);
        let (name, _, _, sql) = ix
            .iter()
            .find(|(n, ..)| n.starts_with("kavach_audit_logs_agent_ts"))
            .unwrap();
        assert_eq!(name, "kavach_audit_logs_agent_ts_s");
        assert!(
            sql.contains("\"agent_id\", (CASE typeof(\"timestamp\")"),
            "{sql}"
        );
        assert!(sql.ends_with(", \"id\")"), "{sql}");
    }
}

/// Applied and pending migrations. A generated migration whose SQL changed
/// since it ran (the core's schema grew) is pending again.
pub(crate) fn status(
    conn: &Connection,
    mode: TimestampMode,
) -> Result<MigrationStatus, StoreError> {
    let mut status = MigrationStatus::default();
    let recorded: Vec<(i64, String, String)> = if table_exists(conn, LEDGER_TABLE)? {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT version, name, checksum FROM {LEDGER_TABLE} ORDER BY version"
            ))
            .map_err(ledger_err)?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(ledger_err)?
    } else {
        Vec::new()
    };
    for m in MIGRATIONS {
        let info = MigrationInfo {
            version: m.version,
            name: m.name.to_string(),
        };
        match recorded.iter().find(|(v, ..)| *v == m.version) {
            Some((_, _, sum))
                if matches!(m.step, Step::Sql(_)) || *sum == checksum(&m.step, mode) =>
            {
                status.applied.push(info)
            }
            _ => status.pending.push(info),
        }
    }
    Ok(status)
}

/// Every `kavach_*` table with its columns and indexes. Index columns on
/// expressions are given as the expression's SQL text.
pub(crate) fn inspect(conn: &Connection) -> Result<Vec<TableInfo>, StoreError> {
    let err = |e| map("sqlite_master", e);
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'kavach\\_%' ESCAPE '\\' ORDER BY name")
        .map_err(err)?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
        .map_err(err)?
        .into_iter()
        .filter(|n| n != LEDGER_TABLE)
        .collect();
    let mut out = Vec::new();
    for name in names {
        let mut cols = conn
            .prepare(&format!("PRAGMA table_info({})", quote(&name)))
            .map_err(err)?;
        let columns = cols
            .query_map([], |r| {
                Ok(ColumnInfo {
                    name: r.get(1)?,
                    sql_type: r.get(2)?,
                    // A primary key is NOT NULL in KavachOS's sense even when SQLite allows NULL.
                    nullable: r.get::<_, i64>(3)? == 0 && r.get::<_, i64>(5)? == 0,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(err)?;
        let mut list = conn
            .prepare(&format!("PRAGMA index_list({})", quote(&name)))
            .map_err(err)?;
        let indexes: Vec<(String, bool)> = list
            .query_map([], |r| {
                Ok((r.get::<_, String>(1)?, r.get::<_, i64>(2)? == 1))
            })
            .and_then(|rows| rows.collect())
            .map_err(err)?;
        let mut infos = Vec::new();
        for (index, unique) in indexes {
            let sql: Option<String> = conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    [&index],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?
                .flatten();
            let mut info = conn
                .prepare(&format!("PRAGMA index_info({})", quote(&index)))
                .map_err(err)?;
            let named: Vec<Option<String>> = info
                .query_map([], |r| r.get(2))
                .and_then(|rows| rows.collect())
                .map_err(err)?;
            let exprs = sql.as_deref().map(index_terms).unwrap_or_default();
            let columns = named
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    c.or_else(|| exprs.get(i).cloned())
                        .unwrap_or_else(|| "<expression>".into())
                })
                .collect();
            infos.push(IndexInfo {
                name: index,
                columns,
                unique,
            });
        }
        out.push(TableInfo {
            name,
            columns,
            indexes: infos,
        });
    }
    Ok(out)
}

/// The terms of `CREATE INDEX … ON t (term, term, …)`, split at top-level
/// commas (outside parentheses and quotes).
fn index_terms(sql: &str) -> Vec<String> {
    let Some(on) = sql.find(" ON ").or_else(|| sql.find(" on ")) else {
        return Vec::new();
    };
    let rest = &sql[on..];
    let Some(open) = rest.find('(') else {
        return Vec::new();
    };
    let (mut depth, mut quote_char, mut term, mut terms) =
        (0usize, None::<char>, String::new(), Vec::new());
    for c in rest[open + 1..].chars() {
        match (quote_char, c) {
            (Some(q), c) if c == q => {
                quote_char = None;
                term.push(c);
            }
            (Some(_), c) => term.push(c),
            (None, '\'' | '"' | '`') => {
                quote_char = Some(c);
                term.push(c);
            }
            (None, '(') => {
                depth += 1;
                term.push(c);
            }
            (None, ')') if depth == 0 => {
                terms.push(term.trim().to_string());
                return terms;
            }
            (None, ')') => {
                depth -= 1;
                term.push(c);
            }
            (None, ',') if depth == 0 => terms.push(std::mem::take(&mut term).trim().to_string()),
            (None, c) => term.push(c),
        }
    }
    Vec::new()
}

/// Whether a declared SQLite column type can hold `column`'s values, by
/// SQLite's type-affinity rules (INTEGER/NUMERIC affinity for integers,
/// booleans and timestamps, TEXT affinity for text and JSON).
pub(crate) fn type_compatible(column: &ColumnDef, sql_type: &str) -> bool {
    let t = sql_type.to_ascii_uppercase();
    let text = t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT");
    let integer = t.contains("INT");
    let numeric = !text
        && !integer
        && !t.contains("BLOB")
        && !t.contains("REAL")
        && !t.contains("FLOA")
        && !t.contains("DOUB")
        && !t.is_empty();
    match column.kind {
        ColumnKind::Text => text,
        ColumnKind::Json => text || t.starts_with("JSON"),
        // Timestamps may also hold ISO text (Prisma) or REAL: any affinity
        // but TEXT keeps integers as integers.
        _ => integer || numeric || t.is_empty(),
    }
}

#[cfg(test)]
mod admin_tests {
    use super::*;

    #[test]
    fn splits_index_terms_at_top_level_commas() {
        let sql = "CREATE INDEX \"i\" ON \"t\" (\"agent_id\", (CASE typeof(\"ts\") WHEN 'a,b' THEN 1 END), \"id\")";
        assert_eq!(
            index_terms(sql),
            [
                "\"agent_id\"",
                "(CASE typeof(\"ts\") WHEN 'a,b' THEN 1 END)",
                "\"id\""
            ]
        );
    }
}

#[cfg(test)]
mod precision_doc_tests {
    use kavach_store_core::{ColumnKind, all_tables};

    /// Pins the counts the README's precision table states.
    #[test]
    fn ninety_one_second_columns_and_one_millisecond_column() {
        let count = |k: ColumnKind| {
            all_tables()
                .iter()
                .flat_map(|t| t.columns.iter().map(move |c| (t.name, c)))
                .filter(|(_, c)| c.kind == k)
                .map(|(t, c)| format!("{t}.{}", c.name))
                .collect::<Vec<_>>()
        };
        assert_eq!(count(ColumnKind::Timestamp).len(), 91);
        assert_eq!(
            count(ColumnKind::TimestampMs),
            ["kavach_login_history.timestamp"]
        );
    }
}

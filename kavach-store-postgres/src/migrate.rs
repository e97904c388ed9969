//! Schema migrations: versioned, recorded, serialized by an advisory lock,
//! idempotent, and able to adopt databases created by KavachOS or Prisma.
//!
//! ## Where the DDL comes from
//!
//! The schema is **generated from the core's [`TableDef`]s** plus one type
//! mapping ([`column_type`]), not hand-written per table. Adding a table to
//! kavach-store means adding its `record!` in the core; this crate needs no
//! change (a new [`ColumnKind`] would need one line in [`column_type`]).
//! The full DDL of a fresh database is [`schema_sql`], for review or for
//! DBAs who create schemas by hand.
//!
//! The same definitions drive **reconciliation**, which runs on every
//! [`crate::PgStore::migrate`]: tables that are missing are created; tables
//! that exist (created by KavachOS's `createTables`, by Prisma, or by an
//! older kavach-store) get their missing columns, unique indexes, indexes
//! and foreign keys added. Nothing is ever dropped, retyped or rewritten:
//!
//! * KavachOS's `INTEGER` (32-bit) columns stay `INTEGER`; values above
//!   2^31-1 are then refused with `InvalidInput` (SQLSTATE 22003). Our own
//!   tables use `BIGINT`.
//! * Prisma's `timestamp(3)` (no time zone) stays; sqlx sessions run with
//!   `TimeZone=UTC`, so those values are read and written as UTC.
//! * A missing `NOT NULL` column without a default is added as nullable when
//!   the table already holds rows (reported in
//!   [`MigrationReport::relaxed_not_null`]).
//! * Foreign keys added to tables that already hold data are `NOT VALID`:
//!   enforced for new rows (and their cascades work), existing orphans stay.
//! * A unique index that cannot be built because existing rows violate it
//!   fails the migration with `Conflict` naming the index: nothing is
//!   deleted to make it fit.
//!
//! Equivalent existing objects are recognised by their columns, not their
//! names (KavachOS's implicit `<table>_<column>_key` uniques, Prisma's
//! `@@index` names, the DDL's `kavach_login_history_user_ts`, …).
//!
//! ## Versions
//!
//! The ledger `kavach_store_migrations` records applied versions. Version 1
//! is the generated schema. Changes that cannot be derived from table
//! definitions (renames, data backfills) are added to [`MIGRATIONS`] as
//! embedded SQL files (`migrations/NNNN_name.sql`, via `include_str!`); they
//! run once, in order, on databases that recorded an older version. A fresh
//! or adopted database gets the current generated schema directly and
//! records every version as applied.
//!
//! ## Concurrency
//!
//! Everything runs in one transaction holding
//! `pg_advisory_xact_lock(hash('kavach-store-postgres:' || schema))`, so two
//! processes migrating the same schema run one after the other and the
//! second finds nothing to do; stores in different schemas do not wait for
//! each other.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use kavach_store_core::admin::{ColumnInfo, IndexInfo, MigrationInfo, MigrationStatus, TableInfo};
use kavach_store_core::{
    ColumnDef, ColumnKind, DefaultValue, OnDelete, Result, StoreError, TableDef, all_tables,
};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

use crate::error;
use crate::sql::quote;

/// Name of the ledger table.
pub const LEDGER_TABLE: &str = "kavach_store_migrations";

/// One versioned migration step.
#[derive(Debug)]
pub struct Migration {
    /// Version number recorded in the ledger.
    pub version: i64,
    /// Human-readable name.
    pub name: &'static str,
    /// What the step does.
    pub step: Step,
}

/// What a [`Migration`] runs.
#[derive(Debug)]
pub enum Step {
    /// The schema generated from the core's table definitions (reconciled on
    /// every run).
    Schema,
    /// Embedded SQL, run once.
    Sql(&'static str),
}

/// Every migration, in order.
pub static MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "kavach schema generated from kavach-store-core table definitions",
    step: Step::Schema,
}];

/// What a call to [`crate::PgStore::migrate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationReport {
    /// Versions newly recorded in the ledger.
    pub applied: Vec<i64>,
    /// `kavach_*` tables existed but no ledger did: a database created by
    /// KavachOS, Prisma or by hand was adopted.
    pub adopted: bool,
    /// Tables created.
    pub created_tables: Vec<String>,
    /// Columns added to existing tables (`table.column`).
    pub added_columns: Vec<String>,
    /// Columns added as nullable although the model says `NOT NULL`, because
    /// the table had rows and the column has no default (`table.column`).
    pub relaxed_not_null: Vec<String>,
    /// Indexes and unique indexes created on existing tables.
    pub created_indexes: Vec<String>,
    /// Foreign keys added to existing tables.
    pub created_foreign_keys: Vec<String>,
}

impl MigrationReport {
    /// True when the call changed nothing.
    pub fn is_noop(&self) -> bool {
        self.applied.is_empty()
            && self.created_tables.is_empty()
            && self.added_columns.is_empty()
            && self.created_indexes.is_empty()
            && self.created_foreign_keys.is_empty()
    }
}

/// The PostgreSQL type of a column kind: the one type mapping of this crate.
///
/// Integers are `BIGINT` (KavachOS's DDL says `INTEGER`, 32-bit on
/// PostgreSQL, which overflows for `kavach_cost_events.cost_micros`).
/// `kavach_sso_connections.enabled` ([`ColumnKind::IntBool`]) stays an
/// `INTEGER` 0/1 as in KavachOS's DDL. Text is byte-ordered (`COLLATE "C"`)
/// so ordering and keyset pagination match the other backends.
pub fn column_type(kind: ColumnKind) -> Option<&'static str> {
    Some(match kind {
        ColumnKind::Text => "TEXT COLLATE \"C\"",
        ColumnKind::Int => "BIGINT",
        ColumnKind::Bool => "BOOLEAN",
        ColumnKind::IntBool => "INTEGER",
        ColumnKind::Timestamp | ColumnKind::TimestampMs => "TIMESTAMPTZ",
        ColumnKind::Json => "JSONB",
        _ => return None,
    })
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn default_sql(col: &ColumnDef) -> Option<String> {
    let d = col.default.as_ref()?;
    Some(match (col.kind, d) {
        (ColumnKind::IntBool, DefaultValue::Bool(b)) => i32::from(*b).to_string(),
        (ColumnKind::Bool, DefaultValue::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        (ColumnKind::Bool, DefaultValue::Int(i)) => {
            if *i == 1 { "TRUE" } else { "FALSE" }.to_string()
        }
        (ColumnKind::Json, DefaultValue::Json(j) | DefaultValue::Text(j)) => {
            format!("{}::jsonb", literal(j))
        }
        (_, DefaultValue::Bool(b)) => i32::from(*b).to_string(),
        (_, DefaultValue::Int(i)) => i.to_string(),
        (_, DefaultValue::Text(s) | DefaultValue::Json(s)) => literal(s),
    })
}

fn column_sql(table: &TableDef, col: &ColumnDef, not_null: bool) -> Result<String> {
    let ty = column_type(col.kind).ok_or_else(|| {
        StoreError::invalid_input(
            format!("{}.{}", table.name, col.name),
            format!("no PostgreSQL type for {:?}", col.kind),
        )
    })?;
    let mut s = format!("{} {ty}", quote(col.name));
    if let Some(d) = default_sql(col) {
        let _ = write!(s, " DEFAULT {d}");
    }
    if not_null {
        s.push_str(" NOT NULL");
    }
    Ok(s)
}

fn create_table_sql(table: &TableDef) -> Result<String> {
    let mut parts = Vec::with_capacity(table.columns.len() + 1 + table.uniques.len());
    for col in &table.columns {
        parts.push(column_sql(table, col, !col.nullable)?);
    }
    parts.push(format!(
        "CONSTRAINT {} PRIMARY KEY ({})",
        quote(&format!("{}_pkey", table.name)),
        quote(table.primary_key)
    ));
    for u in &table.uniques {
        parts.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            quote(u.name),
            column_list(u.columns)
        ));
    }
    Ok(format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {}\n)",
        quote(table.name),
        parts.join(",\n    ")
    ))
}

fn column_list(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fk_name(table: &TableDef, column: &str) -> String {
    format!("{}_{column}_fkey", table.name)
}

fn fk_sql(
    table: &TableDef,
    fk: &kavach_store_core::ForeignKey,
    name: &str,
    not_valid: bool,
) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}{}",
        quote(table.name),
        quote(name),
        quote(fk.column),
        quote(fk.parent_table),
        quote(fk.parent_column),
        match fk.on_delete {
            OnDelete::Cascade => "CASCADE",
            OnDelete::NoAction => "NO ACTION",
        },
        if not_valid { " NOT VALID" } else { "" }
    )
}

/// Name of the index we add on a foreign-key column no index leads with, so
/// cascades and reference checks do not scan the child table.
fn fk_index_name(table: &TableDef, column: &str) -> String {
    format!("{}_{column}_fk", table.name)
}

/// The complete DDL of a fresh database (what [`crate::PgStore::migrate`]
/// runs on an empty schema, without the ledger).
pub fn schema_sql() -> Result<String> {
    let plan = plan(&Catalog::default(), &HashSet::new())?;
    Ok(plan.statements.join(";\n\n") + ";\n")
}

/// What exists in the current schema.
#[derive(Default, Debug)]
struct Catalog {
    /// table → column name → (type as `format_type` prints it, NOT NULL)
    columns: HashMap<String, HashMap<String, (String, bool)>>,
    /// table → indexes (unique, key columns); partial and expression indexes left out.
    indexes: HashMap<String, Vec<(bool, Vec<String>)>>,
    /// table → single-column foreign keys (column, parent table, parent column).
    foreign_keys: HashMap<String, Vec<(String, String, String)>>,
    /// Relation and constraint names taken in the schema.
    names: HashSet<String>,
}

impl Catalog {
    fn has_table(&self, t: &str) -> bool {
        self.columns.contains_key(t)
    }

    fn unique_on(&self, t: &str, cols: &[&str]) -> bool {
        let want: HashSet<&str> = cols.iter().copied().collect();
        self.indexes.get(t).is_some_and(|ix| {
            ix.iter().any(|(unique, c)| {
                *unique && c.len() == want.len() && c.iter().all(|c| want.contains(c.as_str()))
            })
        })
    }

    fn index_leading(&self, t: &str, cols: &[&str]) -> bool {
        self.indexes.get(t).is_some_and(|ix| {
            ix.iter()
                .any(|(_, c)| c.len() >= cols.len() && c.iter().zip(cols).all(|(a, b)| a == b))
        })
    }

    fn has_fk(&self, t: &str, fk: &kavach_store_core::ForeignKey) -> bool {
        self.foreign_keys.get(t).is_some_and(|fks| {
            fks.iter()
                .any(|(c, p, pc)| c == fk.column && p == fk.parent_table && pc == fk.parent_column)
        })
    }
}

#[derive(Default, Debug)]
struct Plan {
    statements: Vec<String>,
    report: MigrationReport,
}

/// Picks a name not yet used in the schema (an existing object with our
/// name but another definition must not make `IF NOT EXISTS` skip ours).
fn free_name(names: &mut HashSet<String>, wanted: String) -> String {
    let mut name = wanted.clone();
    let mut n = 2;
    while names.contains(&name) {
        name = format!("{wanted}_{n}");
        n += 1;
    }
    names.insert(name.clone());
    name
}

/// The statements that bring the catalog to the table definitions.
/// `populated` lists existing tables that hold rows.
fn plan(catalog: &Catalog, populated: &HashSet<String>) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut names = catalog.names.clone();
    let tables = all_tables();
    let mut existing_index_cols: HashMap<&str, Vec<Vec<&str>>> = HashMap::new();

    for &table in tables {
        if !catalog.has_table(table.name) {
            plan.statements.push(create_table_sql(table)?);
            plan.report.created_tables.push(table.name.to_string());
            names.insert(table.name.to_string());
            names.insert(format!("{}_pkey", table.name));
            names.extend(table.uniques.iter().map(|u| u.name.to_string()));
            continue;
        }
        let have = &catalog.columns[table.name];
        for col in &table.columns {
            if have.contains_key(col.name) {
                continue;
            }
            let not_null =
                !col.nullable && (col.default.is_some() || !populated.contains(table.name));
            plan.statements.push(format!(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {}",
                quote(table.name),
                column_sql(table, col, not_null)?
            ));
            plan.report
                .added_columns
                .push(format!("{}.{}", table.name, col.name));
            if !col.nullable && !not_null {
                plan.report
                    .relaxed_not_null
                    .push(format!("{}.{}", table.name, col.name));
            }
        }
        // The primary key and our uniques; ON CONFLICT and the parent side
        // of foreign keys need them.
        let pk = [table.primary_key];
        let uniques = std::iter::once((format!("{}_pkey", table.name), &pk[..])).chain(
            table
                .uniques
                .iter()
                .map(|u| (u.name.to_string(), u.columns)),
        );
        for (name, cols) in uniques {
            if catalog.unique_on(table.name, cols) {
                continue;
            }
            let name = free_name(&mut names, name);
            plan.statements.push(format!(
                "CREATE UNIQUE INDEX {} ON {} ({})",
                quote(&name),
                quote(table.name),
                column_list(cols)
            ));
            plan.report.created_indexes.push(name);
            existing_index_cols
                .entry(table.name)
                .or_default()
                .push(cols.to_vec());
        }
    }

    for &table in tables {
        let created = !catalog.has_table(table.name);
        let covered = |cols: &[&str], extra: &HashMap<&str, Vec<Vec<&str>>>| {
            (!created && catalog.index_leading(table.name, cols))
                || extra.get(table.name).is_some_and(|ix| {
                    ix.iter()
                        .any(|c| c.len() >= cols.len() && c.iter().zip(cols).all(|(a, b)| a == b))
                })
        };
        if created {
            // Fresh table: the primary key and uniques are its only indexes so far.
            let entry = existing_index_cols.entry(table.name).or_default();
            entry.push(vec![table.primary_key]);
            entry.extend(table.uniques.iter().map(|u| u.columns.to_vec()));
        }
        for ix in &table.indexes {
            if covered(ix.columns, &existing_index_cols) {
                continue;
            }
            let name = free_name(&mut names, ix.name.to_string());
            plan.statements.push(format!(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                quote(&name),
                quote(table.name),
                column_list(ix.columns)
            ));
            if !created {
                plan.report.created_indexes.push(name);
            }
            existing_index_cols
                .entry(table.name)
                .or_default()
                .push(ix.columns.to_vec());
        }
        for fk in &table.foreign_keys {
            if !created && catalog.has_fk(table.name, fk) {
                continue;
            }
            let name = free_name(&mut names, fk_name(table, fk.column));
            plan.statements.push(fk_sql(
                table,
                fk,
                &name,
                !created && populated.contains(table.name),
            ));
            if !created {
                plan.report.created_foreign_keys.push(name);
            }
            if !covered(&[fk.column], &existing_index_cols) {
                let name = free_name(&mut names, fk_index_name(table, fk.column));
                plan.statements.push(format!(
                    "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                    quote(&name),
                    quote(table.name),
                    quote(fk.column)
                ));
                if !created {
                    plan.report.created_indexes.push(name);
                }
                existing_index_cols
                    .entry(table.name)
                    .or_default()
                    .push(vec![fk.column]);
            }
        }
    }
    Ok(plan)
}

const COLUMNS_SQL: &str = "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull \
     FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') \
       AND a.attnum > 0 AND NOT a.attisdropped AND c.relname = ANY($1)";

const INDEXES_SQL: &str = "SELECT t.relname::text, x.indisunique, \
       ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, o) \
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n \
             WHERE k.o <= x.indnkeyatts ORDER BY k.o) \
     FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
     WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1) \
       AND x.indpred IS NULL AND x.indexprs IS NULL";

const FOREIGN_KEYS_SQL: &str = "SELECT t.relname::text, a.attname::text, p.relname::text, pa.attname::text \
     FROM pg_constraint con \
     JOIN pg_class t ON t.oid = con.conrelid JOIN pg_class p ON p.oid = con.confrelid \
     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] \
     JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = con.confkey[1] \
     WHERE con.contype = 'f' AND t.relnamespace = current_schema()::regnamespace \
       AND cardinality(con.conkey) = 1 AND t.relname = ANY($1)";

const NAMES_SQL: &str = "SELECT relname::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace \
     UNION SELECT conname::text FROM pg_constraint WHERE connamespace = current_schema()::regnamespace";

async fn read_catalog(conn: &mut PgConnection) -> std::result::Result<Catalog, sqlx::Error> {
    let names: Vec<&str> = all_tables().iter().map(|t| t.name).collect();
    let mut catalog = Catalog::default();
    for row in sqlx::query(COLUMNS_SQL)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?
    {
        catalog
            .columns
            .entry(row.try_get(0)?)
            .or_default()
            .insert(row.try_get(1)?, (row.try_get(2)?, row.try_get(3)?));
    }
    for row in sqlx::query(INDEXES_SQL)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?
    {
        catalog
            .indexes
            .entry(row.try_get(0)?)
            .or_default()
            .push((row.try_get(1)?, row.try_get(2)?));
    }
    for row in sqlx::query(FOREIGN_KEYS_SQL)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?
    {
        catalog
            .foreign_keys
            .entry(row.try_get(0)?)
            .or_default()
            .push((row.try_get(1)?, row.try_get(2)?, row.try_get(3)?));
    }
    for row in sqlx::query(NAMES_SQL).fetch_all(&mut *conn).await? {
        catalog.names.insert(row.try_get(0)?);
    }
    Ok(catalog)
}

/// FNV-1a, stable across Rust releases (unlike `DefaultHasher`): the
/// checksum recorded for each version.
fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

const LEDGER_DDL: &str = "CREATE TABLE IF NOT EXISTS \"kavach_store_migrations\" (\
     \"version\" BIGINT NOT NULL PRIMARY KEY, \
     \"name\" TEXT NOT NULL, \
     \"checksum\" TEXT NOT NULL, \
     \"applied_at\" TIMESTAMPTZ NOT NULL DEFAULT now())";

const MIGRATION_TABLE: &str = "kavach_store_migrations";

/// Runs the migrations on `conn` (see the module documentation).
pub(crate) async fn run(conn: &mut PgConnection) -> Result<MigrationReport> {
    let e = |err| error::map(MIGRATION_TABLE, err);
    let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut *conn)
        .await
        .map_err(e)?;
    let Some(schema) = schema else {
        return Err(StoreError::invalid_input(
            "search_path",
            "no schema of the search_path exists: create it first, or fix the search_path",
        ));
    };
    let mut tx = conn.begin().await.map_err(e)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("kavach-store-postgres:{schema}"))
        .execute(&mut *tx)
        .await
        .map_err(e)?;
    sqlx::raw_sql(LEDGER_DDL)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT \"version\" FROM \"kavach_store_migrations\"")
            .fetch_all(&mut *tx)
            .await
            .map_err(e)?;
    let applied: HashSet<i64> = applied.into_iter().collect();
    let catalog = read_catalog(&mut tx).await.map_err(e)?;
    let fresh = applied.is_empty();
    let adopted = fresh && !catalog.columns.is_empty();

    // Versioned SQL steps run only on databases that already follow our
    // ledger; fresh and adopted ones get the current schema directly.
    let mut ran_sql = Vec::new();
    if !fresh {
        for m in MIGRATIONS {
            if let (Step::Sql(sql), false) = (&m.step, applied.contains(&m.version)) {
                sqlx::raw_sql(AssertSqlSafe(*sql))
                    .execute(&mut *tx)
                    .await
                    .map_err(e)?;
                ran_sql.push(m.version);
            }
        }
    }
    let catalog = if ran_sql.is_empty() {
        catalog
    } else {
        read_catalog(&mut tx).await.map_err(e)?
    };

    let mut populated = HashSet::new();
    for t in catalog.columns.keys() {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quote(t));
        let has_rows: bool = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await
            .map_err(e)?;
        if has_rows {
            populated.insert(t.clone());
        }
    }
    let plan = plan(&catalog, &populated)?;
    if !plan.statements.is_empty() {
        let script = plan.statements.join(";\n") + ";";
        sqlx::raw_sql(AssertSqlSafe(script))
            .execute(&mut *tx)
            .await
            .map_err(e)?;
    }
    let mut report = plan.report;
    report.adopted = adopted;
    let schema_text = schema_sql()?;
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        let sum = match m.step {
            Step::Schema => checksum(&schema_text),
            Step::Sql(sql) => checksum(sql),
        };
        sqlx::query("INSERT INTO \"kavach_store_migrations\" (\"version\", \"name\", \"checksum\") VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(sum)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
        report.applied.push(m.version);
    }
    tx.commit().await.map_err(e)?;
    Ok(report)
}

/// Applied (from the ledger, in order) and pending migrations.
pub(crate) async fn status(pool: &sqlx::PgPool) -> Result<MigrationStatus> {
    let e = |err| error::map(MIGRATION_TABLE, err);
    let ledger: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('kavach_store_migrations')::text")
            .fetch_one(pool)
            .await
            .map_err(e)?;
    let applied: Vec<(i64, String)> = match ledger {
        None => Vec::new(),
        Some(_) => sqlx::query_as(
            "SELECT \"version\", \"name\" FROM \"kavach_store_migrations\" ORDER BY \"version\"",
        )
        .fetch_all(pool)
        .await
        .map_err(e)?,
    };
    let pending = MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
        .map(|m| MigrationInfo {
            version: m.version,
            name: m.name.to_string(),
        })
        .collect();
    Ok(MigrationStatus {
        applied: applied
            .into_iter()
            .map(|(version, name)| MigrationInfo { version, name })
            .collect(),
        pending,
    })
}

const INSPECT_COLUMNS_SQL: &str = "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
       NOT a.attnotnull \
     FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') \
       AND c.relname LIKE 'kavach\\_%' AND c.relname <> 'kavach_store_migrations' \
       AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY c.relname, a.attnum";

const INSPECT_INDEXES_SQL: &str = "SELECT t.relname::text, i.relname::text, x.indisunique, \
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) \
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
     WHERE t.relnamespace = current_schema()::regnamespace \
       AND t.relname LIKE 'kavach\\_%' AND t.relname <> 'kavach_store_migrations' \
     ORDER BY 1, 2";

/// Every `kavach_*` table of the current schema (the ledger left out), with
/// columns in order and indexes (expressions as PostgreSQL prints them).
pub(crate) async fn inspect(pool: &sqlx::PgPool) -> Result<Vec<TableInfo>> {
    let e = |err| error::map(MIGRATION_TABLE, err);
    let mut tables: Vec<TableInfo> = Vec::new();
    let columns: Vec<(String, String, String, bool)> = sqlx::query_as(INSPECT_COLUMNS_SQL)
        .fetch_all(pool)
        .await
        .map_err(e)?;
    for (table, name, sql_type, nullable) in columns {
        if tables.last().is_none_or(|t| t.name != table) {
            tables.push(TableInfo {
                name: table,
                columns: Vec::new(),
                indexes: Vec::new(),
            });
        }
        if let Some(t) = tables.last_mut() {
            t.columns.push(ColumnInfo {
                name,
                sql_type,
                nullable,
            });
        }
    }
    let indexes: Vec<(String, String, bool, Vec<String>)> = sqlx::query_as(INSPECT_INDEXES_SQL)
        .fetch_all(pool)
        .await
        .map_err(e)?;
    for (table, name, unique, columns) in indexes {
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            // pg_get_indexdef quotes keywords ("timestamp"): report plain names.
            let columns = columns
                .into_iter()
                .map(|c| c.trim_matches('"').to_string())
                .collect();
            t.indexes.push(IndexInfo {
                name,
                columns,
                unique,
            });
        }
    }
    Ok(tables)
}

/// Whether a column stored as `sql_type` (as `format_type` prints it) can
/// hold the values of a column of `kind`, for reads and writes alike.
pub fn type_compatible(kind: ColumnKind, sql_type: &str) -> bool {
    let t = sql_type.to_ascii_lowercase();
    let integer = matches!(t.as_str(), "integer" | "bigint" | "smallint");
    match kind {
        ColumnKind::Text => {
            t == "text" || t.starts_with("character varying") || t.starts_with("character(")
        }
        ColumnKind::Int => integer,
        // Booleans are written as booleans: an integer column cannot take them.
        ColumnKind::Bool => t == "boolean",
        // Written as INTEGER 0/1 (KavachOS's DDL); a boolean column cannot take them.
        ColumnKind::IntBool => integer,
        ColumnKind::Timestamp | ColumnKind::TimestampMs => t.starts_with("timestamp"),
        // JSONB parameters are stored into json, or into text as JSON text.
        ColumnKind::Json => matches!(t.as_str(), "jsonb" | "json" | "text"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_schema_covers_every_table_with_quoted_identifiers() {
        let sql = schema_sql().unwrap();
        for t in all_tables() {
            assert!(
                sql.contains(&format!("CREATE TABLE IF NOT EXISTS \"{}\"", t.name)),
                "{}",
                t.name
            );
        }
        assert!(sql.contains("\"timestamp\" TIMESTAMPTZ NOT NULL"));
        assert!(sql.contains("\"enabled\" INTEGER"));
        assert!(
            sql.contains("CONSTRAINT \"kavach_agents_token_hash_key\" UNIQUE (\"token_hash\")")
        );
        assert!(sql.contains("ON DELETE CASCADE"));
        assert!(!sql.contains("NOT VALID"));
        assert_eq!(checksum(&sql), checksum(&schema_sql().unwrap()));
    }

    #[test]
    fn adoption_plan_adds_without_dropping() {
        // A catalog where kavach_users exists without email_verified and
        // with rows: the column has a default, so it can be NOT NULL.
        let mut catalog = Catalog::default();
        let users = kavach_store_core::table_by_name("kavach_users").unwrap();
        let cols = users
            .columns
            .iter()
            .filter(|c| c.name != "email_verified" && c.name != "created_at")
            .map(|c| (c.name.to_string(), ("text".to_string(), !c.nullable)))
            .collect();
        catalog.columns.insert("kavach_users".into(), cols);
        catalog
            .indexes
            .insert("kavach_users".into(), vec![(true, vec!["id".into()])]);
        let populated = HashSet::from(["kavach_users".to_string()]);
        let plan = plan(&catalog, &populated).unwrap();
        assert!(
            plan.report
                .added_columns
                .contains(&"kavach_users.email_verified".to_string())
        );
        assert_eq!(
            plan.report.relaxed_not_null,
            vec!["kavach_users.created_at".to_string()]
        );
        assert!(plan.statements.iter().all(|s| !s.contains("DROP")));
        assert!(
            !plan
                .report
                .created_tables
                .contains(&"kavach_users".to_string())
        );
        assert!(
            plan.report
                .created_tables
                .contains(&"kavach_agents".to_string())
        );
    }
}

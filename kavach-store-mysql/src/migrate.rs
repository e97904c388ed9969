//! Embedded, versioned migrations, run under a server-wide `GET_LOCK` and
//! recorded in `kavach_store_migrations`; plus `verify` ([`crate::MySqlStore::verify`]), which checks a
//! database against the core's table definitions.

use std::time::Duration;

use kavach_store_core::admin::{ColumnInfo, IndexInfo, MigrationInfo, MigrationStatus, TableInfo};
use kavach_store_core::{ColumnKind, OnDelete, Result, StoreError, all_tables};
use mysql_async::Pool;
use mysql_async::prelude::Queryable;
use sha2::{Digest, Sha256};

use crate::error::map_general;
use crate::row::{ColumnFacts, Meta};

/// One migration: a version, a name and SQL statements separated by `;` at
/// the end of a line. Every statement is idempotent (`IF NOT EXISTS`), because
/// MySQL commits DDL statement by statement: a migration interrupted half-way
/// is simply run again.
#[derive(Debug)]
pub struct Migration {
    /// Version, strictly increasing.
    pub version: u32,
    /// Short name.
    pub name: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

/// Every migration of this backend, oldest first: the files
/// `migrations/NNNN_name.sql`, embedded by the build script. Adding a table
/// (or a column) to the schema means adding one such file.
pub const MIGRATIONS: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The ledger of applied migrations.
pub const LEDGER_TABLE: &str = "kavach_store_migrations";

const LEDGER_DDL: &str = "CREATE TABLE IF NOT EXISTS `kavach_store_migrations` (\
    `version` INT NOT NULL, `name` VARCHAR(255) NOT NULL, `checksum` CHAR(64) NOT NULL, \
    `applied_at` DATETIME(3) NOT NULL, PRIMARY KEY (`version`)\
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

/// The lock name is per database; GET_LOCK names are limited to 64 characters.
const LOCK_NAME: &str = "CONCAT('kavach_migrate_', LEFT(SHA2(DATABASE(), 256), 40))";

/// What [`crate::MySqlStore::migrate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied by this call, in order.
    pub applied: Vec<u32>,
    /// The schema version afterwards.
    pub version: u32,
}

/// The statements of a migration: `--` comment lines dropped, split at `;` at
/// the end of a line.
pub(crate) fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if let Some(stmt) = trimmed.strip_suffix(';') {
            let _ = stmt;
            let text = current.trim().trim_end_matches(';').trim().to_string();
            out.push(text);
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies the pending migrations.
pub(crate) async fn run(pool: &Pool, lock_timeout: Duration) -> Result<MigrationReport> {
    let mut conn = pool.get_conn().await.map_err(map_general)?;
    let db: Option<Option<String>> = conn
        .query_first("SELECT DATABASE()")
        .await
        .map_err(map_general)?;
    if db.flatten().is_none() {
        return Err(StoreError::invalid_input(
            "url",
            "the connection URL names no database",
        ));
    }
    let got: Option<Option<i64>> = conn
        .exec_first(
            format!("SELECT GET_LOCK({LOCK_NAME}, ?)"),
            (lock_timeout.as_secs().max(1),),
        )
        .await
        .map_err(map_general)?;
    if got.flatten() != Some(1) {
        return Err(StoreError::Unavailable {
            message: "timed out waiting for another process's migration (GET_LOCK)".into(),
            source: None,
        });
    }
    let result = apply(&mut conn).await;
    let released = conn
        .query_drop(format!("DO RELEASE_LOCK({LOCK_NAME})"))
        .await
        .map_err(map_general);
    let report = result?;
    released?;
    Ok(report)
}

async fn apply(conn: &mut mysql_async::Conn) -> Result<MigrationReport> {
    conn.query_drop(LEDGER_DDL).await.map_err(map_general)?;
    let done: Vec<(u32, String)> = conn
        .query("SELECT `version`, `checksum` FROM `kavach_store_migrations` ORDER BY `version`")
        .await
        .map_err(map_general)?;
    let mut report = MigrationReport {
        applied: Vec::new(),
        version: done.last().map_or(0, |(v, _)| *v),
    };
    for m in MIGRATIONS {
        let sum = checksum(m.sql);
        if let Some((_, recorded)) = done.iter().find(|(v, _)| *v == m.version) {
            if *recorded != sum {
                return Err(StoreError::Backend {
                    message: format!(
                        "migration {} ({}) changed after it was applied",
                        m.version, m.name
                    ),
                    source: None,
                });
            }
            continue;
        }
        for stmt in statements(m.sql) {
            conn.query_drop(stmt).await.map_err(map_general)?;
        }
        conn.exec_drop(
            "INSERT INTO `kavach_store_migrations` (`version`, `name`, `checksum`, `applied_at`) VALUES (?, ?, ?, UTC_TIMESTAMP(3))",
            (m.version, m.name, sum),
        )
        .await
        .map_err(map_general)?;
        report.applied.push(m.version);
        report.version = report.version.max(m.version);
    }
    Ok(report)
}

/// Reads the physical facts (column lengths, hashed columns) of the database.
pub(crate) async fn load_meta(pool: &Pool) -> Result<Meta> {
    let mut conn = pool.get_conn().await.map_err(map_general)?;
    let rows: Vec<ColumnFacts> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'kavach!_%' ESCAPE '!'",
        )
        .await
        .map_err(map_general)?;
    Ok(Meta::from_columns(rows))
}

/// Applied and pending migrations (no ledger yet: everything pending).
pub(crate) async fn status(pool: &Pool) -> Result<MigrationStatus> {
    let mut conn = pool.get_conn().await.map_err(map_general)?;
    let ledger: Option<i64> = conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = 'kavach_store_migrations'",
        )
        .await
        .map_err(map_general)?;
    let done: Vec<(u32, String)> = if ledger.unwrap_or(0) > 0 {
        conn.query("SELECT `version`, `name` FROM `kavach_store_migrations` ORDER BY `version`")
            .await
            .map_err(map_general)?
    } else {
        Vec::new()
    };
    let applied = done
        .iter()
        .map(|(v, n)| MigrationInfo {
            version: i64::from(*v),
            name: n.clone(),
        })
        .collect();
    let pending = MIGRATIONS
        .iter()
        .filter(|m| !done.iter().any(|(v, _)| *v == m.version))
        .map(|m| MigrationInfo {
            version: i64::from(m.version),
            name: m.name.to_string(),
        })
        .collect();
    Ok(MigrationStatus { applied, pending })
}

/// Every `kavach_*` table (the ledger excluded) with its columns and indexes.
pub(crate) async fn inspect(pool: &Pool) -> Result<Vec<TableInfo>> {
    let mut conn = pool.get_conn().await.map_err(map_general)?;
    let columns: Vec<(String, String, String, String)> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'kavach!_%' ESCAPE '!' \
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .await
        .map_err(map_general)?;
    let indexes: Vec<(String, String, i64, String)> = conn
        .query(
            "SELECT TABLE_NAME, INDEX_NAME, MIN(NON_UNIQUE), \
             GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ',') \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME LIKE 'kavach!_%' ESCAPE '!' GROUP BY TABLE_NAME, INDEX_NAME ORDER BY TABLE_NAME, INDEX_NAME",
        )
        .await
        .map_err(map_general)?;
    let mut tables: Vec<TableInfo> = Vec::new();
    for (table, column, sql_type, nullable) in columns {
        if table == LEDGER_TABLE {
            continue;
        }
        if tables.last().is_none_or(|t| t.name != table) {
            tables.push(TableInfo {
                name: table.clone(),
                columns: Vec::new(),
                indexes: Vec::new(),
            });
        }
        let info = tables.last_mut().expect("pushed");
        info.columns.push(ColumnInfo {
            name: column,
            sql_type,
            nullable: nullable == "YES",
        });
    }
    for (table, name, non_unique, cols) in indexes {
        if let Some(info) = tables.iter_mut().find(|t| t.name == table) {
            info.indexes.push(IndexInfo {
                name,
                columns: cols.split(',').map(str::to_string).collect(),
                unique: non_unique == 0,
            });
        }
    }
    Ok(tables)
}

/// Whether a column type (`varchar(128)`, `datetime(3)`, …) holds `kind`.
pub(crate) fn type_compatible(kind: ColumnKind, sql_type: &str) -> bool {
    let base = sql_type.trim().to_ascii_lowercase();
    let base = base.split(['(', ' ']).next().unwrap_or("");
    type_fits(kind, base)
}

fn type_fits(kind: ColumnKind, data_type: &str) -> bool {
    match kind {
        ColumnKind::Text => matches!(
            data_type,
            "varchar" | "char" | "tinytext" | "text" | "mediumtext" | "longtext"
        ),
        ColumnKind::Int => matches!(data_type, "bigint"),
        ColumnKind::Bool => matches!(data_type, "tinyint"),
        ColumnKind::IntBool => matches!(data_type, "tinyint" | "int" | "bigint"),
        ColumnKind::Timestamp | ColumnKind::TimestampMs => matches!(data_type, "datetime"),
        // MariaDB's JSON is LONGTEXT with a JSON_VALID check.
        ColumnKind::Json => matches!(data_type, "json" | "longtext"),
        _ => true,
    }
}

/// Checks the database against the core's table definitions: every table,
/// column (type class and nullability), unique constraint, foreign key (with
/// its delete action) and index. Returns the problems found (empty: all good).
pub(crate) async fn verify(pool: &Pool) -> Result<Vec<String>> {
    let mut conn = pool.get_conn().await.map_err(map_general)?;
    let columns: Vec<(String, String, String, String)> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE), IS_NULLABLE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE()",
        )
        .await
        .map_err(map_general)?;
    let indexes: Vec<(String, String, i64, String)> = conn
        .query(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ',') \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE",
        )
        .await
        .map_err(map_general)?;
    let fks: Vec<(String, String, String, String, String)> = conn
        .query(
            "SELECT k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE \
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
             ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL",
        )
        .await
        .map_err(map_general)?;
    let mut problems = Vec::new();
    for table in all_tables() {
        let cols: Vec<_> = columns.iter().filter(|c| c.0 == table.name).collect();
        if cols.is_empty() {
            problems.push(format!("{}: table missing", table.name));
            continue;
        }
        for def in &table.columns {
            match cols.iter().find(|c| c.1 == def.name) {
                None => problems.push(format!("{}.{}: column missing", table.name, def.name)),
                Some((_, _, data_type, nullable)) => {
                    if !type_fits(def.kind, data_type) {
                        problems.push(format!(
                            "{}.{}: type {data_type} does not hold {:?}",
                            table.name, def.name, def.kind
                        ));
                    }
                    if (nullable == "YES") != def.nullable {
                        problems.push(format!("{}.{}: nullability differs", table.name, def.name));
                    }
                }
            }
        }
        let index_named = |name: &str, unique: bool| {
            indexes.iter().any(|(t, n, non_unique, _)| {
                t == table.name && n == name && (*non_unique == 0) == unique
            })
        };
        let pk_ok = indexes
            .iter()
            .any(|(t, n, _, cols)| t == table.name && n == "PRIMARY" && cols == table.primary_key);
        if !pk_ok {
            problems.push(format!(
                "{}: primary key is not ({})",
                table.name, table.primary_key
            ));
        }
        for u in &table.uniques {
            if !index_named(u.name, true) {
                problems.push(format!(
                    "{}: unique constraint {} missing",
                    table.name, u.name
                ));
            }
        }
        for i in &table.indexes {
            if !index_named(i.name, false) {
                problems.push(format!("{}: index {} missing", table.name, i.name));
            }
        }
        for fk in &table.foreign_keys {
            let rule = match fk.on_delete {
                OnDelete::Cascade => &["CASCADE"][..],
                OnDelete::NoAction => &["NO ACTION", "RESTRICT"][..],
            };
            let found = fks.iter().any(|(t, c, pt, pc, r)| {
                t == table.name
                    && c == fk.column
                    && pt == fk.parent_table
                    && pc == fk.parent_column
                    && rule.contains(&r.as_str())
            });
            if !found {
                problems.push(format!(
                    "{}.{}: foreign key to {}.{} ({:?}) missing",
                    table.name, fk.column, fk.parent_table, fk.parent_column, fk.on_delete
                ));
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_are_judged_by_their_base_type() {
        assert!(type_compatible(ColumnKind::Text, "varchar(128)"));
        assert!(type_compatible(ColumnKind::Int, "bigint(20)"));
        assert!(!type_compatible(ColumnKind::Int, "int(11)"));
        assert!(type_compatible(ColumnKind::Bool, "tinyint(1)"));
        assert!(type_compatible(ColumnKind::Timestamp, "datetime(3)"));
        assert!(type_compatible(ColumnKind::Json, "longtext"));
        assert!(!type_compatible(ColumnKind::Json, "varchar(10)"));
    }

    #[test]
    fn the_initial_migration_creates_every_table() {
        let stmts = statements(MIGRATIONS[0].sql);
        assert_eq!(stmts.len(), all_tables().len());
        for (stmt, table) in stmts.iter().zip(all_tables()) {
            assert!(
                stmt.starts_with(&format!("CREATE TABLE IF NOT EXISTS `{}` (", table.name)),
                "{stmt}"
            );
            assert!(!stmt.contains("--"));
        }
    }
}

//! Schema administration: migrations and introspection, for the
//! `kavach-store` command-line tool (`migrate`, `status`, `verify`).
//!
//! Optional for backends: [`crate::KavachStore::admin`] returns `None` where a
//! backend has no schema of its own to manage.

use async_trait::async_trait;

use crate::error::Result;
use crate::schema::{ColumnDef, TableDef};

/// One migration of a backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationInfo {
    /// Version number (ascending).
    pub version: i64,
    /// Short description.
    pub name: String,
}

/// Applied and pending migrations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Applied, in order.
    pub applied: Vec<MigrationInfo>,
    /// Not yet applied, in order.
    pub pending: Vec<MigrationInfo>,
}

impl MigrationStatus {
    /// The newest applied version.
    pub fn current_version(&self) -> Option<i64> {
        self.applied.last().map(|m| m.version)
    }
}

/// A column as the database describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// The database's type name (`INTEGER`, `timestamp with time zone`, `varchar(64)`, …).
    pub sql_type: String,
    /// Accepts NULL.
    pub nullable: bool,
}

/// An index as the database describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexInfo {
    /// Index name.
    pub name: String,
    /// Columns (or expressions), in order.
    pub columns: Vec<String>,
    /// Unique index (primary keys included).
    pub unique: bool,
}

/// A table as the database describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableInfo {
    /// Table name.
    pub name: String,
    /// Columns.
    pub columns: Vec<ColumnInfo>,
    /// Indexes.
    pub indexes: Vec<IndexInfo>,
}

/// Migrations and introspection of a backend's schema.
#[async_trait]
pub trait SchemaAdmin: Send + Sync {
    /// Applies pending migrations (adopting a KavachOS-created schema);
    /// returns those applied now. Idempotent.
    async fn migrate(&self) -> Result<Vec<MigrationInfo>>;
    /// Applied and pending migrations.
    async fn migration_status(&self) -> Result<MigrationStatus>;
    /// Every `kavach_*` table present, with columns and indexes.
    async fn inspect_tables(&self) -> Result<Vec<TableInfo>>;
    /// Whether a stored column type can hold `column` (e.g. `INTEGER` for a
    /// SQLite timestamp, `timestamptz` or `timestamp` for PostgreSQL).
    fn column_type_compatible(&self, table: &TableDef, column: &ColumnDef, sql_type: &str) -> bool;
}

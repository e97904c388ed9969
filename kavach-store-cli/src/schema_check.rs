//! `status` and `verify`: the database's schema against the spec.

use std::collections::HashMap;

use kavach_store::admin::{SchemaAdmin, TableInfo};
use kavach_store::prelude::*;

/// An index the hot paths need: leading `columns` of some index (`unique`
/// when it must be unique).
#[derive(Debug, PartialEq, Eq)]
pub struct RequiredIndex {
    /// Table.
    pub table: &'static str,
    /// Leading columns.
    pub columns: &'static [&'static str],
    /// Must be unique.
    pub unique: bool,
    /// The path it serves.
    pub why: &'static str,
}

/// The indexes `verify` insists on (operations.md Part C).
pub const REQUIRED_INDEXES: &[RequiredIndex] = &[
    RequiredIndex {
        table: "kavach_agents",
        columns: &["token_hash"],
        unique: true,
        why: "agent token authentication",
    },
    RequiredIndex {
        table: "kavach_api_keys",
        columns: &["key_hash"],
        unique: true,
        why: "API key authentication",
    },
    RequiredIndex {
        table: "kavach_permissions",
        columns: &["agent_id"],
        unique: false,
        why: "permissions of an agent",
    },
    RequiredIndex {
        table: "kavach_rate_limits",
        columns: &["agent_id", "resource", "window_start"],
        unique: true,
        why: "atomic rate-limit increment",
    },
    RequiredIndex {
        table: "kavach_delegation_chains",
        columns: &["to_agent_id", "status"],
        unique: false,
        why: "delegated-permission fallback",
    },
    RequiredIndex {
        table: "kavach_audit_logs",
        columns: &["agent_id", "timestamp"],
        unique: false,
        why: "audit by agent",
    },
    RequiredIndex {
        table: "kavach_audit_logs",
        columns: &["user_id", "timestamp"],
        unique: false,
        why: "audit by user",
    },
    RequiredIndex {
        table: "kavach_sessions",
        columns: &["id"],
        unique: true,
        why: "session lookup",
    },
    RequiredIndex {
        table: "kavach_oauth_access_tokens",
        columns: &["access_token"],
        unique: true,
        why: "OAuth token lookup",
    },
];

/// One finding of a schema check.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// A table of the spec is absent.
    MissingTable(&'static str),
    /// A column of the spec is absent.
    MissingColumn(&'static str, &'static str),
    /// A column's stored type cannot hold the spec's values.
    IncompatibleColumn {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// The stored type.
        sql_type: String,
    },
    /// A hot-path index is absent.
    MissingIndex(&'static RequiredIndex),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::MissingTable(t) => write!(f, "missing table {t}"),
            Problem::MissingColumn(t, c) => write!(f, "missing column {t}.{c}"),
            Problem::IncompatibleColumn {
                table,
                column,
                sql_type,
            } => {
                write!(
                    f,
                    "column {table}.{column} has incompatible type {sql_type}"
                )
            }
            Problem::MissingIndex(i) => write!(
                f,
                "missing {}index on {}({}) needed for {}",
                if i.unique { "unique " } else { "" },
                i.table,
                i.columns.join(", "),
                i.why
            ),
        }
    }
}

/// Columns present in the database but not in the spec: `(table, column)`.
pub fn unexpected_columns(tables: &[TableInfo]) -> Vec<(String, String)> {
    tables
        .iter()
        .filter_map(|t| table_by_name(&t.name).map(|def| (t, def)))
        .flat_map(|(t, def)| {
            t.columns
                .iter()
                .filter(|c| def.column(&c.name).is_none())
                .map(|c| (t.name.clone(), c.name.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Everything the library needs that the database lacks.
pub fn check_schema(admin: &dyn SchemaAdmin, tables: &[TableInfo]) -> Vec<Problem> {
    let by_name: HashMap<&str, &TableInfo> = tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut problems = Vec::new();
    for &def in all_tables() {
        let Some(info) = by_name.get(def.name) else {
            problems.push(Problem::MissingTable(def.name));
            continue;
        };
        for column in &def.columns {
            match info.columns.iter().find(|c| c.name == column.name) {
                None => problems.push(Problem::MissingColumn(def.name, column.name)),
                Some(c) if !admin.column_type_compatible(def, column, &c.sql_type) => problems
                    .push(Problem::IncompatibleColumn {
                        table: def.name,
                        column: column.name,
                        sql_type: c.sql_type.clone(),
                    }),
                Some(_) => {}
            }
        }
    }
    for required in REQUIRED_INDEXES {
        let Some(info) = by_name.get(required.table) else {
            continue;
        };
        if !info
            .indexes
            .iter()
            .any(|index| index_serves(index, required))
        {
            problems.push(Problem::MissingIndex(required));
        }
    }
    problems
}

/// True when the index's leading columns are the required ones (an
/// expression or hash column naming the column counts: SQLite indexes a
/// normalised timestamp, MySQL a hash of long tokens).
fn index_serves(index: &kavach_store::admin::IndexInfo, required: &RequiredIndex) -> bool {
    (index.unique || !required.unique)
        && index.columns.len() >= required.columns.len()
        && required
            .columns
            .iter()
            .zip(&index.columns)
            .all(|(want, have)| names_column(have, want))
}

/// True when an index column (a plain name, an expression, or a hash column
/// such as `access_token_hash`) stands for `column`.
fn names_column(indexed: &str, column: &str) -> bool {
    indexed
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| {
            word == column
                || word
                    .strip_prefix(column)
                    .is_some_and(|s| matches!(s, "_hash" | "_sha256"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kavach_store::admin::IndexInfo;

    fn index(columns: &[&str], unique: bool) -> IndexInfo {
        IndexInfo {
            name: "i".into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            unique,
        }
    }

    #[test]
    fn an_index_serves_when_its_leading_columns_match() {
        let audit = &REQUIRED_INDEXES[5];
        assert!(index_serves(
            &index(&["agent_id", "timestamp"], false),
            audit
        ));
        assert!(index_serves(
            &index(&["agent_id", "kavach_ts(\"timestamp\")", "id"], false),
            audit
        ));
        assert!(!index_serves(
            &index(&["timestamp", "agent_id"], false),
            audit
        ));
        assert!(!index_serves(&index(&["agent_id"], false), audit));
        let token = &REQUIRED_INDEXES[0];
        assert!(
            !index_serves(&index(&["token_hash"], false), token),
            "must be unique"
        );
        assert!(index_serves(&index(&["token_hash"], true), token));
        let session = &REQUIRED_INDEXES[7];
        assert!(
            !index_serves(&index(&["user_id"], true), session),
            "user_id is not id"
        );
        let oauth = &REQUIRED_INDEXES[8];
        assert!(index_serves(&index(&["access_token_hash"], true), oauth));
    }
}

//! Test data built from table definitions, so every table and every column is
//! exercised without writing 48 fixtures by hand.

use chrono::{DateTime, TimeZone, Utc};
use kavach_store_core::{ColumnKind, KavachStore, OnDelete, Row, TableDef, Value, table_by_name};

/// Which values a generated row carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Every nullable column `NULL`; ASCII text.
    Minimal,
    /// Every column set; unicode (4-byte emoji, accents, CJK), quotes, JSON.
    Full,
    /// Every column set; empty strings and empty JSON.
    Empty,
}

/// A fixed instant with milliseconds, so precision handling shows.
pub fn instant(seconds_from_base: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_774_234_575_123 + seconds_from_base * 1000)
        .single()
        .expect("valid instant")
}

/// A whole-second instant `secs` seconds after the same base (no
/// milliseconds, so "at the boundary" means the same on every backend,
/// those storing seconds too).
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_774_234_575 + secs, 0)
        .single()
        .expect("valid instant")
}

/// A unique id with a readable prefix (time-ordered UUIDv7).
pub fn id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A row for `table` whose foreign-key columns are filled from `parents`
/// (column → referenced value).
pub fn sample_row(table: &TableDef, variant: Variant, parents: &[(&str, Value)]) -> Row {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, col)| {
            if let Some((_, v)) = parents.iter().find(|(c, _)| *c == col.name) {
                return v.clone();
            }
            let unique = uuid::Uuid::now_v7().simple().to_string();
            if col.name == table.primary_key {
                return Value::Text(format!(
                    "{}_{unique}",
                    &table.name[7..].chars().take(6).collect::<String>()
                ));
            }
            if col.nullable && variant == Variant::Minimal {
                return Value::Null;
            }
            let is_unique = table.uniques.iter().any(|u| u.columns.contains(&col.name));
            match col.kind {
                ColumnKind::Text => Value::Text(match variant {
                    // Unique text columns still need distinct values.
                    Variant::Empty if is_unique => unique,
                    Variant::Empty => String::new(),
                    Variant::Minimal => format!("{}-{unique}", col.name),
                    Variant::Full => format!("ünï’cødé \"q\" '{}' 🦀 中文 {unique}", col.name),
                }),
                ColumnKind::Int => Value::Int(match variant {
                    Variant::Empty => 0,
                    _ if is_unique => i as i64 + unique.len() as i64,
                    _ => 1_000_000 + i as i64,
                }),
                ColumnKind::Bool | ColumnKind::IntBool => Value::Bool(variant == Variant::Full),
                ColumnKind::Timestamp | ColumnKind::TimestampMs => {
                    Value::Timestamp(instant(i as i64))
                }
                ColumnKind::Json => Value::Json(match variant {
                    Variant::Empty => serde_json::json!({}),
                    Variant::Minimal => serde_json::json!(["a", "b"]),
                    Variant::Full => serde_json::json!({
                        "nested": {"list": [1, 2.5, "🦀", null, true]},
                        "ünï": "cødé",
                    }),
                }),
                _ => Value::Null,
            }
        })
        .collect()
}

/// Columns whose generated value must be a JSON array of strings
/// (`Vec<String>` fields) for the row to decode into its model type.
pub fn fix_string_lists(table: &TableDef, row: &mut Row, variant: Variant) {
    for (i, col) in table.columns.iter().enumerate() {
        if col.kind == ColumnKind::Json && is_string_list(table.name, col.name) && !row[i].is_null()
        {
            row[i] = Value::Json(match variant {
                Variant::Empty => serde_json::json!([]),
                Variant::Minimal => serde_json::json!(["read"]),
                Variant::Full => serde_json::json!(["read", "wrïte 🦀", "mcp:github:*"]),
            });
        }
    }
}

/// True for the JSON columns the model types read as `Vec<String>`.
pub fn is_string_list(table: &str, column: &str) -> bool {
    matches!(
        (table, column),
        ("kavach_permissions", "actions")
            | ("kavach_mcp_servers", "tools")
            | (
                "kavach_oauth_clients",
                "redirect_uris" | "grant_types" | "response_types"
            )
            | ("kavach_agent_cards", "protocols")
            | ("kavach_org_roles", "permissions")
            | ("kavach_api_keys", "permissions")
            | (
                "kavach_oidc_clients",
                "redirect_uris" | "grant_types" | "response_types" | "scopes"
            )
            | ("kavach_federation_tokens", "permissions")
    )
}

/// A row of `table` of the given variant whose foreign keys point at freshly
/// inserted parents (each parent inserted with its own parents); the row
/// itself is not inserted. With `all_parents` false, the nullable foreign
/// keys of a [`Variant::Minimal`] row stay `NULL` instead.
async fn row_over_parents(
    store: &dyn KavachStore,
    table: &'static TableDef,
    variant: Variant,
    all_parents: bool,
) -> Row {
    let mut parents: Vec<(&str, Value)> = Vec::new();
    for fk in &table.foreign_keys {
        let nullable = table.column(fk.column).is_some_and(|c| c.nullable);
        if nullable && variant == Variant::Minimal && !all_parents {
            continue;
        }
        let parent = table_by_name(fk.parent_table).expect("parent table");
        let parent_row = insert_with_parents(store, parent, Variant::Minimal).await;
        parents.push((
            fk.column,
            parent_row[parent.expect_column(fk.parent_column)].clone(),
        ));
    }
    let mut row = sample_row(table, variant, &parents);
    fix_string_lists(table, &mut row, variant);
    row
}

/// A row of `table` whose every foreign key (nullable ones too) points at a
/// freshly inserted parent; the row itself is not inserted.
pub async fn row_with_parents(
    store: &dyn KavachStore,
    table: &'static TableDef,
    variant: Variant,
) -> Row {
    row_over_parents(store, table, variant, true).await
}

/// Inserts a row of `table` of the given variant, inserting the parent rows
/// its foreign keys need first (a [`Variant::Minimal`] row leaves nullable
/// foreign keys `NULL`). Returns the inserted row.
pub fn insert_with_parents<'a>(
    store: &'a dyn KavachStore,
    table: &'static TableDef,
    variant: Variant,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Row> + Send + 'a>> {
    Box::pin(async move {
        let row = row_over_parents(store, table, variant, false).await;
        store
            .insert_rows(table, vec![row.clone()])
            .await
            .unwrap_or_else(|e| panic!("insert into {} ({variant:?}) failed: {e}", table.name));
        row
    })
}

/// Tables that reference `table` with `ON DELETE CASCADE`.
pub fn cascading_children(table: &TableDef) -> Vec<&'static TableDef> {
    kavach_store_core::all_tables()
        .iter()
        .copied()
        .filter(|t| {
            t.foreign_keys
                .iter()
                .any(|fk| fk.parent_table == table.name && fk.on_delete == OnDelete::Cascade)
        })
        .collect()
}

//! Tier 1: every table, every column, through the row primitives.

use kavach_store_core::{Cond, Select, all_tables};

use super::support::assert_value_eq;
use crate::Ctx;
use crate::fixtures::{Variant, insert_with_parents};

/// Every column of every table survives a write and a read: NULLs, unicode
/// (4-byte emoji), quotes, empty strings, JSON, booleans and timestamps.
pub async fn every_table_round_trips(ctx: &Ctx) {
    let store = ctx.store();
    for &table in all_tables() {
        for variant in [Variant::Minimal, Variant::Full, Variant::Empty] {
            let row = insert_with_parents(store, table, variant).await;
            let key = row[table.primary_key_index()].clone();
            let query = Select::new(
                table,
                Cond::Cmp(table.primary_key, kavach_store_core::CmpOp::Eq, key),
            );
            let got = store.select_rows(&query).await.expect("select");
            assert_eq!(
                got.len(),
                1,
                "{} ({variant:?}): row not found by key",
                table.name
            );
            for (i, col) in table.columns.iter().enumerate() {
                assert_value_eq(ctx, table, col.name, &got[0][i], &row[i]);
            }
        }
    }
}

//! `copy`: every row of every table from one store to another, parents first,
//! in batches, idempotent (rows already present are overwritten with the
//! source's values), with counts verified at the end.

use kavach_store::prelude::*;

/// Rows read and written per batch.
pub const BATCH_SIZE: u64 = 500;

/// Rows copied per table.
#[derive(Debug, Default)]
pub struct CopyReport {
    /// `(table, rows in source, rows in target after the copy)`.
    pub tables: Vec<(&'static str, u64, u64)>,
}

impl CopyReport {
    /// Tables whose counts differ after the copy.
    pub fn mismatches(&self) -> Vec<&(&'static str, u64, u64)> {
        self.tables.iter().filter(|(_, s, t)| s != t).collect()
    }
}

/// Copies every table; `progress` is told `(table, rows done, rows total)`.
pub async fn copy_all(
    from: &dyn KavachStore,
    to: &dyn KavachStore,
    mut progress: impl FnMut(&'static str, u64, u64),
) -> Result<CopyReport, StoreError> {
    let mut report = CopyReport::default();
    for &table in all_tables() {
        let total = from.count_rows(table, &Cond::All).await?;
        copy_table(from, to, table, total, &mut progress).await?;
        let copied = to.count_rows(table, &Cond::All).await?;
        report.tables.push((table.name, total, copied));
    }
    Ok(report)
}

/// Copies one table in primary-key order, `BATCH_SIZE` rows at a time.
async fn copy_table(
    from: &dyn KavachStore,
    to: &dyn KavachStore,
    table: &'static TableDef,
    total: u64,
    progress: &mut impl FnMut(&'static str, u64, u64),
) -> Result<(), StoreError> {
    let pk = table.primary_key;
    let pk_index = table.primary_key_index();
    let order = primary_key_order(table);
    let mut after: Option<Value> = None;
    let mut done = 0;
    progress(table.name, 0, total);
    loop {
        let filter = match &after {
            Some(last) => Cond::Cmp(pk, CmpOp::Gt, last.clone()),
            None => Cond::All,
        };
        let rows = from
            .select_rows(&Select::new(table, filter).order(order).limit(BATCH_SIZE))
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(last[pk_index].clone());
        let n = rows.len() as u64;
        write_batch(to, table, rows).await?;
        done += n;
        progress(table.name, done, total);
        if n < BATCH_SIZE {
            break;
        }
    }
    Ok(())
}

/// Inserts a batch in one statement; when some rows already exist (a
/// re-run), writes the batch row by row as upserts on the primary key.
async fn write_batch(
    to: &dyn KavachStore,
    table: &'static TableDef,
    rows: Vec<Row>,
) -> Result<(), StoreError> {
    match to.insert_rows(table, rows.clone()).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_conflict() => {
            let pk = primary_key_columns(table);
            for row in rows {
                let on_conflict = table
                    .columns
                    .iter()
                    .zip(&row)
                    .filter(|(c, _)| c.name != table.primary_key)
                    .map(|(c, v)| Assign::Set(c.name, v.clone()))
                    .collect();
                to.upsert_row(&Upsert {
                    table,
                    row,
                    conflict: pk,
                    on_conflict,
                })
                .await?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `ORDER BY <primary key>` of a table, as the `'static` slice queries take.
pub fn primary_key_order(table: &TableDef) -> &'static [OrderBy] {
    std::slice::from_ref(&key_shapes(table).0)
}

/// `[<primary key>]` of a table, as the `'static` slice an upsert takes.
pub fn primary_key_columns(table: &TableDef) -> &'static [&'static str] {
    std::slice::from_ref(&key_shapes(table).1)
}

/// Both shapes, built once for every table.
fn key_shapes(table: &TableDef) -> &'static (OrderBy, &'static str) {
    use std::collections::HashMap;
    use std::sync::LazyLock;
    static SHAPES: LazyLock<HashMap<&'static str, (OrderBy, &'static str)>> = LazyLock::new(|| {
        all_tables()
            .iter()
            .map(|t| (t.name, (OrderBy::asc(t.primary_key), t.primary_key)))
            .collect()
    });
    &SHAPES[table.name]
}

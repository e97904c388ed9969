//! The table definitions compiled once per store: column positions of every
//! key, index and reference, and the reverse references (children) needed for
//! cascades. Everything the engine enforces comes from [`TableDef`] metadata,
//! never from per-table code.

use std::collections::HashMap;
use std::hash::RandomState;

use kavach_store_core::{ColumnKind, OnDelete, TableDef};

use crate::error;

/// The compiled schema of a store.
#[derive(Debug)]
pub(crate) struct Schema {
    pub tables: Vec<TableInfo>,
    by_name: HashMap<&'static str, usize>,
}

/// How key values are hashed.
#[derive(Clone, Debug)]
pub(crate) enum KeyHasher {
    /// Randomly keyed SipHash, as `std::collections::HashMap` uses.
    Random(RandomState),
    /// Every key hashes to 0: tests the collision handling.
    #[cfg(test)]
    Colliding,
}

impl KeyHasher {
    /// Hashes key values, in key column order.
    pub fn hash<'v>(&self, values: impl IntoIterator<Item = &'v kavach_store_core::Value>) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        match self {
            KeyHasher::Random(state) => {
                let mut h = state.build_hasher();
                values.into_iter().for_each(|v| v.hash(&mut h));
                h.finish()
            }
            #[cfg(test)]
            KeyHasher::Colliding => 0,
        }
    }
}

/// One table with column positions resolved.
#[derive(Debug)]
pub(crate) struct TableInfo {
    pub def: &'static TableDef,
    /// Hashes key values for the key and index sets (one per store, shared
    /// by its forks, which share the data).
    pub hasher: KeyHasher,
    /// Unique keys; `[0]` is always the primary key.
    pub uniques: Vec<KeyInfo>,
    /// Non-unique indexes: the table's declared indexes plus one per
    /// foreign-key column not already covered by a one-column key.
    pub indexes: Vec<KeyInfo>,
    /// Foreign keys of this table (this table is the child).
    pub fks: Vec<FkInfo>,
    /// Foreign keys of other tables that reference this one.
    pub children: Vec<ChildRef>,
}

/// The columns of a unique key or an index.
#[derive(Debug)]
pub(crate) struct KeyInfo {
    /// Constraint name (`<table>_pkey` for the primary key) or index name.
    pub name: String,
    pub cols: Vec<usize>,
    /// An index whose last column holds integers or instants: its entries
    /// are the hash of the leading columns, then the last column's value, so
    /// rows of one leading key come in that column's order (see
    /// [`crate::state`]).
    pub ordered: bool,
}

/// A way to find rows by the value of one column without a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Unique(usize),
    Index(usize),
    /// No one-column key or index on that column (only possible for tables
    /// registered by the user): a scan.
    Scan(usize),
}

/// A foreign key with positions resolved.
#[derive(Debug)]
pub(crate) struct FkInfo {
    /// Referencing column in this table.
    pub col: usize,
    pub parent: usize,
    pub parent_col: usize,
    /// How to find the parent row by `parent_col`.
    pub parent_lookup: Lookup,
    pub on_delete: OnDelete,
    /// Constraint name, PostgreSQL's default: `<table>_<column>_fkey`.
    pub name: String,
}

/// A reference to this table from a child table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChildRef {
    pub table: usize,
    /// Position in the child's [`TableInfo::fks`].
    pub fk: usize,
    /// How to find the child rows by the referencing column.
    pub lookup: Lookup,
}

impl Schema {
    /// Compiles `defs`. Panics when a definition is inconsistent (a column
    /// named by a key, index or reference does not exist, or a reference
    /// names a table that is not in `defs`): table definitions are static
    /// program data, so that is a bug to surface at construction.
    pub fn new(defs: &[&'static TableDef], hasher: KeyHasher) -> Schema {
        let mut by_name = HashMap::new();
        let mut unique_defs: Vec<&'static TableDef> = Vec::new();
        for &def in defs {
            if by_name.contains_key(def.name) {
                continue;
            }
            by_name.insert(def.name, unique_defs.len());
            unique_defs.push(def);
        }
        let col = |def: &TableDef, name: &str| {
            def.column_index(name)
                .unwrap_or_else(|| panic!("kavach-store-memory: {} has no column {name}", def.name))
        };
        let mut tables: Vec<TableInfo> = unique_defs
            .iter()
            .map(|&def| {
                let key = |name: String, cols: Vec<usize>| KeyInfo {
                    name,
                    cols,
                    ordered: false,
                };
                let mut uniques = vec![key(
                    format!("{}_pkey", def.name),
                    vec![col(def, def.primary_key)],
                )];
                uniques.extend(def.uniques.iter().map(|u| {
                    key(
                        u.name.to_string(),
                        u.columns.iter().map(|c| col(def, c)).collect(),
                    )
                }));
                let mut indexes: Vec<KeyInfo> = def
                    .indexes
                    .iter()
                    .map(|i| {
                        key(
                            i.name.to_string(),
                            i.columns.iter().map(|c| col(def, c)).collect(),
                        )
                    })
                    .collect();
                // Every referencing column gets a one-column index so cascades
                // and reference checks on parent deletes never scan.
                for fk in &def.foreign_keys {
                    let c = col(def, fk.column);
                    let covered = uniques
                        .iter()
                        .chain(indexes.iter())
                        .any(|k| k.cols.len() == 1 && k.cols[0] == c);
                    if !covered {
                        indexes.push(key(format!("{}_{}_fk_idx", def.name, fk.column), vec![c]));
                    }
                }
                let orderable = |c: usize| {
                    matches!(
                        def.columns[c].kind,
                        ColumnKind::Int
                            | ColumnKind::Bool
                            | ColumnKind::IntBool
                            | ColumnKind::Timestamp
                            | ColumnKind::TimestampMs
                    )
                };
                let pk = col(def, def.primary_key);
                for index in &mut indexes {
                    // (…, time, primary key) is a keyset index whose key only
                    // breaks ties; ordered indexes break ties by sequence and
                    // the select sorts tied rows, so index (…, time) in order.
                    if let [.., time, last] = index.cols[..]
                        && last == pk
                        && orderable(time)
                    {
                        index.cols.pop();
                    }
                    index.ordered = index.cols.last().is_some_and(|&c| orderable(c));
                }
                TableInfo {
                    def,
                    hasher: hasher.clone(),
                    uniques,
                    indexes,
                    fks: Vec::new(),
                    children: Vec::new(),
                }
            })
            .collect();
        for t in 0..tables.len() {
            let def = tables[t].def;
            let mut fks = Vec::new();
            for fk in &def.foreign_keys {
                let parent = *by_name.get(fk.parent_table).unwrap_or_else(|| {
                    panic!(
                        "kavach-store-memory: {}.{} references {}, which is not in the store's tables",
                        def.name, fk.column, fk.parent_table
                    )
                });
                let parent_col = col(tables[parent].def, fk.parent_column);
                fks.push(FkInfo {
                    col: col(def, fk.column),
                    parent,
                    parent_col,
                    parent_lookup: tables[parent].lookup_for(parent_col),
                    on_delete: fk.on_delete,
                    name: error::fk_name(def.name, fk.column),
                });
            }
            for (i, fk) in fks.iter().enumerate() {
                let lookup = tables[t].lookup_for(fk.col);
                tables[fk.parent].children.push(ChildRef {
                    table: t,
                    fk: i,
                    lookup,
                });
            }
            tables[t].fks = fks;
        }
        Schema { tables, by_name }
    }

    /// The position of a table, checking it is part of this schema.
    pub fn table(&self, def: &TableDef) -> kavach_store_core::Result<usize> {
        self.by_name.get(def.name).copied().ok_or_else(|| {
            kavach_store_core::StoreError::invalid_input(
                def.name,
                "the table is not part of this memory store (register it with MemoryStore::builder().table(..))",
            )
        })
    }
}

impl TableInfo {
    /// The fastest way to find rows by one column's value.
    fn lookup_for(&self, col: usize) -> Lookup {
        if let Some(u) = self.uniques.iter().position(|k| k.cols == [col]) {
            Lookup::Unique(u)
        } else if let Some(i) = self.indexes.iter().position(|k| k.cols == [col]) {
            Lookup::Index(i)
        } else {
            Lookup::Scan(col)
        }
    }

    /// `table.column` for error messages.
    pub fn field(&self, col: usize) -> String {
        format!("{}.{}", self.def.name, self.def.columns[col].name)
    }

    /// The position of a column, or `InvalidInput`.
    pub fn column(&self, name: &str) -> kavach_store_core::Result<usize> {
        self.def.column_index(name).ok_or_else(|| {
            kavach_store_core::StoreError::invalid_input(
                format!("{}.{name}", self.def.name),
                "no such column",
            )
        })
    }
}

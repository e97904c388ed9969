//! The data: persistent (structurally shared) maps, so cloning a whole
//! database state is O(number of tables) whatever it holds. That is what makes
//! snapshots for readers, per-statement atomicity and transactions cheap.
//!
//! Per table:
//! * `rows`: insertion sequence number → row. Scans run in insertion order,
//!   which is also the order of unordered results.
//! * one hash map per unique key (`[0]` = primary key): key values → sequence.
//!   Rows with a `NULL` in a unique key are not entered (SQL: NULLs never
//!   conflict).
//! * one ordered set per non-unique index of `(key values, sequence)`, so all
//!   rows of one key are a range. Rows with a `NULL` in the key are not
//!   entered: an equality never matches NULL.

use std::cmp::Ordering;
use std::sync::Arc;

use imbl::{HashMap, OrdMap, OrdSet};
use kavach_store_core::{Row, Value};

use crate::schema::{KeyInfo, Lookup, Schema, TableInfo};

/// A snapshot of every table (positions as in [`Schema::tables`]).
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub tables: Vec<Arc<TableData>>,
}

impl State {
    pub fn new(schema: &Schema) -> State {
        State {
            tables: schema
                .tables
                .iter()
                .map(|t| {
                    Arc::new(TableData {
                        next_seq: 0,
                        rows: OrdMap::new(),
                        uniques: t.uniques.iter().map(|_| HashMap::new()).collect(),
                        indexes: t.indexes.iter().map(|_| OrdSet::new()).collect(),
                    })
                })
                .collect(),
        }
    }

    /// The table for writing (copies its map roots if shared with a snapshot).
    pub fn table_mut(&mut self, t: usize) -> &mut TableData {
        Arc::make_mut(&mut self.tables[t])
    }
}

/// One table's rows and keys.
#[derive(Clone, Debug)]
pub(crate) struct TableData {
    pub next_seq: u64,
    pub rows: OrdMap<u64, Arc<Row>>,
    pub uniques: Vec<HashMap<Vec<Value>, u64>>,
    pub indexes: Vec<OrdSet<IndexEntry>>,
}

/// An entry of a non-unique index: the key values, then the row's sequence,
/// ordered with [`Value::sql_cmp`] (a total order consistent with `Eq`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub key: Vec<Value>,
    pub seq: u64,
}

impl Ord for IndexEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_keys(&self.key, &other.key).then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for IndexEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn cmp_keys(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.sql_cmp(y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

/// The key of `row` for `key`, or `None` when a key column is NULL.
pub(crate) fn key_of(row: &Row, key: &KeyInfo) -> Option<Vec<Value>> {
    key.cols
        .iter()
        .map(|&c| {
            if row[c].is_null() {
                None
            } else {
                Some(row[c].clone())
            }
        })
        .collect()
}

fn key_eq(a: &Row, b: &Row, key: &KeyInfo) -> bool {
    key.cols.iter().all(|&c| a[c] == b[c])
}

impl TableData {
    /// Sequence numbers of the rows whose key `u` equals `key`.
    pub fn unique_get(&self, u: usize, key: &[Value]) -> Option<u64> {
        self.uniques[u].get(key).copied()
    }

    /// Sequence numbers of the rows whose index `i` equals `key`, in order.
    pub fn index_get(&self, i: usize, key: &[Value]) -> impl Iterator<Item = u64> + '_ {
        let lo = IndexEntry {
            key: key.to_vec(),
            seq: 0,
        };
        let hi = IndexEntry {
            key: key.to_vec(),
            seq: u64::MAX,
        };
        self.indexes[i].range(lo..=hi).map(|e| e.seq)
    }

    /// Rows whose column (`lookup`) equals `value` (not NULL), in sequence order.
    pub fn find_by(&self, lookup: Lookup, value: &Value) -> Vec<u64> {
        match lookup {
            Lookup::Unique(u) => self
                .unique_get(u, std::slice::from_ref(value))
                .into_iter()
                .collect(),
            Lookup::Index(i) => self.index_get(i, std::slice::from_ref(value)).collect(),
            Lookup::Scan(c) => self
                .rows
                .iter()
                .filter(|(_, r)| r[c] == *value)
                .map(|(s, _)| *s)
                .collect(),
        }
    }

    /// Adds a new row; `Err(u)` names the unique key it violates.
    pub fn insert(&mut self, info: &TableInfo, row: Row) -> Result<u64, usize> {
        let seq = self.next_seq;
        self.next_seq += 1;
        for (u, key) in info.uniques.iter().enumerate() {
            if let Some(k) = key_of(&row, key) {
                if self.uniques[u].contains_key(&k) {
                    return Err(u);
                }
                self.uniques[u].insert(k, seq);
            }
        }
        for (i, key) in info.indexes.iter().enumerate() {
            if let Some(k) = key_of(&row, key) {
                self.indexes[i].insert(IndexEntry { key: k, seq });
            }
        }
        self.rows.insert(seq, Arc::new(row));
        Ok(seq)
    }

    /// Removes a row and its key entries.
    pub fn remove(&mut self, info: &TableInfo, seq: u64) -> Option<Arc<Row>> {
        let row = self.rows.remove(&seq)?;
        for (u, key) in info.uniques.iter().enumerate() {
            if let Some(k) = key_of(&row, key) {
                self.uniques[u].remove(&k);
            }
        }
        for (i, key) in info.indexes.iter().enumerate() {
            if let Some(k) = key_of(&row, key) {
                self.indexes[i].remove(&IndexEntry { key: k, seq });
            }
        }
        Some(row)
    }

    /// Replaces rows in place (same sequence numbers), maintaining only the
    /// keys whose values changed. All old keys are removed before new ones
    /// are entered, so a statement that swaps or shifts unique values is
    /// checked at its end, as SQL does. `Err(u)` names a violated unique key.
    pub fn replace(
        &mut self,
        info: &TableInfo,
        changes: &[(u64, Arc<Row>, Arc<Row>)],
    ) -> Result<(), usize> {
        for (u, key) in info.uniques.iter().enumerate() {
            let changed = || {
                changes
                    .iter()
                    .filter(|(_, old, new)| !key_eq(old, new, key))
            };
            for (_, old, _) in changed() {
                if let Some(k) = key_of(old, key) {
                    self.uniques[u].remove(&k);
                }
            }
            for (seq, _, new) in changed() {
                if let Some(k) = key_of(new, key) {
                    if self.uniques[u].contains_key(&k) {
                        return Err(u);
                    }
                    self.uniques[u].insert(k, *seq);
                }
            }
        }
        for (i, key) in info.indexes.iter().enumerate() {
            for (seq, old, new) in changes
                .iter()
                .filter(|(_, old, new)| !key_eq(old, new, key))
            {
                if let Some(k) = key_of(old, key) {
                    self.indexes[i].remove(&IndexEntry { key: k, seq: *seq });
                }
                if let Some(k) = key_of(new, key) {
                    self.indexes[i].insert(IndexEntry { key: k, seq: *seq });
                }
            }
        }
        for (seq, _, new) in changes {
            self.rows.insert(*seq, new.clone());
        }
        Ok(())
    }
}

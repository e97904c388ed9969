//! The data: persistent (structurally shared) maps, so cloning a whole
//! database state is O(number of tables) whatever it holds. That is what makes
//! snapshots for readers, per-statement atomicity and transactions cheap.
//!
//! Per table:
//! * `rows`: insertion sequence number → row. Scans run in insertion order,
//!   which is also the order of unordered results.
//! * one ordered set per unique key (`[0]` = primary key) and per non-unique
//!   index, of `(hash of the key values, sequence)`. Entries are two
//!   integers, so the path copying of a persistent B-tree copies plain
//!   memory instead of cloning key strings, and all rows of one key are one
//!   range. A hash can collide, so the rows found are checked against the
//!   key (unique keys, references) or against the whole condition (queries).
//!   Rows with a `NULL` in the key are not entered: SQL NULLs never conflict
//!   and an equality never matches them.

use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
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
                        uniques: t.uniques.iter().map(|_| OrdSet::new()).collect(),
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

/// A unique key: `(key hash, row sequence)`.
type Entries = OrdSet<(u64, u64)>;

/// A non-unique index: `(key hash, order value, row sequence)`. For an
/// ordered index the hash covers the leading columns and the order value is
/// the last column's (NULL lowest); otherwise the hash covers every column
/// and the order value is 0.
type IndexEntries = OrdSet<(u64, i64, u64)>;

/// One table's rows and keys.
#[derive(Clone, Debug)]
pub(crate) struct TableData {
    pub next_seq: u64,
    pub rows: OrdMap<u64, Arc<Row>>,
    pub uniques: Vec<Entries>,
    pub indexes: Vec<IndexEntries>,
}

/// The hash of key values (in key column order).
fn hash_values<'v>(info: &TableInfo, values: impl IntoIterator<Item = &'v Value>) -> u64 {
    info.hasher.hash(values)
}

/// The hash of `row`'s key, or `None` when a key column is NULL.
fn hash_of(info: &TableInfo, row: &Row, key: &KeyInfo) -> Option<u64> {
    if key.cols.iter().any(|&c| row[c].is_null()) {
        return None;
    }
    Some(hash_values(info, key.cols.iter().map(|&c| &row[c])))
}

/// The key values of `row`, or `None` when a key column is NULL.
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

fn key_matches(row: &Row, key: &KeyInfo, values: &[Value]) -> bool {
    key.cols.iter().zip(values).all(|(&c, v)| row[c] == *v)
}

fn with_hash(entries: &Entries, hash: u64) -> impl Iterator<Item = u64> + '_ {
    entries
        .range((hash, 0)..=(hash, u64::MAX))
        .map(|&(_, seq)| seq)
}

/// The order value of an ordered index's last column: consistent with
/// [`Value::sql_cmp`] for the values one column holds (timestamps are
/// stored truncated to milliseconds). `None` for values that have none.
pub(crate) fn order_value(v: &Value) -> Option<i64> {
    match v {
        Value::Null => Some(i64::MIN),
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Timestamp(t) => Some(t.timestamp_millis()),
        _ => None,
    }
}

/// The `(hash, order value)` of `row` in index `key`, or `None` when the row
/// is not entered (a NULL in a hashed column).
fn index_key(info: &TableInfo, row: &Row, key: &KeyInfo) -> Option<(u64, i64)> {
    if key.ordered {
        let (last, lead) = key.cols.split_last()?;
        if lead.iter().any(|&c| row[c].is_null()) {
            return None;
        }
        Some((
            hash_values(info, lead.iter().map(|&c| &row[c])),
            order_value(&row[*last]).unwrap_or(0),
        ))
    } else {
        Some((hash_of(info, row, key)?, 0))
    }
}

impl TableData {
    /// The row whose unique key `u` equals `key` (exact).
    pub fn unique_get(&self, info: &TableInfo, u: usize, key: &[Value]) -> Option<u64> {
        let k = &info.uniques[u];
        with_hash(&self.uniques[u], hash_values(info, key)).find(|seq| {
            self.rows
                .get(seq)
                .is_some_and(|row| key_matches(row, k, key))
        })
    }

    /// Candidate rows for index `i` equal to `key` (every column), ascending:
    /// a superset (hash collisions); callers check the condition on each row.
    pub fn index_candidates(&self, info: &TableInfo, i: usize, key: &[Value]) -> Vec<u64> {
        let index = &info.indexes[i];
        let (hash, ord) = if index.ordered {
            let Some((last, lead)) = key.split_last() else {
                return Vec::new();
            };
            // A value with no order value never equals what the column holds.
            let Some(ord) = order_value(last) else {
                return Vec::new();
            };
            (hash_values(info, lead), ord)
        } else {
            (hash_values(info, key), 0)
        };
        // Hash and order value fixed: the range is in sequence order.
        self.indexes[i]
            .range((hash, ord, 0)..=(hash, ord, u64::MAX))
            .map(|&(_, _, seq)| seq)
            .collect()
    }

    /// The entries `(order value, sequence)` of ordered index `i` whose
    /// leading columns equal `lead`, with order values in `lo..=hi`, in
    /// ascending order (reverse it for descending).
    pub fn index_range<'s>(
        &'s self,
        info: &TableInfo,
        i: usize,
        lead: &[Value],
        lo: i64,
        hi: i64,
    ) -> impl DoubleEndedIterator<Item = (i64, u64)> + 's {
        let hash = hash_values(info, lead);
        self.indexes[i]
            .range((hash, lo, 0)..=(hash, hi, u64::MAX))
            .map(|&(_, ord, seq)| (ord, seq))
    }

    /// Rows whose column (`lookup`) equals `value` (exact), ascending.
    pub fn find_by(&self, info: &TableInfo, lookup: Lookup, value: &Value) -> Vec<(u64, Arc<Row>)> {
        let one = std::slice::from_ref(value);
        let (seqs, col) = match lookup {
            Lookup::Unique(u) => (self.unique_get(info, u, one).into_iter().collect(), None),
            Lookup::Index(i) => (
                self.index_candidates(info, i, one),
                Some(info.indexes[i].cols[0]),
            ),
            Lookup::Scan(c) => {
                return self
                    .rows
                    .iter()
                    .filter(|(_, r)| r[c] == *value)
                    .map(|(s, r)| (*s, r.clone()))
                    .collect();
            }
        };
        seqs.into_iter()
            .filter_map(|seq| Some((seq, self.rows.get(&seq)?.clone())))
            .filter(|(_, row)| col.is_none_or(|c| row[c] == *value))
            .collect()
    }

    /// True when a row's column (`lookup`) equals `value`.
    pub fn exists(&self, info: &TableInfo, lookup: Lookup, value: &Value) -> bool {
        let one = std::slice::from_ref(value);
        match lookup {
            Lookup::Unique(u) => self.unique_get(info, u, one).is_some(),
            Lookup::Index(i) => {
                let col = info.indexes[i].cols[0];
                self.index_candidates(info, i, one)
                    .into_iter()
                    .any(|seq| self.rows.get(&seq).is_some_and(|row| row[col] == *value))
            }
            Lookup::Scan(c) => self.rows.values().any(|r| r[c] == *value),
        }
    }

    /// Whether unique key `u` already holds `row`'s key for another row.
    fn unique_taken(&self, info: &TableInfo, u: usize, hash: u64, row: &Row, seq: u64) -> bool {
        let k = &info.uniques[u];
        with_hash(&self.uniques[u], hash)
            .any(|other| other != seq && self.rows.get(&other).is_some_and(|o| key_eq(o, row, k)))
    }

    /// Adds a new row; `Err(u)` names the unique key it violates.
    pub fn insert(&mut self, info: &TableInfo, row: Row) -> Result<u64, usize> {
        let seq = self.next_seq;
        self.next_seq += 1;
        for (u, key) in info.uniques.iter().enumerate() {
            if let Some(h) = hash_of(info, &row, key) {
                if self.unique_taken(info, u, h, &row, seq) {
                    return Err(u);
                }
                self.uniques[u].insert((h, seq));
            }
        }
        for (i, key) in info.indexes.iter().enumerate() {
            if let Some((h, ord)) = index_key(info, &row, key) {
                self.indexes[i].insert((h, ord, seq));
            }
        }
        self.rows.insert(seq, Arc::new(row));
        Ok(seq)
    }

    /// Removes a row and its key entries.
    pub fn remove(&mut self, info: &TableInfo, seq: u64) -> Option<Arc<Row>> {
        let row = self.rows.remove(&seq)?;
        for (u, key) in info.uniques.iter().enumerate() {
            if let Some(h) = hash_of(info, &row, key) {
                self.uniques[u].remove(&(h, seq));
            }
        }
        for (i, key) in info.indexes.iter().enumerate() {
            if let Some((h, ord)) = index_key(info, &row, key) {
                self.indexes[i].remove(&(h, ord, seq));
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
        // Rows first: conflict checks compare against the rows' new values.
        for (seq, _, new) in changes {
            self.rows.insert(*seq, new.clone());
        }
        for (u, key) in info.uniques.iter().enumerate() {
            let changed = || {
                changes
                    .iter()
                    .filter(|(_, old, new)| !key_eq(old, new, key))
            };
            for (seq, old, _) in changed() {
                if let Some(h) = hash_of(info, old, key) {
                    self.uniques[u].remove(&(h, *seq));
                }
            }
            for (seq, _, new) in changed() {
                if let Some(h) = hash_of(info, new, key) {
                    if self.unique_taken(info, u, h, new, *seq) {
                        return Err(u);
                    }
                    self.uniques[u].insert((h, *seq));
                }
            }
        }
        for (i, key) in info.indexes.iter().enumerate() {
            for (seq, old, new) in changes
                .iter()
                .filter(|(_, old, new)| !key_eq(old, new, key))
            {
                if let Some((h, ord)) = index_key(info, old, key) {
                    self.indexes[i].remove(&(h, ord, *seq));
                }
                if let Some((h, ord)) = index_key(info, new, key) {
                    self.indexes[i].insert((h, ord, *seq));
                }
            }
        }
        Ok(())
    }
}

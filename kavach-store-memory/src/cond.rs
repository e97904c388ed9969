//! Conditions compiled against a table (column names resolved to positions
//! once per statement, operands normalized to the column's kind), their
//! evaluation with SQL NULL semantics, and the choice of access path: a key
//! or index lookup when the condition pins all its columns with equality
//! (`=` or `IN`), a scan otherwise.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use kavach_store_core::{CmpOp, Cond, LikePattern, OrderBy, Result, Row, StoreError, Value};

use crate::row::normalize_operand;
use crate::schema::TableInfo;
use crate::state::TableData;

/// A compiled condition.
#[derive(Debug)]
pub(crate) enum Pred<'a> {
    True,
    False,
    /// `column op value`, value not NULL.
    Cmp(usize, CmpOp, Cow<'a, Value>),
    CmpColumn(usize, CmpOp, usize),
    IsNull(usize),
    IsNotNull(usize),
    /// `column IN (values)`, NULLs dropped from the list (they never match).
    In(usize, Vec<Cow<'a, Value>>),
    Like(usize, LikeKind, &'a str),
    And(Vec<Pred<'a>>),
    Or(Vec<Pred<'a>>),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum LikeKind {
    Contains,
    Prefix,
}

/// Compiles `cond` for `info`'s table; `InvalidInput` on an unknown column.
pub(crate) fn compile<'a>(info: &TableInfo, cond: &'a Cond) -> Result<Pred<'a>> {
    let operand = |col: usize, v: &'a Value| normalize_operand(&info.def.columns[col], v);
    Ok(match cond {
        Cond::All => Pred::True,
        Cond::Cmp(c, op, v) => {
            let col = info.column(c)?;
            if v.is_null() {
                Pred::False
            } else {
                Pred::Cmp(col, *op, operand(col, v))
            }
        }
        Cond::CmpColumn(a, op, b) => Pred::CmpColumn(info.column(a)?, *op, info.column(b)?),
        Cond::IsNull(c) => Pred::IsNull(info.column(c)?),
        Cond::IsNotNull(c) => Pred::IsNotNull(info.column(c)?),
        Cond::In(c, values) => {
            let col = info.column(c)?;
            let values: Vec<_> = values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| operand(col, v))
                .collect();
            if values.is_empty() {
                Pred::False
            } else {
                Pred::In(col, values)
            }
        }
        Cond::Like(c, pattern) => {
            let col = info.column(c)?;
            match pattern {
                LikePattern::Contains(s) => Pred::Like(col, LikeKind::Contains, s),
                LikePattern::Prefix(s) => Pred::Like(col, LikeKind::Prefix, s),
            }
        }
        Cond::And(conds) => {
            let parts = conds
                .iter()
                .map(|c| compile(info, c))
                .collect::<Result<Vec<_>>>()?;
            if parts.iter().any(|p| matches!(p, Pred::False)) {
                Pred::False
            } else {
                let parts: Vec<_> = parts
                    .into_iter()
                    .filter(|p| !matches!(p, Pred::True))
                    .collect();
                if parts.is_empty() {
                    Pred::True
                } else {
                    Pred::And(parts)
                }
            }
        }
        Cond::Or(conds) => {
            let parts = conds
                .iter()
                .map(|c| compile(info, c))
                .collect::<Result<Vec<_>>>()?;
            if parts.iter().any(|p| matches!(p, Pred::True)) {
                Pred::True
            } else {
                let parts: Vec<_> = parts
                    .into_iter()
                    .filter(|p| !matches!(p, Pred::False))
                    .collect();
                if parts.is_empty() {
                    Pred::False
                } else {
                    Pred::Or(parts)
                }
            }
        }
    })
}

/// ASCII case-insensitive `LIKE`, without allocating per row.
fn like(kind: LikeKind, haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    match kind {
        LikeKind::Prefix => h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n),
        LikeKind::Contains => n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n)),
    }
}

/// `a op b` with NULL never comparing true.
fn holds(a: &Value, op: CmpOp, b: &Value) -> bool {
    !a.is_null() && !b.is_null() && op.holds(a.sql_cmp(b))
}

impl Pred<'_> {
    /// True when the row satisfies the condition.
    pub fn eval(&self, row: &Row) -> bool {
        match self {
            Pred::True => true,
            Pred::False => false,
            Pred::Cmp(c, op, v) => holds(&row[*c], *op, v),
            Pred::CmpColumn(a, op, b) => holds(&row[*a], *op, &row[*b]),
            Pred::IsNull(c) => row[*c].is_null(),
            Pred::IsNotNull(c) => !row[*c].is_null(),
            Pred::In(c, values) => {
                let v = &row[*c];
                !v.is_null() && values.iter().any(|x| v.sql_cmp(x) == Ordering::Equal)
            }
            Pred::Like(c, kind, needle) => match &row[*c] {
                Value::Text(s) => like(*kind, s, needle),
                _ => false,
            },
            Pred::And(parts) => parts.iter().all(|p| p.eval(row)),
            Pred::Or(parts) => parts.iter().any(|p| p.eval(row)),
        }
    }

    /// Columns pinned by equality in the top-level conjunction, with their
    /// candidate values (one for `=`, several for `IN`).
    fn pins<'p>(&'p self, out: &mut Vec<(usize, Vec<&'p Value>)>) {
        let pinned =
            |out: &Vec<(usize, Vec<&Value>)>, c: &usize| out.iter().any(|(col, _)| col == c);
        match self {
            Pred::Cmp(c, CmpOp::Eq, v) if !pinned(out, c) => out.push((*c, vec![v.as_ref()])),
            Pred::In(c, values) if !pinned(out, c) => {
                out.push((*c, values.iter().map(|v| v.as_ref()).collect()))
            }
            Pred::And(parts) => parts.iter().for_each(|p| p.pins(out)),
            _ => {}
        }
    }
}

/// The most keys an `IN` list (or several) may expand to before a scan is
/// preferred.
const MAX_LOOKUPS: usize = 1024;

/// How to find candidate rows.
#[derive(Debug)]
pub(crate) enum Access<'d> {
    /// These rows (ascending sequence), to be filtered still.
    Rows(Vec<(u64, &'d Arc<Row>)>),
    Scan,
}

impl Access<'_> {
    /// The sequence numbers of a lookup; `None` for a scan.
    #[cfg(test)]
    pub fn seqs(&self) -> Option<Vec<u64>> {
        match self {
            Access::Rows(rows) => Some(rows.iter().map(|(seq, _)| *seq).collect()),
            Access::Scan => None,
        }
    }
}

/// Key values for every combination of the pinned candidates of `cols`,
/// or `None` when a column is not pinned or there are too many.
fn combinations(cols: &[usize], pins: &[(usize, Vec<&Value>)]) -> Option<Vec<Vec<Value>>> {
    let mut lists = Vec::with_capacity(cols.len());
    let mut total: usize = 1;
    for c in cols {
        let (_, values) = pins.iter().find(|(col, _)| col == c)?;
        total = total.checked_mul(values.len())?;
        lists.push(values);
    }
    if total > MAX_LOOKUPS {
        return None;
    }
    let mut keys: Vec<Vec<Value>> = vec![Vec::with_capacity(cols.len())];
    for values in lists {
        keys = keys
            .into_iter()
            .flat_map(|k| {
                values.iter().map(move |v| {
                    let mut k = k.clone();
                    k.push((*v).clone());
                    k
                })
            })
            .collect();
    }
    Some(keys)
}

/// Rows by sequence number (unique-key lookups), ascending and distinct.
fn rows_of(data: &TableData, mut seqs: Vec<u64>) -> Access<'_> {
    seqs.sort_unstable();
    seqs.dedup();
    Access::Rows(
        seqs.into_iter()
            .filter_map(|seq| Some((seq, data.rows.get(&seq)?)))
            .collect(),
    )
}

pub(crate) fn plan<'d>(info: &TableInfo, data: &'d TableData, pred: &Pred<'_>) -> Access<'d> {
    match pred {
        Pred::False => return Access::Rows(Vec::new()),
        // The hot path (one `=` on a one-column unique key, e.g. a token
        // hash or the primary key) without building key vectors.
        Pred::Cmp(c, CmpOp::Eq, v) => {
            if let Some(u) = info.uniques.iter().position(|k| k.cols == [*c]) {
                let seq = data.unique_get(info, u, std::slice::from_ref(v.as_ref()));
                return rows_of(data, seq.into_iter().collect());
            }
        }
        _ => {}
    }
    let mut pins = Vec::new();
    pred.pins(&mut pins);
    if pins.is_empty() {
        return Access::Scan;
    }
    for (u, key) in info.uniques.iter().enumerate() {
        if let Some(keys) = combinations(&key.cols, &pins) {
            return rows_of(
                data,
                keys.iter()
                    .filter_map(|k| data.unique_get(info, u, k))
                    .collect(),
            );
        }
    }
    // The index pinning the most columns is the most selective.
    let best = info
        .indexes
        .iter()
        .enumerate()
        .filter_map(|(i, key)| combinations(&key.cols, &pins).map(|keys| (i, key.cols.len(), keys)))
        .max_by_key(|(_, width, _)| *width);
    match best {
        Some((i, _, keys)) => {
            let mut seqs: Vec<u64> = keys
                .iter()
                .flat_map(|k| data.index_candidates(info, i, k))
                .collect();
            if keys.len() > 1 {
                seqs.sort_unstable();
                seqs.dedup();
            }
            Access::Rows(
                seqs.into_iter()
                    .filter_map(|seq| Some((seq, data.rows.get(&seq)?)))
                    .collect(),
            )
        }
        None => Access::Scan,
    }
}

/// Bounds `(lo, hi)` (inclusive order values) that `pred` puts on column
/// `col`: every row it accepts has its order value in `lo..=hi`.
fn bounds(pred: &Pred<'_>, col: usize) -> (i64, i64) {
    use crate::state::order_value;
    match pred {
        Pred::Cmp(c, op, v) if *c == col => match (op, order_value(v)) {
            (CmpOp::Lt | CmpOp::Le, Some(x)) => (i64::MIN, x),
            (CmpOp::Gt | CmpOp::Ge, Some(x)) => (x, i64::MAX),
            (CmpOp::Eq, Some(x)) => (x, x),
            _ => (i64::MIN, i64::MAX),
        },
        Pred::And(parts) => parts
            .iter()
            .map(|p| bounds(p, col))
            .fold((i64::MIN, i64::MAX), |(lo, hi), (l, h)| {
                (lo.max(l), hi.min(h))
            }),
        Pred::Or(parts) => parts
            .iter()
            .map(|p| bounds(p, col))
            .reduce(|(lo, hi), (l, h)| (lo.min(l), hi.max(h)))
            .unwrap_or((i64::MIN, i64::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

/// For `ORDER BY order`: an ordered index whose last column is the first
/// order column and whose leading columns `pred` pins to one value each, as
/// an iterator of `(order value, sequence)` in the wanted order, bounded by
/// the condition's range on that column (keyset cursors). `None` when no
/// index serves, or when an equality lookup is the better path.
pub(crate) fn ordered_access<'d>(
    info: &TableInfo,
    data: &'d TableData,
    pred: &Pred<'_>,
    order: &[(usize, bool)],
) -> Option<Box<dyn Iterator<Item = (i64, u64)> + 'd>> {
    let &(first, descending) = order.first()?;
    let mut pins = Vec::new();
    pred.pins(&mut pins);
    let (i, lead) = info
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, k)| k.ordered && k.cols.last() == Some(&first))
        .filter_map(|(i, k)| {
            let lead: Option<Vec<Value>> = k.cols[..k.cols.len() - 1]
                .iter()
                .map(|c| match pins.iter().find(|(pc, _)| pc == c) {
                    Some((_, values)) if values.len() == 1 => Some(values[0].clone()),
                    _ => None,
                })
                .collect();
            lead.map(|lead| (i, lead))
        })
        .max_by_key(|(_, lead)| lead.len())?;
    // A whole-table order is worse than a selective equality lookup, and a
    // fully pinned unique key is one row anyway.
    let pinned_unique = info
        .uniques
        .iter()
        .any(|k| k.cols.iter().all(|c| pins.iter().any(|(pc, _)| pc == c)));
    let pinned_index = info
        .indexes
        .iter()
        .any(|k| k.cols.iter().all(|c| pins.iter().any(|(pc, _)| pc == c)));
    if pinned_unique || (lead.is_empty() && pinned_index) {
        return None;
    }
    let (lo, hi) = bounds(pred, first);
    if lo > hi {
        return Some(Box::new(std::iter::empty()));
    }
    let range = data.index_range(info, i, &lead, lo, hi);
    Some(if descending {
        Box::new(range.rev())
    } else {
        Box::new(range)
    })
}

/// Calls `f` with every row matching `pred`, in insertion order, until `f`
/// returns false.
pub(crate) fn for_each_match<'d>(
    info: &TableInfo,
    data: &'d TableData,
    pred: &Pred<'_>,
    mut f: impl FnMut(u64, &'d Arc<Row>) -> bool,
) {
    match plan(info, data, pred) {
        Access::Rows(rows) => {
            for (seq, row) in rows {
                if pred.eval(row) && !f(seq, row) {
                    return;
                }
            }
        }
        Access::Scan => {
            for (seq, row) in data.rows.iter() {
                if pred.eval(row) && !f(*seq, row) {
                    return;
                }
            }
        }
    }
}

/// All rows matching `pred`, in insertion order.
pub(crate) fn matches(info: &TableInfo, data: &TableData, pred: &Pred<'_>) -> Vec<(u64, Arc<Row>)> {
    let mut out = Vec::new();
    for_each_match(info, data, pred, |seq, row| {
        out.push((seq, row.clone()));
        true
    });
    out
}

/// `ORDER BY` with positions resolved: `(column, descending)`.
pub(crate) fn compile_order(info: &TableInfo, order: &[OrderBy]) -> Result<Vec<(usize, bool)>> {
    order
        .iter()
        .map(|o| Ok((info.column(o.column)?, o.descending)))
        .collect()
}

/// Compares two rows by `order`, then by insertion, so results are
/// deterministic even with ties.
pub(crate) fn cmp_rows(order: &[(usize, bool)], a: (u64, &Row), b: (u64, &Row)) -> Ordering {
    for &(c, desc) in order {
        let ord = a.1[c].sql_cmp(&b.1[c]);
        let ord = if desc { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.0.cmp(&b.0)
}

/// `InvalidInput` for a statement that cannot be run as given.
pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> StoreError {
    StoreError::invalid_input(field, reason)
}

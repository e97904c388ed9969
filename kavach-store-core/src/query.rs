//! Row-level queries: the small language the domain traits speak to backends.
//!
//! Every domain operation is expressed as one of [`Select`], [`Update`],
//! [`Delete`], [`Upsert`] or [`Sum`] over a [`TableDef`]. Column names are
//! `&'static str`, so the *shape* of a query (everything but its values) is
//! known statically; [`Shape`] hashes it so SQL backends render each shape's
//! SQL once and reuse the prepared statement (no SQL text is built per call).
//!
//! Parameter order: backends render conditions depth-first, left to right,
//! and bind parameters in the order [`Cond::for_each_param`] visits them.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::schema::TableDef;
use crate::value::{Row, Value};

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Applies the operator to an [`Ordering`](std::cmp::Ordering) of left vs right.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
        }
    }
}

/// A `LIKE` pattern; matching is ASCII case-insensitive on every backend
/// (KavachOS's admin and SCIM searches).
#[derive(Clone, Debug, PartialEq)]
pub enum LikePattern {
    /// The column contains the text.
    Contains(String),
    /// The column starts with the text.
    Prefix(String),
}

impl LikePattern {
    /// The literal text searched for.
    pub fn text(&self) -> &str {
        match self {
            LikePattern::Contains(s) | LikePattern::Prefix(s) => s,
        }
    }

    /// The SQL `LIKE` pattern with `%`, `_` and `escape` escaped by `escape`.
    pub fn to_sql_pattern(&self, escape: char) -> String {
        let mut out = String::new();
        if matches!(self, LikePattern::Contains(_)) {
            out.push('%');
        }
        for c in self.text().chars() {
            if c == '%' || c == '_' || c == escape {
                out.push(escape);
            }
            out.push(c);
        }
        out.push('%');
        out
    }

    /// Evaluates the pattern in Rust (in-memory backend).
    pub fn matches(&self, value: &str) -> bool {
        let value = value.to_ascii_lowercase();
        let needle = self.text().to_ascii_lowercase();
        match self {
            LikePattern::Contains(_) => value.contains(&needle),
            LikePattern::Prefix(_) => value.starts_with(&needle),
        }
    }
}

/// A `WHERE` condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// Always true (no filter).
    All,
    /// `column op value`. Comparisons with `NULL` are never true, as in SQL.
    Cmp(&'static str, CmpOp, Value),
    /// `column op other_column`.
    CmpColumn(&'static str, CmpOp, &'static str),
    /// `column IS NULL`.
    IsNull(&'static str),
    /// `column IS NOT NULL`.
    IsNotNull(&'static str),
    /// `column IN (values)`; an empty list matches nothing.
    In(&'static str, Vec<Value>),
    /// `column LIKE pattern`, ASCII case-insensitive.
    Like(&'static str, LikePattern),
    /// All of the conditions (empty: true).
    And(Vec<Cond>),
    /// Any of the conditions (empty: false).
    Or(Vec<Cond>),
}

impl Cond {
    /// `column = value`
    pub fn eq(column: &'static str, value: impl Into<Value>) -> Cond {
        Cond::Cmp(column, CmpOp::Eq, value.into())
    }
    /// `column <> value`
    pub fn ne(column: &'static str, value: impl Into<Value>) -> Cond {
        Cond::Cmp(column, CmpOp::Ne, value.into())
    }
    /// `column < value`
    pub fn lt(column: &'static str, value: impl Into<Value>) -> Cond {
        Cond::Cmp(column, CmpOp::Lt, value.into())
    }
    /// `column <= value`
    pub fn le(column: &'static str, value: impl Into<Value>) -> Cond {
        Cond::Cmp(column, CmpOp::Le, value.into())
    }
    /// `column > value`
    pub fn gt(column: &'static str, value: impl Into<Value>) -> Cond {
        Cond::Cmp(column, CmpOp::Gt, value.into())
    }
    /// `column >= value`
    pub fn ge(column: &'static str, value: impl Into<Value>) -> Cond {
        Cond::Cmp(column, CmpOp::Ge, value.into())
    }
    /// `column IN (values)`
    pub fn is_in(column: &'static str, values: impl IntoIterator<Item = impl Into<Value>>) -> Cond {
        Cond::In(column, values.into_iter().map(Into::into).collect())
    }

    /// Conjunction of `self` and `other`, flattening nested `And`s and dropping `All`.
    pub fn and(self, other: Cond) -> Cond {
        match (self, other) {
            (Cond::All, c) | (c, Cond::All) => c,
            (Cond::And(mut a), Cond::And(b)) => {
                a.extend(b);
                Cond::And(a)
            }
            (Cond::And(mut a), c) => {
                a.push(c);
                Cond::And(a)
            }
            (c, Cond::And(mut b)) => {
                b.insert(0, c);
                Cond::And(b)
            }
            (a, b) => Cond::And(vec![a, b]),
        }
    }

    /// Adds `cond` only when `value` is `Some`: the builder for optional filters.
    pub fn and_opt<T>(self, value: Option<T>, cond: impl FnOnce(T) -> Cond) -> Cond {
        match value {
            Some(v) => self.and(cond(v)),
            None => self,
        }
    }

    /// Visits every bound parameter, values and `LIKE` patterns alike, in
    /// rendering order (depth-first, left to right): the order to bind them.
    pub fn for_each_param<'a>(&'a self, f: &mut impl FnMut(Param<'a>)) {
        match self {
            Cond::All | Cond::CmpColumn(..) | Cond::IsNull(_) | Cond::IsNotNull(_) => {}
            Cond::Cmp(column, _, value) => f(Param::Value(column, value)),
            Cond::In(column, values) => values.iter().for_each(|v| f(Param::Value(column, v))),
            Cond::Like(column, pattern) => f(Param::Like(column, pattern)),
            Cond::And(conds) | Cond::Or(conds) => conds.iter().for_each(|c| c.for_each_param(f)),
        }
    }

    /// Visits the compared values with their columns, in rendering order.
    /// `LIKE` patterns are **not** visited: to bind parameters use
    /// [`Cond::for_each_param`].
    pub fn for_each_value<'a>(&'a self, f: &mut impl FnMut(&'static str, &'a Value)) {
        self.for_each_param(&mut |p| {
            if let Param::Value(column, value) = p {
                f(column, value)
            }
        });
    }

    fn hash_shape<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self).hash(h);
        match self {
            Cond::All => {}
            Cond::Cmp(c, op, v) => {
                c.hash(h);
                op.hash(h);
                // NULL is rendered differently by some backends (never bound).
                v.is_null().hash(h);
            }
            Cond::CmpColumn(a, op, b) => {
                a.hash(h);
                op.hash(h);
                b.hash(h);
            }
            Cond::IsNull(c) | Cond::IsNotNull(c) => c.hash(h),
            Cond::In(c, values) => {
                c.hash(h);
                values.len().hash(h);
            }
            Cond::Like(c, p) => {
                c.hash(h);
                std::mem::discriminant(p).hash(h);
            }
            Cond::And(conds) | Cond::Or(conds) => {
                conds.len().hash(h);
                conds.iter().for_each(|c| c.hash_shape(h));
            }
        }
    }
}

/// A bound parameter of a condition, see [`Cond::for_each_param`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param<'a> {
    /// A value compared with `column` (encode it as that column is stored).
    Value(&'static str, &'a Value),
    /// A `LIKE` pattern on `column` (bind [`LikePattern::to_sql_pattern`]).
    Like(&'static str, &'a LikePattern),
}

/// One `ORDER BY` term. Order columns are `NOT NULL` columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderBy {
    /// Column name.
    pub column: &'static str,
    /// Descending when true.
    pub descending: bool,
}

impl OrderBy {
    /// Ascending order on `column`.
    pub const fn asc(column: &'static str) -> OrderBy {
        OrderBy {
            column,
            descending: false,
        }
    }
    /// Descending order on `column`.
    pub const fn desc(column: &'static str) -> OrderBy {
        OrderBy {
            column,
            descending: true,
        }
    }
}

/// `SELECT * FROM table WHERE filter ORDER BY order LIMIT limit OFFSET offset`.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// The table.
    pub table: &'static TableDef,
    /// The condition.
    pub filter: Cond,
    /// Ordering; empty means the database's order.
    pub order: &'static [OrderBy],
    /// Row limit.
    pub limit: Option<u64>,
    /// Rows to skip.
    pub offset: u64,
}

impl Select {
    /// All rows of `table` matching `filter`, unordered.
    pub fn new(table: &'static TableDef, filter: Cond) -> Select {
        Select {
            table,
            filter,
            order: &[],
            limit: None,
            offset: 0,
        }
    }
    /// Sets the order.
    pub fn order(mut self, order: &'static [OrderBy]) -> Select {
        self.order = order;
        self
    }
    /// Sets the limit.
    pub fn limit(mut self, limit: u64) -> Select {
        self.limit = Some(limit);
        self
    }
    /// Sets the offset.
    pub fn offset(mut self, offset: u64) -> Select {
        self.offset = offset;
        self
    }
}

/// One assignment of an `UPDATE` (or of the conflict branch of an [`Upsert`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Assign {
    /// `column = value`
    Set(&'static str, Value),
    /// `column = column + delta` (atomic increment).
    Add(&'static str, i64),
}

impl Assign {
    /// The assigned column.
    pub fn column(&self) -> &'static str {
        match self {
            Assign::Set(c, _) | Assign::Add(c, _) => c,
        }
    }
}

/// `UPDATE table SET set WHERE filter`.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The table.
    pub table: &'static TableDef,
    /// Rows to update.
    pub filter: Cond,
    /// Assignments (at least one).
    pub set: Vec<Assign>,
}

/// `DELETE FROM table WHERE filter`.
#[derive(Clone, Debug, PartialEq)]
pub struct Delete {
    /// The table.
    pub table: &'static TableDef,
    /// Rows to delete.
    pub filter: Cond,
}

/// Insert `row`, or, when a row with the same values in `conflict` columns
/// exists (a unique constraint or the primary key), apply `on_conflict` to
/// that row instead. Returns the resulting row. Atomic on every backend.
#[derive(Clone, Debug, PartialEq)]
pub struct Upsert {
    /// The table.
    pub table: &'static TableDef,
    /// The row to insert.
    pub row: Row,
    /// Columns of the unique constraint that decides the conflict.
    pub conflict: &'static [&'static str],
    /// Assignments applied to the existing row on conflict.
    pub on_conflict: Vec<Assign>,
}

/// `SELECT group_by, SUM(column) FROM table WHERE filter GROUP BY group_by`,
/// ordered by the sum descending then group ascending; without `group_by`,
/// one row with `Value::Null` as its group (sum 0 when nothing matches).
#[derive(Clone, Debug, PartialEq)]
pub struct Sum {
    /// The table.
    pub table: &'static TableDef,
    /// Rows to add up.
    pub filter: Cond,
    /// Integer column summed (NULLs count as 0).
    pub column: &'static str,
    /// Grouping column.
    pub group_by: Option<&'static str>,
    /// Maximum number of groups returned.
    pub limit: Option<u64>,
}

/// A 64-bit hash of a query's shape (table, columns, operators, order,
/// whether limit/offset are present, list lengths), not its values: the key
/// under which SQL backends cache rendered statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape(pub u64);

impl Shape {
    fn of(kind: u8, table: &TableDef, f: impl FnOnce(&mut DefaultHasher)) -> Shape {
        let mut h = DefaultHasher::new();
        kind.hash(&mut h);
        table.name.hash(&mut h);
        f(&mut h);
        Shape(h.finish())
    }
}

impl Select {
    /// The shape of this query.
    pub fn shape(&self) -> Shape {
        Shape::of(1, self.table, |h| {
            self.filter.hash_shape(h);
            self.order.hash(h);
            self.limit.is_some().hash(h);
            (self.offset > 0).hash(h);
        })
    }
}

impl Update {
    /// The shape of this update.
    pub fn shape(&self) -> Shape {
        Shape::of(2, self.table, |h| {
            self.filter.hash_shape(h);
            hash_assignments(&self.set, h);
        })
    }
}

impl Delete {
    /// The shape of this delete.
    pub fn shape(&self) -> Shape {
        Shape::of(3, self.table, |h| self.filter.hash_shape(h))
    }
}

impl Upsert {
    /// The shape of this upsert.
    pub fn shape(&self) -> Shape {
        Shape::of(4, self.table, |h| {
            self.conflict.hash(h);
            hash_assignments(&self.on_conflict, h);
        })
    }
}

impl Sum {
    /// The shape of this aggregate.
    pub fn shape(&self) -> Shape {
        Shape::of(5, self.table, |h| {
            self.filter.hash_shape(h);
            self.column.hash(h);
            self.group_by.hash(h);
            self.limit.is_some().hash(h);
        })
    }
}

/// The shape of a `COUNT(*)` with this filter.
pub fn count_shape(table: &TableDef, filter: &Cond) -> Shape {
    Shape::of(6, table, |h| filter.hash_shape(h))
}

fn hash_assignments<H: Hasher>(set: &[Assign], h: &mut H) {
    set.len().hash(h);
    for a in set {
        match a {
            Assign::Set(c, v) => {
                0u8.hash(h);
                c.hash(h);
                v.is_null().hash(h);
            }
            Assign::Add(c, _) => {
                1u8.hash(h);
                c.hash(h);
            }
        }
    }
}

/// Oldest first by `created_at`, ties by `id`.
pub const CREATED_ASC: &[OrderBy] = &[OrderBy::asc("created_at"), OrderBy::asc("id")];
/// Newest first by `created_at`, ties by `id`.
pub const CREATED_DESC: &[OrderBy] = &[OrderBy::desc("created_at"), OrderBy::desc("id")];

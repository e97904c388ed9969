//! Assertions and runners shared by every case (the values they work on
//! come from [`super::builders`] and [`crate::fixtures`]): error kinds,
//! stored-versus-written comparisons at the backend's precision, lookups,
//! row counts, keyset page walks, rows around a boundary, and concurrent
//! races.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use kavach_store_core::prelude::*;

use crate::{Ctx, Precision};

// ---------------------------------------------------------------- error kinds

/// Which kind of error an operation must fail with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`StoreError::NotFound`]
    NotFound,
    /// [`StoreError::Conflict`]
    Conflict,
    /// [`StoreError::Reference`]
    Reference,
    /// [`StoreError::InvalidInput`]
    InvalidInput,
}

/// The kind of an error, `None` for the other kinds.
pub fn kind_of(err: &StoreError) -> Option<Kind> {
    match err {
        StoreError::NotFound { .. } => Some(Kind::NotFound),
        StoreError::Conflict { .. } => Some(Kind::Conflict),
        StoreError::Reference { .. } => Some(Kind::Reference),
        StoreError::InvalidInput { .. } => Some(Kind::InvalidInput),
        _ => None,
    }
}

/// Asserts that `result` failed with `kind` (which is never retryable) and
/// returns the error.
pub fn expect_err<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    kind: Kind,
    what: &str,
) -> StoreError {
    let err = match result {
        Ok(value) => panic!("{what}: expected {kind:?}, got Ok({value:?})"),
        Err(err) => err,
    };
    assert_eq!(
        kind_of(&err),
        Some(kind),
        "{what}: expected {kind:?}, got {err:?}"
    );
    assert!(
        !err.is_retryable(),
        "{what}: a {kind:?} error must not be retryable: {err:?}"
    );
    assert_eq!(
        err.is_not_found(),
        kind == Kind::NotFound,
        "{what}: is_not_found() of {err:?}"
    );
    assert_eq!(
        err.is_conflict(),
        kind == Kind::Conflict,
        "{what}: is_conflict() of {err:?}"
    );
    assert_eq!(
        err.is_reference(),
        kind == Kind::Reference,
        "{what}: is_reference() of {err:?}"
    );
    assert_eq!(
        err.is_invalid_input(),
        kind == Kind::InvalidInput,
        "{what}: is_invalid_input() of {err:?}"
    );
    assert!(!err.to_string().is_empty(), "{what}: empty error message");
    err
}

/// The result is an error of `kind` (the kind only; [`expect_err`] checks
/// the whole error contract).
#[track_caller]
fn assert_kind<T: std::fmt::Debug>(result: Result<T>, kind: Kind) {
    match result {
        Err(e) if kind_of(&e) == Some(kind) => {}
        other => panic!("expected {kind:?}, got {other:?}"),
    }
}

/// The result is `Err(NotFound)`.
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: Result<T>) {
    assert_kind(result, Kind::NotFound);
}

/// The result is `Err(Conflict)`.
#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T>) {
    assert_kind(result, Kind::Conflict);
}

/// The result is `Err(Reference)`.
#[track_caller]
pub fn assert_reference<T: std::fmt::Debug>(result: Result<T>) {
    assert_kind(result, Kind::Reference);
}

// ---------------------------------------------------------------- stored values

/// Compares a stored value with what was written, at the backend's declared
/// precision for timestamps (never skipping the comparison).
pub fn assert_value_eq(
    ctx: &Ctx,
    table: &'static TableDef,
    column: &str,
    got: &Value,
    want: &Value,
) {
    match (got, want) {
        (Value::Timestamp(g), Value::Timestamp(w)) => {
            let (g, w) = match ctx.precision(table, column) {
                Precision::Millis => (g.timestamp_millis(), w.timestamp_millis()),
                Precision::Seconds => (g.timestamp(), w.timestamp()),
            };
            assert_eq!(g, w, "{}.{column}: timestamp differs", table.name);
        }
        _ => assert_eq!(got, want, "{}.{column}: value differs", table.name),
    }
}

/// A stored record equals what was written, every column, timestamps at the
/// backend's precision.
pub fn assert_same<R: Record>(ctx: &Ctx, got: &R, want: &R) {
    let def = R::table_def();
    let (got, want) = (got.to_row(), want.to_row());
    for (i, col) in def.columns.iter().enumerate() {
        assert_value_eq(ctx, def, col.name, &got[i], &want[i]);
    }
}

/// A timestamp of `R`'s `column` equals `want` at the backend's precision.
pub fn assert_instant<R: Record>(ctx: &Ctx, column: &str, got: DateTime<Utc>, want: DateTime<Utc>) {
    assert_value_eq(
        ctx,
        R::table_def(),
        column,
        &Value::Timestamp(got),
        &Value::Timestamp(want),
    );
}

/// The call succeeded and returned a record equal to `want` (see
/// [`assert_same`]).
#[track_caller]
pub fn assert_returns<R: Record>(ctx: &Ctx, result: Result<R>, want: &R) {
    assert_same(ctx, &result.expect("the call failed"), want);
}

/// The lookup found a record equal to `want` (see [`assert_same`]).
#[track_caller]
pub fn assert_found<R: Record>(ctx: &Ctx, lookup: Result<Option<R>>, want: &R) {
    assert_same(ctx, &existing(lookup), want);
}

// ---------------------------------------------------------------- lookups

/// The value of a call that must succeed; a failure fails the case at the
/// caller's line.
#[track_caller]
pub fn ok<T>(result: Result<T>) -> T {
    result.expect("the call failed")
}

/// What a lookup found; a failed lookup or one that found nothing fails the
/// case.
#[track_caller]
pub fn existing<T>(lookup: Result<Option<T>>) -> T {
    lookup
        .expect("the lookup failed")
        .expect("the lookup found nothing")
}

/// True when a lookup found something; a failed lookup fails the case.
#[track_caller]
pub fn present<T>(lookup: Result<Option<T>>) -> bool {
    lookup.expect("the lookup failed").is_some()
}

/// True when a lookup found nothing; a failed lookup fails the case.
#[track_caller]
pub fn absent<T>(lookup: Result<Option<T>>) -> bool {
    lookup.expect("the lookup failed").is_none()
}

/// The keys of `records`, in order.
pub fn keys<R: Record>(records: &[R]) -> Vec<String> {
    records.iter().map(Record::key).collect()
}

/// The keys of `records`, as given (for `assert_eq!` against [`keys`]).
pub fn keys_of<R: Record>(records: &[&R]) -> Vec<String> {
    records.iter().map(|r| r.key()).collect()
}

// ---------------------------------------------------------------- row counts

/// Number of rows of `table` matching `filter`.
pub async fn count(store: &dyn KavachStore, table: &'static TableDef, filter: Cond) -> u64 {
    store
        .count_rows(table, &filter)
        .await
        .unwrap_or_else(|e| panic!("count {}: {e}", table.name))
}

/// Number of rows in `table`.
pub async fn count_all(store: &dyn KavachStore, table: &'static TableDef) -> u64 {
    count(store, table, Cond::All).await
}

/// The condition selecting `row` of `table` by its primary key.
pub fn by_key(table: &'static TableDef, row: &Row) -> Cond {
    Cond::eq(table.primary_key, row[table.primary_key_index()].clone())
}

/// Rows `report` says the purge of `table` deleted (0 when not listed).
pub fn purged_from(report: &PurgeReport, table: &str) -> u64 {
    report
        .purged
        .iter()
        .filter(|(t, _)| *t == table)
        .map(|(_, n)| n)
        .sum()
}

/// `report` lists every table of `want` with exactly its count (a count of
/// 0 listed too), and its total is their sum.
pub fn assert_deletion_report(report: &DeletionReport, want: &[(&str, u64)]) {
    for (table, n) in want {
        assert_eq!(report.count(table), *n, "{table} in {report:?}");
        assert!(
            report.deleted.iter().any(|(t, _)| t == table),
            "{table} missing from {report:?}"
        );
    }
    let total: u64 = want.iter().map(|(_, n)| n).sum();
    assert_eq!(report.total(), total, "total of {report:?}");
}

// ---------------------------------------------------------------- pages

/// A page reduced to the keys of its records.
pub fn page_keys<R: Record>(page: Page<R>) -> Page<String> {
    Page {
        items: keys(&page.items),
        next: page.next,
    }
}

/// Follows `next` cursors from the first page (of `limit` rows, the default
/// size when `None`) to the last and returns every key in order, checking
/// each page: pages with a `next` cursor are full, the last page is not empty
/// (unless it is the only one), and no key appears twice.
pub async fn walk_pages<F, Fut>(what: &str, limit: Option<u32>, mut fetch: F) -> Vec<String>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<String>>>,
{
    let size = limit.unwrap_or(DEFAULT_PAGE_SIZE) as usize;
    let mut out: Vec<String> = Vec::new();
    let mut after = None;
    let mut pages = 0usize;
    loop {
        let page = fetch(PageRequest {
            limit,
            after: after.take(),
        })
        .await
        .unwrap_or_else(|e| panic!("{what} (limit {limit:?}): page {} failed: {e}", pages + 1));
        pages += 1;
        assert!(
            pages <= 10_000,
            "{what} (limit {limit:?}): cursors never end"
        );
        assert!(
            page.items.len() <= size,
            "{what} (limit {limit:?}): page {pages} has {} items",
            page.items.len()
        );
        match page.next {
            Some(cursor) => {
                assert_eq!(
                    page.items.len(),
                    size,
                    "{what} (limit {limit:?}): page {pages} has a next cursor but is not full"
                );
                out.extend(page.items);
                after = Some(cursor);
            }
            None => {
                assert!(
                    pages == 1 || !page.items.is_empty(),
                    "{what} (limit {limit:?}): empty last page: the previous page should have had next == None"
                );
                out.extend(page.items);
                break;
            }
        }
    }
    let distinct: HashSet<&String> = out.iter().collect();
    assert_eq!(
        distinct.len(),
        out.len(),
        "{what} (limit {limit:?}): a row appeared on two pages: {out:?}"
    );
    out
}

// ---------------------------------------------------------------- boundaries

/// Offsets in whole seconds of the rows seeded around a boundary: well
/// before, just before, exactly at, just after and well after it.
pub const AROUND: [i64; 5] = [-3_600, -5, 0, 5, 3_600];

/// One row per offset of [`AROUND`], created in that order by
/// `create(offset)` (which must succeed), each returned with its offset.
pub async fn around<T, Fut>(what: &str, mut create: impl FnMut(i64) -> Fut) -> Vec<(T, i64)>
where
    Fut: Future<Output = Result<T>>,
{
    let mut rows = Vec::with_capacity(AROUND.len());
    for offset in AROUND {
        let row = create(offset)
            .await
            .unwrap_or_else(|e| panic!("{what} at the boundary {offset:+} s: {e}"));
        rows.push((row, offset));
    }
    rows
}

// ---------------------------------------------------------------- races

/// Runs `n` calls of `op` at once (a barrier releases every task together,
/// on a multi-threaded runtime) and returns their results in task order.
pub async fn race<T, F, Fut>(ctx: &Ctx, n: usize, op: F) -> Vec<T>
where
    F: Fn(Arc<dyn KavachStore>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let call = op(ctx.store.clone(), i);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                call.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("racing task panicked"));
    }
    out
}

/// [`race`] of `n` calls of `op` on the same `key` (each task gets its own
/// copy of it).
pub async fn race_on<T, F, Fut>(ctx: &Ctx, n: usize, key: &str, op: F) -> Vec<T>
where
    F: Fn(Arc<dyn KavachStore>, String) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    race(ctx, n, |store, _| op(store, key.to_string())).await
}

/// Every result `Ok`, or a panic naming the operation and the error.
pub fn all_ok<T>(results: Vec<Result<T, StoreError>>, what: &str) -> Vec<T> {
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("{what}: concurrent call {i} failed: {e:?}")))
        .collect()
}

/// Exactly one `Some` among the results of concurrent consumers; returns it.
pub fn exactly_one<T>(results: Vec<Result<Option<T>, StoreError>>, what: &str) -> T {
    let n = results.len();
    let mut winners: Vec<T> = all_ok(results, what).into_iter().flatten().collect();
    assert_eq!(
        winners.len(),
        1,
        "{what}: {} of {n} concurrent consumers won, expected exactly one",
        winners.len()
    );
    winners.pop().expect("one winner")
}

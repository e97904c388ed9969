//! Keyset pagination: pages ordered by (time, id), newest first, with an
//! opaque cursor.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::query::{Cond, OrderBy, Select};
use crate::record::Record;
use crate::store::RowStore;

/// Page size used when a [`PageRequest`] has none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page size accepted.
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// An opaque position in a keyset-paginated list. Pass
/// [`Page::next`] back as [`PageRequest::after`] to get the following page.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    fn encode(time: DateTime<Utc>, id: &str) -> Cursor {
        let raw = format!("{}:{id}", time.timestamp_millis());
        Cursor(raw.bytes().map(|b| format!("{b:02x}")).collect())
    }

    fn decode(&self) -> Result<(DateTime<Utc>, String)> {
        let bad = || StoreError::invalid_input("cursor", "not a cursor returned by this store");
        let bytes = (0..self.0.len())
            .step_by(2)
            .map(|i| {
                self.0
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        let raw = String::from_utf8(bytes).map_err(|_| bad())?;
        let (millis, id) = raw.split_once(':').ok_or_else(bad)?;
        let millis: i64 = millis.parse().map_err(|_| bad())?;
        let time = Utc.timestamp_millis_opt(millis).single().ok_or_else(bad)?;
        Ok((time, id.to_string()))
    }

    /// The cursor as a string, to hand to API clients.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Cursor {
    fn from(s: String) -> Self {
        Cursor(s)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({})", self.0)
    }
}

/// Which page to fetch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageRequest {
    /// Page size; `None` means [`DEFAULT_PAGE_SIZE`]. Must be 1..=[`MAX_PAGE_SIZE`].
    pub limit: Option<u32>,
    /// Start after this cursor; `None` for the first page.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> PageRequest {
        PageRequest {
            limit: Some(limit),
            after: None,
        }
    }

    /// The page after `cursor`.
    pub fn after(limit: u32, cursor: Cursor) -> PageRequest {
        PageRequest {
            limit: Some(limit),
            after: Some(cursor),
        }
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items, in order.
    pub items: Vec<T>,
    /// Cursor of the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Fetches one page of `R` ordered by (`time_column`, primary key), newest
/// first, continuing after `request.after`.
pub(crate) async fn keyset_page<R: Record, S: RowStore + ?Sized>(
    store: &S,
    filter: Cond,
    time_column: &'static str,
    order: &'static [OrderBy],
    request: &PageRequest,
) -> Result<Page<R>> {
    let def = R::table_def();
    let limit = request.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(StoreError::invalid_input(
            "limit",
            format!("page size must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let pk = def.primary_key;
    let filter = match &request.after {
        None => filter,
        Some(cursor) => {
            let (time, id) = cursor.decode()?;
            filter.and(Cond::Or(vec![
                Cond::lt(time_column, time),
                Cond::eq(time_column, time).and(Cond::lt(pk, id)),
            ]))
        }
    };
    let query = Select::new(def, filter)
        .order(order)
        .limit(u64::from(limit) + 1);
    let mut rows = store.select_rows(&query).await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        let last = rows.last().expect("limit >= 1");
        let time = last[def.expect_column(time_column)].as_timestamp();
        let id = last[def.primary_key_index()].as_str();
        match (time, id) {
            (Some(time), Some(id)) => Some(Cursor::encode(time, id)),
            _ => None,
        }
    } else {
        None
    };
    let items = rows.into_iter().map(R::from_row).collect::<Result<_>>()?;
    Ok(Page { items, next })
}

/// Converts a `limit`/`offset` pair of KavachOS's API into a [`Select`] window.
pub(crate) fn offset_window(query: Select, limit: Option<u64>, offset: Option<u64>) -> Select {
    let mut query = query;
    query.limit = limit;
    query.offset = offset.unwrap_or(0);
    query
}

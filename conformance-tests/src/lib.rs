//! # conformance-tests
//!
//! One suite of behaviour every kavach-store backend must pass. Each case is a
//! plain `pub async fn(&Ctx)`; [`conformance_tests!`] expands the whole list
//! into `#[tokio::test]`s inside a module named after the backend, so a
//! failure reads `sqlite::agent_round_trip` and
//! `cargo test -p conformance-tests memory` runs one backend's cases.
//!
//! ## Testing your own backend
//!
//! ```text
//! struct MyFactory;
//! #[async_trait::async_trait]
//! impl conformance_tests::Factory for MyFactory {
//!     fn name(&self) -> &'static str { "mine" }
//!     async fn create(&self) -> Result<Arc<dyn KavachStore>, String> { /* fresh, migrated, isolated */ }
//! }
//! async fn factory() -> Result<Box<dyn conformance_tests::Factory>, String> { Ok(Box::new(MyFactory)) }
//! conformance_tests::conformance_tests!(mine, factory);
//! ```
//!
//! A factory that cannot reach its server returns `Err(reason)`: the tests
//! then print a loud `SKIPPED` line and pass, unless `CI` or
//! `KAVACH_REQUIRE_ALL_BACKENDS` is set, in which case they fail.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use kavach_store_core::{ColumnDef, KavachStore, TableDef};

pub mod cases;
pub mod fixtures;

/// How precisely a backend stores a timestamp column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// Milliseconds (the contract's precision).
    Millis,
    /// Whole seconds (KavachOS's SQLite encoding): round trips compare the
    /// values truncated to seconds, never skip the comparison.
    Seconds,
}

/// Creates isolated stores of one backend for the suite.
#[async_trait::async_trait]
pub trait Factory: Send + Sync {
    /// Backend name, for messages.
    fn name(&self) -> &'static str;

    /// A fresh, empty, migrated store of its own (own database, schema or
    /// file), so cases run in parallel and leave nothing behind.
    async fn create(&self) -> Result<Arc<dyn KavachStore>, String>;

    /// Called after a case passed, to drop what [`Factory::create`] made.
    async fn dispose(&self, _store: Arc<dyn KavachStore>) {}

    /// Precision of a timestamp column on this backend.
    fn timestamp_precision(&self, _table: &TableDef, _column: &ColumnDef) -> Precision {
        Precision::Millis
    }
}

/// What every case gets: a fresh store and the backend's declared precisions.
pub struct Ctx {
    /// The store under test.
    pub store: Arc<dyn KavachStore>,
    factory: Arc<dyn Factory>,
}

impl Ctx {
    /// The store as a trait object.
    pub fn store(&self) -> &dyn KavachStore {
        self.store.as_ref()
    }

    /// Precision of `table.column` on this backend.
    pub fn precision(&self, table: &TableDef, column: &str) -> Precision {
        let column = table
            .column(column)
            .unwrap_or_else(|| panic!("{} has no column {column}", table.name));
        self.factory.timestamp_precision(table, column)
    }

    /// The factory that made this store (its declared precisions).
    pub fn factory(&self) -> &dyn Factory {
        self.factory.as_ref()
    }
}

/// True when unreachable backends must fail instead of being skipped.
pub fn all_backends_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
        || std::env::var_os("KAVACH_REQUIRE_ALL_BACKENDS")
            .is_some_and(|v| !v.is_empty() && v != "0")
}

/// A boxed case future.
pub type CaseFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Runs one case: builds the factory, skips loudly (or fails under CI) when
/// the backend is unreachable, creates a fresh store, runs the case, disposes.
pub async fn run_case<F, Fut>(
    backend: &str,
    case: &str,
    factory: F,
    body: for<'a> fn(&'a Ctx) -> CaseFuture<'a>,
) where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Box<dyn Factory>, String>>,
{
    let factory: Arc<dyn Factory> = match factory().await {
        Ok(f) => Arc::from(f),
        Err(reason) => {
            if all_backends_required() {
                panic!(
                    "{backend} backend unreachable and CI/KAVACH_REQUIRE_ALL_BACKENDS is set: {reason}"
                );
            }
            eprintln!(
                "\n*** SKIPPED {backend}::{case}: {backend} backend unreachable: {reason} ***\n"
            );
            return;
        }
    };
    let store = match factory.create().await {
        Ok(store) => store,
        Err(reason) => {
            if all_backends_required() {
                panic!("{backend}: could not create a store: {reason}");
            }
            eprintln!(
                "\n*** SKIPPED {backend}::{case}: could not create a {backend} store: {reason} ***\n"
            );
            return;
        }
    };
    let ctx = Ctx {
        store: store.clone(),
        factory: factory.clone(),
    };
    body(&ctx).await;
    drop(ctx);
    factory.dispose(store).await;
}

/// Expands every case of the suite into `#[tokio::test]`s in a module named
/// `$backend`. `$factory` is a path to
/// `async fn() -> Result<Box<dyn Factory>, String>`.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ident, $factory:path) => {
        mod $backend {
            // The factory is usually a function next to the macro call.
            #[allow(unused_imports)]
            use super::*;
            $crate::for_each_case!($crate::__conformance_instantiate, $backend, $factory);
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_instantiate {
    ($backend:ident, $factory:path; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                $crate::run_case(
                    stringify!($backend),
                    stringify!($case),
                    $factory,
                    |ctx| Box::pin($crate::cases::$module::$case(ctx)),
                )
                .await;
            }
        )*
    };
}

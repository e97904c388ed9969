//! The cases, one module per tier. [`for_each_case!`](crate::for_each_case)
//! lists them all; adding a case means writing its `pub async fn` and adding
//! its name to that list.

pub mod tables;

/// Calls `$callback!($backend, $factory; module::case, …)` with every case of
/// the suite.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_case {
    ($callback:path, $backend:ident, $factory:path) => {
        $callback!($backend, $factory;
            tables::every_table_round_trips,
        );
    };
}

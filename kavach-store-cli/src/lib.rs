//! The library behind the `kavach-store` binary: copying between stores and
//! checking a schema against the spec. Exposed so other tools (and the
//! tests) can use them without the command line.
#![warn(missing_docs)]

pub mod copy;
pub mod schema_check;

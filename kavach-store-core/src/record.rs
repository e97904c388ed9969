//! The [`Record`] trait and the macros that declare model types.
//!
//! A table is declared once, with [`record!`](crate::record!): the struct, its
//! patch type, its `Debug` (which redacts secrets), its [`TableDef`] and the
//! row conversions all come from that one declaration. Adding a table to the
//! core means adding one `record!` block to its domain module and naming it in
//! [`crate::all_tables`].

use crate::error::Result;
use crate::schema::TableDef;
use crate::value::{Row, Value};

/// A model type stored as one row of one `kavach_*` table.
pub trait Record: Clone + Send + Sync + Sized + 'static {
    /// The table name, e.g. `kavach_agents`.
    const TABLE: &'static str;
    /// The partial-update type (`AgentPatch` for `Agent`).
    type Patch: Patch;
    /// The table definition (columns, keys, references, indexes).
    fn table_def() -> &'static TableDef;
    /// The row in column order.
    fn to_row(&self) -> Row;
    /// Builds the record from a row in column order.
    fn from_row(row: Row) -> Result<Self>;
    /// The primary-key value.
    fn key(&self) -> String;
}

/// A partial update: each `Some` field is written, `None` fields are left as
/// they are; for a nullable column, `Some(None)` writes `NULL`.
pub trait Patch: Default + Clone + Send + Sync + 'static {
    /// The `(column, value)` pairs to write, in column order.
    fn assignments(&self) -> Vec<(&'static str, Value)>;
    /// True when no field is set.
    fn is_empty(&self) -> bool {
        self.assignments().is_empty()
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __debug_field {
    (secret, $value:expr) => {{
        let _ = $value;
        &"<redacted>"
    }};
    (, $value:expr) => {
        $value
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __column_kind {
    ($ty:ty ;) => {
        <$ty as $crate::ColumnValue>::KIND
    };
    ($ty:ty ; $kind:ident) => {
        $crate::ColumnKind::$kind
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __column_default {
    () => {
        None
    };
    ($default:expr) => {
        Some($crate::schema::DefaultValue::from($default))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __is_secret {
    () => {
        false
    };
    (secret) => {
        true
    };
}

/// Declares a model type for one table.
///
/// ```text
/// record! {
///     /// An agent.
///     pub struct Agent => "kavach_agents", patch AgentPatch {
///         pub id: String,
///         pub token_hash: String [secret],
///         pub status: AgentStatus = "active",
///         pub enabled: bool as IntBool = false,
///     }
///     primary_key: id;
///     unique: ["kavach_agents_token_hash_key": ["token_hash"]];
///     references: ["owner_id" -> "kavach_users"."id" NoAction];
///     indexes: ["kavach_agents_owner_status": ["owner_id", "status"]];
/// }
/// ```
#[macro_export]
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident => $table:literal, patch $patch:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty $([$flag:ident])? $(as $kind:ident)? $(= $default:expr)?
            ),* $(,)?
        }
        primary_key: $pk:ident;
        $(unique: [$($uname:literal: [$($ucol:literal),*]),* $(,)?];)?
        $(references: [$($fkcol:literal -> $ptable:literal . $pcol:literal $ondel:ident),* $(,)?];)?
        $(indexes: [$($iname:literal: [$($icol:literal),*]),* $(,)?];)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Default, ::serde::Serialize, ::serde::Deserialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $ty,
            )*
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(
                        $crate::schema::strip_raw(stringify!($field)),
                        $crate::__debug_field!($($flag)?, &self.$field),
                    ))*
                    .finish()
            }
        }

        #[doc = concat!("Partial update of [`", stringify!($name), "`]: `None` leaves a column as it is; ",
            "for a nullable column `Some(None)` writes `NULL`. Setting the primary key is rejected.")]
        #[derive(Clone, PartialEq, Default)]
        pub struct $patch {
            $(
                #[doc = concat!("New value of `", stringify!($field), "`.")]
                pub $field: Option<$ty>,
            )*
        }

        impl ::std::fmt::Debug for $patch {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let mut d = f.debug_struct(stringify!($patch));
                $(
                    if let Some(value) = &self.$field {
                        d.field(
                            $crate::schema::strip_raw(stringify!($field)),
                            $crate::__debug_field!($($flag)?, value),
                        );
                    }
                )*
                d.finish_non_exhaustive()
            }
        }

        impl $crate::Patch for $patch {
            fn assignments(&self) -> Vec<(&'static str, $crate::Value)> {
                let mut out = Vec::new();
                $(
                    if let Some(value) = &self.$field {
                        out.push((
                            $crate::schema::strip_raw(stringify!($field)),
                            $crate::ColumnValue::to_value(value),
                        ));
                    }
                )*
                out
            }
        }

        impl $crate::Record for $name {
            const TABLE: &'static str = $table;
            type Patch = $patch;

            fn table_def() -> &'static $crate::TableDef {
                static DEF: ::std::sync::LazyLock<$crate::TableDef> =
                    ::std::sync::LazyLock::new(|| $crate::TableDef {
                        name: $table,
                        columns: vec![$(
                            $crate::schema::ColumnDef {
                                name: $crate::schema::strip_raw(stringify!($field)),
                                kind: $crate::__column_kind!($ty ; $($kind)?),
                                nullable: <$ty as $crate::ColumnValue>::NULLABLE,
                                default: $crate::__column_default!($($default)?),
                                secret: $crate::__is_secret!($($flag)?),
                            }
                        ),*],
                        primary_key: $crate::schema::strip_raw(stringify!($pk)),
                        uniques: vec![$($(
                            $crate::schema::UniqueDef { name: $uname, columns: &[$($ucol),*] }
                        ),*)?],
                        foreign_keys: vec![$($(
                            $crate::schema::ForeignKey {
                                column: $fkcol,
                                parent_table: $ptable,
                                parent_column: $pcol,
                                on_delete: $crate::schema::OnDelete::$ondel,
                            }
                        ),*)?],
                        indexes: vec![$($(
                            $crate::schema::IndexDef { name: $iname, columns: &[$($icol),*] }
                        ),*)?],
                    });
                &DEF
            }

            fn to_row(&self) -> $crate::Row {
                vec![$($crate::ColumnValue::to_value(&self.$field)),*]
            }

            fn from_row(row: $crate::Row) -> $crate::Result<Self> {
                let expected = <Self as $crate::Record>::table_def().columns.len();
                if row.len() != expected {
                    return Err($crate::StoreError::Decode {
                        table: $table,
                        column: "*".to_string(),
                        reason: format!("expected {expected} columns, found {}", row.len()),
                    });
                }
                let mut values = row.into_iter();
                Ok(Self {
                    $(
                        $field: $crate::ColumnValue::from_value(
                            values.next().unwrap_or($crate::Value::Null),
                            $table,
                            $crate::schema::strip_raw(stringify!($field)),
                        )?,
                    )*
                })
            }

            fn key(&self) -> String {
                self.$pk.clone()
            }
        }
    };
}

/// Declares a string-valued enum for a status-like column.
///
/// Unknown strings (written by an older or newer KavachOS) read as `Other(s)`
/// and are written back unchanged: reading a row never fails on them.
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)?
        }
        default $default:ident;
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version does not know, kept as written.
            Other(String),
        }

        impl $name {
            /// The string stored in the database.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(s) => s,
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($text => $name::$variant,)*
                    _ => $name::Other(s),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                String::deserialize(d).map($name::from)
            }
        }

        impl From<$name> for $crate::Value {
            fn from(v: $name) -> Self {
                $crate::Value::Text(v.as_str().to_string())
            }
        }

        impl $crate::ColumnValue for $name {
            const KIND: $crate::ColumnKind = $crate::ColumnKind::Text;
            fn to_value(&self) -> $crate::Value {
                $crate::Value::Text(self.as_str().to_string())
            }
            fn from_value(
                value: $crate::Value,
                table: &'static str,
                column: &'static str,
            ) -> $crate::Result<Self> {
                <String as $crate::ColumnValue>::from_value(value, table, column).map($name::from)
            }
        }
    };
}

/// Builds `R` from a row, for backends and generic code.
pub fn decode_rows<R: Record>(rows: Vec<Row>) -> Result<Vec<R>> {
    rows.into_iter().map(R::from_row).collect()
}

//! sqlx / PostgreSQL errors → [`StoreError`], by SQLSTATE code only.
//!
//! Message text is never inspected: it is localised (`lc_messages`) and
//! changes between server versions. The driver error is always kept as the
//! `source`.

use kavach_store_core::StoreError;
use sqlx::postgres::PgDatabaseError;

/// Maps a driver error raised while operating on `table`.
pub(crate) fn map(table: &'static str, error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let pg = db.try_downcast_ref::<PgDatabaseError>();
            let constraint = pg.and_then(|e| e.constraint()).map(str::to_string);
            let column = pg.and_then(|e| e.column()).map(str::to_string);
            let pg_table = pg.and_then(|e| e.table()).map(str::to_string);
            map_sqlstate(table, &code, constraint, column, pg_table, db.into())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => StoreError::Unavailable {
            message: unavailable_message(&error),
            source: Some(Box::new(error)),
        },
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Decode {
            table,
            column: "*".to_string(),
            reason: error.to_string(),
        },
        sqlx::Error::Encode(_) => StoreError::InvalidInput {
            field: table.to_string(),
            reason: error.to_string(),
        },
        other => StoreError::backend(format!("{table}: driver error"), other),
    }
}

fn unavailable_message(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::PoolTimedOut => {
            "timed out waiting for a PostgreSQL connection from the pool".into()
        }
        sqlx::Error::PoolClosed => "the PostgreSQL pool is closed".into(),
        sqlx::Error::Io(_) => "PostgreSQL connection failed (I/O)".into(),
        _ => "PostgreSQL connection failed".into(),
    }
}

/// The mapping table itself, separate so it is unit-testable without a server.
fn map_sqlstate(
    table: &'static str,
    code: &str,
    constraint: Option<String>,
    column: Option<String>,
    pg_table: Option<String>,
    source: kavach_store_core::BoxError,
) -> StoreError {
    let field = || match &column {
        Some(c) => format!("{}.{c}", pg_table.as_deref().unwrap_or(table)),
        None => table.to_string(),
    };
    match code {
        // unique_violation (also exclusion_violation: same meaning for callers)
        "23505" | "23P01" => StoreError::Conflict {
            table,
            constraint: constraint.unwrap_or_else(|| "unique".into()),
            source: Some(source),
        },
        // foreign_key_violation
        "23503" => StoreError::Reference {
            table,
            constraint: constraint.unwrap_or_else(|| "foreign key".into()),
            source: Some(source),
        },
        // serialization_failure, deadlock_detected
        "40001" | "40P01" => StoreError::Serialization {
            message: format!("{table}: transaction conflict ({code})"),
            source: Some(source),
        },
        // string_data_right_truncation, numeric_value_out_of_range, invalid text
        // (NUL byte / bad UTF-8), untranslatable character (\u0000 in JSONB),
        // datetime overflow, not_null_violation, check_violation, invalid JSON
        "22001" | "22003" | "22021" | "22P05" | "22008" | "22007" | "23502" | "23514" | "22P02"
        | "22032" => {
            let reason = match code {
                "22001" => "value too long for the column",
                "22003" => "number out of range for the column",
                "22021" | "22P05" => "text contains a character PostgreSQL cannot store (NUL byte)",
                "22008" | "22007" => "timestamp out of range",
                "23502" => "NULL in a NOT NULL column",
                "23514" => "check constraint violated",
                _ => "invalid value",
            };
            StoreError::InvalidInput {
                field: field(),
                reason: format!("{reason} (SQLSTATE {code})"),
            }
        }
        // connection_exception class, too_many_connections, admin/crash
        // shutdown, cannot_connect_now, lock_not_available, query_canceled
        // (statement_timeout)
        c if c.starts_with("08")
            || matches!(c, "53300" | "57P01" | "57P02" | "57P03" | "55P03" | "57014") =>
        {
            StoreError::Unavailable {
                message: format!("{table}: PostgreSQL unavailable ({code})"),
                source: Some(source),
            }
        }
        _ => StoreError::Backend {
            message: format!("{table}: PostgreSQL error {code}"),
            source: Some(source),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> kavach_store_core::BoxError {
        "driver".into()
    }

    #[test]
    fn sqlstates_map_to_kinds() {
        let e = map_sqlstate("t", "23505", Some("t_x_key".into()), None, None, src());
        assert!(matches!(&e, StoreError::Conflict { constraint, .. } if constraint == "t_x_key"));
        assert!(map_sqlstate("t", "23503", None, None, None, src()).is_reference());
        assert!(matches!(
            map_sqlstate("t", "40001", None, None, None, src()),
            StoreError::Serialization { .. }
        ));
        assert!(map_sqlstate("t", "40P01", None, None, None, src()).is_retryable());
        assert!(matches!(
            map_sqlstate("t", "08006", None, None, None, src()),
            StoreError::Unavailable { .. }
        ));
        let e = map_sqlstate("t", "22003", None, Some("n".into()), None, src());
        assert!(matches!(&e, StoreError::InvalidInput { field, .. } if field == "t.n"));
        assert!(map_sqlstate("t", "22001", None, None, None, src()).is_invalid_input());
        assert!(matches!(
            map_sqlstate("t", "42P01", None, None, None, src()),
            StoreError::Backend { .. }
        ));
    }

    #[test]
    fn pool_errors_are_unavailable() {
        assert!(matches!(
            map("t", sqlx::Error::PoolTimedOut),
            StoreError::Unavailable { .. }
        ));
        assert!(map("t", sqlx::Error::PoolClosed).is_retryable());
    }
}

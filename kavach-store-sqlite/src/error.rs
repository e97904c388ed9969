//! rusqlite errors → [`StoreError`], by SQLite (extended) result code, never
//! by message text. The driver error is kept as the `source`.

use kavach_store_core::StoreError;
use rusqlite::ffi;

/// Primary result code of a SQLite failure, if `e` is one.
pub(crate) fn primary_code(e: &rusqlite::Error) -> Option<i32> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.extended_code & 0xff),
        _ => None,
    }
}

/// True for `SQLITE_BUSY` and its extended codes (`BUSY_SNAPSHOT`, `BUSY_RECOVERY`, …).
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    primary_code(e) == Some(ffi::SQLITE_BUSY)
}

/// The detail SQLite appends to constraint failures (`kavach_agents.token_hash`),
/// only as information for the error message: the kind is decided by the code.
fn detail(msg: &Option<String>) -> Option<String> {
    msg.as_deref()
        .and_then(|m| m.rsplit_once(": ").map(|(_, d)| d.to_string()))
}

/// Maps a driver error of an operation on `table`.
pub(crate) fn map(table: &'static str, e: rusqlite::Error) -> StoreError {
    let rusqlite::Error::SqliteFailure(f, msg) = &e else {
        return match e {
            rusqlite::Error::ToSqlConversionFailure(_)
            | rusqlite::Error::InvalidParameterCount(..) => StoreError::InvalidInput {
                field: table.to_string(),
                reason: e.to_string(),
            },
            other => StoreError::backend(format!("{table}: {other}"), other),
        };
    };
    let ext = f.extended_code;
    let info = detail(msg);
    match ext {
        ffi::SQLITE_CONSTRAINT_UNIQUE
        | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        | ffi::SQLITE_CONSTRAINT_ROWID => StoreError::Conflict {
            table,
            constraint: info.unwrap_or_else(|| "unique".into()),
            source: Some(Box::new(e)),
        },
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::Reference {
            table,
            constraint: info.unwrap_or_else(|| "foreign key".into()),
            source: Some(Box::new(e)),
        },
        ffi::SQLITE_CONSTRAINT_NOTNULL
        | ffi::SQLITE_CONSTRAINT_CHECK
        | ffi::SQLITE_CONSTRAINT_DATATYPE => StoreError::InvalidInput {
            field: info.unwrap_or_else(|| table.to_string()),
            reason: e.to_string(),
        },
        _ => match ext & 0xff {
            // The lock could not be had within busy_timeout, or a snapshot
            // went stale: the whole transaction may be retried.
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => StoreError::Serialization {
                message: format!("{table}: {e}"),
                source: Some(Box::new(e)),
            },
            ffi::SQLITE_TOOBIG | ffi::SQLITE_MISMATCH => StoreError::InvalidInput {
                field: table.to_string(),
                reason: e.to_string(),
            },
            ffi::SQLITE_CANTOPEN
            | ffi::SQLITE_IOERR
            | ffi::SQLITE_NOTADB
            | ffi::SQLITE_PROTOCOL => StoreError::Unavailable {
                message: format!("{table}: {e}"),
                source: Some(Box::new(e)),
            },
            _ => StoreError::backend(format!("{table}: {e}"), e),
        },
    }
}

/// The error of a job whose connection thread is gone.
pub(crate) fn worker_gone() -> StoreError {
    StoreError::Unavailable {
        message: "the SQLite connection thread stopped".into(),
        source: None,
    }
}

/// The error of a write that waited longer than `busy_timeout` for another
/// transaction of this store to finish (what SQLite itself reports as
/// `SQLITE_BUSY` between connections).
pub(crate) fn busy_timeout_elapsed() -> StoreError {
    StoreError::Serialization {
        message: "a transaction of this store held the writer longer than busy_timeout".into(),
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(ext: i32, msg: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(ext), Some(msg.into()))
    }

    #[test]
    fn maps_by_extended_code() {
        assert!(map("t", failure(ffi::SQLITE_CONSTRAINT_UNIQUE, "x")).is_conflict());
        assert!(map("t", failure(ffi::SQLITE_CONSTRAINT_PRIMARYKEY, "x")).is_conflict());
        assert!(map("t", failure(ffi::SQLITE_CONSTRAINT_FOREIGNKEY, "x")).is_reference());
        assert!(
            map(
                "t",
                failure(
                    ffi::SQLITE_CONSTRAINT_NOTNULL,
                    "NOT NULL constraint failed: t.c"
                )
            )
            .is_invalid_input()
        );
        assert!(map("t", failure(ffi::SQLITE_BUSY, "x")).is_retryable());
        assert!(map("t", failure(ffi::SQLITE_BUSY_SNAPSHOT, "x")).is_retryable());
        assert!(map("t", failure(ffi::SQLITE_LOCKED, "x")).is_retryable());
        // A message that *says* unique but carries another code is not a conflict.
        assert!(
            !map(
                "t",
                failure(ffi::SQLITE_ERROR, "UNIQUE constraint failed: t.c")
            )
            .is_conflict()
        );
        let e = map(
            "kavach_agents",
            failure(
                ffi::SQLITE_CONSTRAINT_UNIQUE,
                "UNIQUE constraint failed: kavach_agents.token_hash",
            ),
        );
        assert!(
            matches!(&e, StoreError::Conflict { constraint, .. } if constraint == "kavach_agents.token_hash")
        );
        assert!(std::error::Error::source(&e).is_some());
    }
}

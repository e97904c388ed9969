//! Driver errors → [`StoreError`], by server error code (never by message text).

use kavach_store_core::StoreError;
use mysql_async::{DriverError, Error};

/// `ER_DUP_ENTRY` and relatives: a unique key or primary key was violated.
const DUPLICATE: &[u16] = &[1062, 1022, 1586];
/// A child row references a missing parent (1452, old 1216), or a parent row is
/// still referenced (1451, old 1217).
const FOREIGN_KEY: &[u16] = &[1451, 1452, 1216, 1217];
/// Deadlock (1213), lock wait timeout (1205), `NOWAIT` lock failure (3572).
const SERIALIZATION: &[u16] = &[1213, 1205, 3572];
/// Data too long (1406), out of range (1264), incorrect value for a column
/// (1366, 1292, 1265), invalid JSON (3140, MariaDB's CHECK on JSON 4025), NULL into
/// NOT NULL (1048), bad character string (1300).
const INVALID_INPUT: &[u16] = &[1406, 1264, 1366, 1292, 1265, 3140, 4025, 1048, 1300];
/// Too many connections, server shutting down, access denied, unknown database,
/// read-only server, server gone.
const UNAVAILABLE: &[u16] = &[1040, 1053, 1045, 1044, 1049, 1290, 1836, 1927, 2006, 2013];

/// Maps a driver error raised by a statement on `table`.
pub(crate) fn map(e: Error, table: &'static str) -> StoreError {
    match &e {
        Error::Server(s) if DUPLICATE.contains(&s.code) => {
            let constraint = quoted_after(&s.message, "key ")
                .map(|k| k.rsplit('.').next().unwrap_or(k).to_string())
                .unwrap_or_else(|| "unique".to_string());
            StoreError::Conflict {
                table,
                constraint,
                source: Some(Box::new(e)),
            }
        }
        Error::Server(s) if FOREIGN_KEY.contains(&s.code) => {
            let constraint = quoted_after(&s.message, "CONSTRAINT ")
                .map(str::to_string)
                .unwrap_or_else(|| "foreign key".to_string());
            StoreError::Reference {
                table,
                constraint,
                source: Some(Box::new(e)),
            }
        }
        Error::Server(s) if SERIALIZATION.contains(&s.code) => StoreError::Serialization {
            message: format!("{table}: MySQL error {}", s.code),
            source: Some(Box::new(e)),
        },
        Error::Server(s) if INVALID_INPUT.contains(&s.code) => {
            let field = match quoted_after(&s.message, "column ") {
                Some(column) => format!("{table}.{column}"),
                None => table.to_string(),
            };
            StoreError::InvalidInput {
                field,
                reason: format!("rejected by the server (MySQL error {})", s.code),
            }
        }
        Error::Server(s) if UNAVAILABLE.contains(&s.code) => StoreError::Unavailable {
            message: format!("MySQL error {}", s.code),
            source: Some(Box::new(e)),
        },
        Error::Io(_)
        | Error::Driver(
            DriverError::ConnectionClosed
            | DriverError::PoolDisconnected
            | DriverError::PacketOutOfOrder,
        ) => StoreError::Unavailable {
            message: "connection to the MySQL server failed".into(),
            source: Some(Box::new(e)),
        },
        Error::Server(s) => StoreError::Backend {
            message: format!("{table}: MySQL error {}", s.code),
            source: Some(Box::new(e)),
        },
        _ => StoreError::Backend {
            message: format!("{table}: MySQL driver error"),
            source: Some(Box::new(e)),
        },
    }
}

/// Maps an error of a statement not tied to one table (transaction control,
/// migrations, connecting).
pub(crate) fn map_general(e: Error) -> StoreError {
    map(e, "mysql")
}

/// The name inside the first quotes (`'…'` or `` `…` ``) after `marker`. Only
/// used to name the constraint or column in the error; the error *kind* comes
/// from the code.
fn quoted_after<'a>(message: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &message[message.find(marker)? + marker.len()..];
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '`')?;
    let rest = &rest[1..];
    Some(&rest[..rest.find(quote)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16, message: &str) -> Error {
        Error::Server(mysql_async::ServerError {
            code,
            message: message.into(),
            state: "23000".into(),
        })
    }

    #[test]
    fn kinds_follow_codes() {
        let e = map(
            server(
                1062,
                "Duplicate entry 'x' for key 'kavach_users.kavach_users_email_key'",
            ),
            "kavach_users",
        );
        assert!(
            matches!(&e, StoreError::Conflict { constraint, .. } if constraint == "kavach_users_email_key"),
            "{e:?}"
        );
        let e = map(
            server(1062, "Duplicate entry 'x' for key 'PRIMARY'"),
            "kavach_users",
        );
        assert!(matches!(&e, StoreError::Conflict { constraint, .. } if constraint == "PRIMARY"));
        let e = map(
            server(
                1452,
                "Cannot add or update a child row: a foreign key constraint fails (`db`.`t`, CONSTRAINT `t_fk` FOREIGN KEY",
            ),
            "t",
        );
        assert!(matches!(&e, StoreError::Reference { constraint, .. } if constraint == "t_fk"));
        assert!(map(server(1451, "whatever"), "t").is_reference());
        assert!(map(server(1213, "Deadlock"), "t").is_retryable());
        assert!(matches!(
            map(server(1205, "Lock wait"), "t"),
            StoreError::Serialization { .. }
        ));
        let e = map(
            server(1406, "Data too long for column 'name' at row 1"),
            "kavach_agents",
        );
        assert!(
            matches!(&e, StoreError::InvalidInput { field, .. } if field == "kavach_agents.name"),
            "{e:?}"
        );
        assert!(matches!(
            map(server(1040, "Too many connections"), "t"),
            StoreError::Unavailable { .. }
        ));
        assert!(matches!(
            map(server(1146, "no such table"), "t"),
            StoreError::Backend { .. }
        ));
        assert!(map(Error::Driver(DriverError::PoolDisconnected), "t").is_retryable());
    }
}

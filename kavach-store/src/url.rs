//! Parsing store URLs into a backend choice.

use crate::ConnectError;

/// The backend a URL names, with what the backend needs from it.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite://path`, `sqlite:///absolute/path`, `sqlite:path`.
    SqliteFile(String),
    /// `sqlite::memory:` or `sqlite://:memory:`.
    SqliteMemory,
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
    /// `mysql://…` or `mariadb://…` (given to the driver as `mysql://…`).
    Mysql(String),
    /// `memory://` (anything after the scheme is ignored).
    Memory,
}

impl StoreUrl {
    /// Parses a URL. Errors name what is wrong in one line.
    pub fn parse(url: &str) -> Result<StoreUrl, ConnectError> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(ConnectError::InvalidUrl {
                url: redact(url),
                reason:
                    "expected <scheme>:… with scheme sqlite, postgres, mysql, mariadb or memory"
                        .into(),
            });
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                match path {
                    ":memory:" => Ok(StoreUrl::SqliteMemory),
                    "" => Err(ConnectError::InvalidUrl {
                        url: redact(url),
                        reason: "missing database file path".into(),
                    }),
                    p => Ok(StoreUrl::SqliteFile(p.to_string())),
                }
            }
            "postgres" | "postgresql" => {
                require_host(url, rest).map(|_| StoreUrl::Postgres(url.to_string()))
            }
            "mysql" => require_host(url, rest).map(|_| StoreUrl::Mysql(url.to_string())),
            "mariadb" => require_host(url, rest).map(|_| StoreUrl::Mysql(format!("mysql:{rest}"))),
            "memory" => Ok(StoreUrl::Memory),
            other => Err(ConnectError::InvalidUrl {
                url: redact(url),
                reason: format!(
                    "unknown scheme `{other}` (use sqlite, postgres, mysql, mariadb or memory)"
                ),
            }),
        }
    }

    /// The cargo feature that compiles this URL's backend in.
    pub fn feature(&self) -> &'static str {
        match self {
            StoreUrl::SqliteFile(_) | StoreUrl::SqliteMemory => "sqlite",
            StoreUrl::Postgres(_) => "postgres",
            StoreUrl::Mysql(_) => "mysql",
            StoreUrl::Memory => "memory",
        }
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::SqliteFile(p) => write!(f, "SqliteFile({p:?})"),
            StoreUrl::SqliteMemory => write!(f, "SqliteMemory"),
            StoreUrl::Postgres(u) => write!(f, "Postgres({:?})", redact(u)),
            StoreUrl::Mysql(u) => write!(f, "Mysql({:?})", redact(u)),
            StoreUrl::Memory => write!(f, "Memory"),
        }
    }
}

fn require_host(url: &str, rest: &str) -> Result<(), ConnectError> {
    let authority = rest
        .strip_prefix("//")
        .ok_or_else(|| ConnectError::InvalidUrl {
            url: redact(url),
            reason: "expected <scheme>://[user[:password]@]host[:port]/database".into(),
        })?;
    let host = authority.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    if host.is_empty() {
        return Err(ConnectError::InvalidUrl {
            url: redact(url),
            reason: "missing host".into(),
        });
    }
    Ok(())
}

/// The URL with any password replaced by `***`, for messages and `Debug`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scheme() {
        assert_eq!(
            StoreUrl::parse("sqlite://kavach.db").unwrap(),
            StoreUrl::SqliteFile("kavach.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///tmp/k.db").unwrap(),
            StoreUrl::SqliteFile("/tmp/k.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:k.db").unwrap(),
            StoreUrl::SqliteFile("k.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite::memory:").unwrap(),
            StoreUrl::SqliteMemory
        );
        assert_eq!(
            StoreUrl::parse("sqlite://:memory:").unwrap(),
            StoreUrl::SqliteMemory
        );
        assert_eq!(
            StoreUrl::parse("postgres://postgres@127.0.0.1:5432/test").unwrap(),
            StoreUrl::Postgres("postgres://postgres@127.0.0.1:5432/test".into())
        );
        assert_eq!(
            StoreUrl::parse("mariadb://root@127.0.0.1:3306/test").unwrap(),
            StoreUrl::Mysql("mysql://root@127.0.0.1:3306/test".into())
        );
        assert_eq!(StoreUrl::parse("memory://").unwrap(), StoreUrl::Memory);
    }

    #[test]
    fn rejects_bad_urls_with_a_reason() {
        for bad in [
            "",
            "kavach.db",
            "oracle://x",
            "postgres:",
            "postgres:///test",
            "sqlite://",
        ] {
            let err = StoreUrl::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid store URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("mysql://root@h/db"), "mysql://root@h/db");
        let debug = format!("{:?}", StoreUrl::parse("mysql://u:hunter2@h/db").unwrap());
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}

//! Opening each compiled-in backend from a parsed URL and the options.

use std::sync::Arc;

use kavach_store_core::{KavachStore, StoreError};

use crate::{ConnectError, ConnectOptions, StoreUrl};

type Opened = Result<Arc<dyn KavachStore>, StoreError>;

/// Opens the backend a URL names, or says which feature is missing.
pub(crate) async fn open(url: &StoreUrl, options: &ConnectOptions) -> Result<Opened, ConnectError> {
    let _ = options; // unused when no backend feature is on
    match url {
        #[cfg(feature = "sqlite")]
        StoreUrl::SqliteFile(_) | StoreUrl::SqliteMemory => Ok(sqlite(url, options).await),
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(raw) => Ok(postgres(raw, options).await),
        #[cfg(feature = "mysql")]
        StoreUrl::Mysql(raw) => Ok(mysql(raw, options).await),
        #[cfg(feature = "memory")]
        StoreUrl::Memory => Ok(Ok(Arc::new(kavach_store_memory::MemoryStore::new()))),
        #[allow(unreachable_patterns)]
        _ => Err(ConnectError::FeatureDisabled {
            backend: url.feature(),
            feature: url.feature(),
        }),
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite(url: &StoreUrl, options: &ConnectOptions) -> Opened {
    use kavach_store_sqlite::{SqliteOptions, TimestampMode};
    let mut sqlite = match url {
        StoreUrl::SqliteFile(path) => SqliteOptions::file(path),
        _ => SqliteOptions::in_memory(),
    };
    sqlite = sqlite
        .timestamp_mode(match options.sqlite_timestamps {
            crate::SqliteTimestamps::KavachOs => TimestampMode::KavachOs,
            crate::SqliteTimestamps::Millis => TimestampMode::Millis,
        })
        .skip_migrations(options.skip_migrations);
    if let Some(n) = options.max_connections {
        sqlite = sqlite.readers(n as usize);
    }
    if let Some(t) = options.timeout {
        sqlite = sqlite.busy_timeout(t);
    }
    Ok(Arc::new(sqlite.open().await?))
}

#[cfg(feature = "postgres")]
async fn postgres(url: &str, options: &ConnectOptions) -> Opened {
    use kavach_store_postgres::{PgStore, PgStoreOptions};
    let mut pg = PgStoreOptions::default().run_migrations(!options.skip_migrations);
    if let Some(n) = options.max_connections {
        pg = pg.max_connections(n);
    }
    if let Some(t) = options.timeout {
        pg = pg.acquire_timeout(t);
    }
    Ok(Arc::new(PgStore::connect_with(url, pg).await?))
}

#[cfg(feature = "mysql")]
async fn mysql(url: &str, options: &ConnectOptions) -> Opened {
    use kavach_store_mysql::{MySqlOptions, MySqlStore};
    let mut my = MySqlOptions::default();
    if options.skip_migrations {
        my = my.skip_migrations();
    }
    if let Some(n) = options.max_connections {
        my = my.max_connections(n as usize);
    }
    if let Some(t) = options.timeout {
        my = my.migration_lock_timeout(t);
    }
    Ok(Arc::new(MySqlStore::connect_with(url, my).await?))
}

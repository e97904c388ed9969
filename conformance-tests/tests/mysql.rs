//! The conformance suite on MySQL / MariaDB: every case on a fresh database
//! (`kv_test_<uuid>`) created on the server of `KAVACH_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306/test`), migrated, and dropped after
//! the case passed. An unreachable server skips loudly (fails under CI).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use conformance_tests::Factory;
use kavach_store_core::KavachStore;
use kavach_store_mysql::mysql_async::prelude::Queryable;
use kavach_store_mysql::mysql_async::{Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts};
use kavach_store_mysql::{MySqlOptions, MySqlStore};

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// A database made for one case: its name, its store (to close the pool
/// before dropping it) and the handle given to the case (to find it again).
type CreatedDatabase = (String, MySqlStore, Arc<dyn KavachStore>);

struct MySqlFactory {
    url: String,
    /// Connections for CREATE / DROP DATABASE.
    admin: Pool,
    /// Databases created and not yet dropped.
    created: Mutex<Vec<CreatedDatabase>>,
}

#[async_trait::async_trait]
impl Factory for MySqlFactory {
    fn name(&self) -> &'static str {
        "mysql"
    }

    async fn create(&self) -> Result<Arc<dyn KavachStore>, String> {
        let db = format!("kv_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = self.admin.get_conn().await.map_err(|e| e.to_string())?;
        conn.query_drop(format!(
            "CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .await
        .map_err(|e| e.to_string())?;
        drop(conn);
        // A small pool per case: cases run in parallel on a shared server.
        let options = MySqlOptions::default().max_connections(8);
        let builder = MySqlStore::opts_builder(&self.url, &options)
            .map_err(|e| e.to_string())?
            .db_name(Some(db.clone()));
        let store = MySqlStore::from_pool(Pool::new(builder), options)
            .await
            .map_err(|e| e.to_string())?;
        let handle: Arc<dyn KavachStore> = Arc::new(store.clone());
        self.created
            .lock()
            .unwrap()
            .push((db, store, handle.clone()));
        Ok(handle)
    }

    async fn dispose(&self, store: Arc<dyn KavachStore>) {
        let found = {
            let mut created = self.created.lock().unwrap();
            created
                .iter()
                .position(|(_, _, handle)| Arc::ptr_eq(handle, &store))
                .map(|i| created.remove(i))
        };
        drop(store);
        if let Some((db, store, handle)) = found {
            drop(handle);
            let _ = store.close().await;
            if let Ok(mut conn) = self.admin.get_conn().await {
                let _ = conn
                    .query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
                    .await;
            }
        }
    }
}

async fn factory() -> Result<Box<dyn Factory>, String> {
    let url = std::env::var("KAVACH_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.to_string());
    let opts = Opts::from_url(&url).map_err(|e| format!("bad KAVACH_TEST_MYSQL_URL: {e}"))?;
    let admin = Pool::new(OptsBuilder::from_opts(opts).prefer_socket(false).pool_opts(
        PoolOpts::default().with_constraints(PoolConstraints::new(0, 2).expect("0 <= 2")),
    ));
    match tokio::time::timeout(Duration::from_secs(5), admin.get_conn()).await {
        Ok(Ok(conn)) => drop(conn),
        Ok(Err(e)) => return Err(format!("cannot connect to {}: {e}", redact(&url))),
        Err(_) => return Err(format!("cannot connect to {} within 5 s", redact(&url))),
    }
    Ok(Box::new(MySqlFactory {
        url,
        admin,
        created: Mutex::new(Vec::new()),
    }))
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

conformance_tests::conformance_tests!(mysql, crate::factory);

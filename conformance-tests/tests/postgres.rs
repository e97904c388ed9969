//! The conformance suite against a real PostgreSQL server.
//!
//! Server: `KAVACH_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Each case gets a fresh schema
//! (`kv_test_<uuid>`, selected through the connections' `search_path`) with
//! its own small pool, migrated from scratch; `dispose` drops the schema.
//! Unreachable server: the harness skips loudly, or fails under CI.

use std::sync::Arc;
use std::time::Duration;

use conformance_tests::Factory;
use kavach_store_core::KavachStore;
use kavach_store_postgres::{PgStore, PgStoreOptions};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn url() -> String {
    std::env::var("KAVACH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// One admin connection per case, for creating and dropping its schema.
struct PgFactory {
    url: String,
    admin: PgStore,
    schema: std::sync::Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl Factory for PgFactory {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn create(&self) -> Result<Arc<dyn KavachStore>, String> {
        let schema = format!("kv_test_{}", uuid::Uuid::now_v7().simple());
        self.admin
            .create_schema(&schema)
            .await
            .map_err(|e| e.to_string())?;
        *self.schema.lock().expect("schema lock") = Some(schema.clone());
        // Small pools: cases run in parallel against one server.
        let options = PgStoreOptions::default()
            .schema(&schema)
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30));
        let store = PgStore::connect_with(&self.url, options)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(store))
    }

    async fn dispose(&self, store: Arc<dyn KavachStore>) {
        drop(store);
        let schema = self.schema.lock().expect("schema lock").take();
        if let Some(schema) = schema {
            // The case's pool closes when its last handle drops; DROP SCHEMA
            // waits for nothing it holds (no open transactions remain).
            if let Err(e) = self.admin.drop_schema(&schema).await {
                eprintln!("postgres: could not drop test schema {schema}: {e}");
            }
        }
        self.admin.close().await;
    }
}

async fn factory() -> Result<Box<dyn Factory>, String> {
    let url = url();
    let options = PgStoreOptions::default()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .skip_migrations();
    let admin = PgStore::connect_with(&url, options)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", redact(&url)))?;
    Ok(Box::new(PgFactory {
        url,
        admin,
        schema: std::sync::Mutex::new(None),
    }))
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

conformance_tests::conformance_tests!(postgres, crate::factory);

//! Shared test support: a fresh schema per test on the server at
//! `KAVACH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! Unreachable server: the test prints a loud SKIPPED line and passes, unless
//! `CI` or `KAVACH_REQUIRE_ALL_BACKENDS` is set.
#![allow(dead_code)]

use std::time::Duration;

use kavach_store_postgres::{PgStore, PgStoreOptions};

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn url() -> String {
    std::env::var("KAVACH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// A schema of the test's own, dropped by [`TestDb::finish`].
pub struct TestDb {
    pub schema: String,
    pub admin: PgStore,
}

impl TestDb {
    /// A fresh empty schema, or `None` (after a loud message) when the server
    /// is unreachable and not required.
    pub async fn new(test: &str) -> Option<TestDb> {
        let options = PgStoreOptions::default()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .skip_migrations();
        let admin = match PgStore::connect_with(&url(), options).await {
            Ok(admin) => admin,
            Err(e) => {
                if conformance_tests::all_backends_required() {
                    panic!("postgres unreachable and CI/KAVACH_REQUIRE_ALL_BACKENDS is set: {e}");
                }
                eprintln!("\n*** SKIPPED {test}: postgres unreachable: {e} ***\n");
                return None;
            }
        };
        let schema = format!("kv_test_{}", uuid::Uuid::now_v7().simple());
        admin.create_schema(&schema).await.expect("create schema");
        Some(TestDb { schema, admin })
    }

    /// Options selecting this schema, small pool, no migrations.
    pub fn options(&self) -> PgStoreOptions {
        PgStoreOptions::default()
            .schema(&self.schema)
            .max_connections(4)
            .skip_migrations()
    }

    /// A store on this schema, migrated.
    pub async fn store(&self) -> PgStore {
        let store = self.store_unmigrated().await;
        store.migrate().await.expect("migrate");
        store
    }

    /// A store on this schema without running migrations.
    pub async fn store_unmigrated(&self) -> PgStore {
        PgStore::connect_with(&url(), self.options())
            .await
            .expect("connect")
    }

    /// Runs SQL (several statements allowed) in this schema.
    pub async fn exec(&self, sql: &str) {
        let store = self.store_unmigrated().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(store.pool())
            .await
            .expect("raw sql");
        store.close().await;
    }

    pub async fn finish(self) {
        self.admin
            .drop_schema(&self.schema)
            .await
            .expect("drop schema");
        self.admin.close().await;
    }
}

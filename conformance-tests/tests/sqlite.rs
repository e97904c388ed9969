//! The conformance suite on SQLite, in both timestamp modes, each case on a
//! fresh temporary database file (WAL, like production), deleted afterwards.

use std::sync::Arc;

use conformance_tests::{Factory, Precision};
use kavach_store_core::{ColumnDef, KavachStore, TableDef};
use kavach_store_sqlite::{SqliteOptions, TimestampMode, TimestampUnit};

struct SqliteFactory {
    mode: TimestampMode,
}

#[async_trait::async_trait]
impl Factory for SqliteFactory {
    fn name(&self) -> &'static str {
        match self.mode {
            TimestampMode::Millis => "sqlite_millis",
            _ => "sqlite",
        }
    }

    async fn create(&self) -> Result<Arc<dyn KavachStore>, String> {
        let store = SqliteOptions::temporary()
            .timestamp_mode(self.mode)
            .open()
            .await
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(store))
    }

    /// KavachOS mode stores whole seconds, except the millisecond columns.
    fn timestamp_precision(&self, _table: &TableDef, column: &ColumnDef) -> Precision {
        match self.mode.unit(column.kind) {
            Some(TimestampUnit::Seconds) => Precision::Seconds,
            _ => Precision::Millis,
        }
    }
}

async fn factory() -> Result<Box<dyn Factory>, String> {
    Ok(Box::new(SqliteFactory {
        mode: TimestampMode::KavachOs,
    }))
}

async fn factory_millis() -> Result<Box<dyn Factory>, String> {
    Ok(Box::new(SqliteFactory {
        mode: TimestampMode::Millis,
    }))
}

conformance_tests::conformance_tests!(sqlite, crate::factory);
conformance_tests::conformance_tests!(sqlite_millis, crate::factory_millis);

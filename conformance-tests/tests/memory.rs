//! The conformance suite against the in-memory backend: a fresh store per
//! case (nothing to reach, so it never skips).

use std::sync::Arc;

use conformance_tests::Factory;
use kavach_store_core::KavachStore;
use kavach_store_memory::MemoryStore;

struct MemoryFactory;

#[async_trait::async_trait]
impl Factory for MemoryFactory {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn create(&self) -> Result<Arc<dyn KavachStore>, String> {
        Ok(Arc::new(MemoryStore::new()))
    }
}

async fn factory() -> Result<Box<dyn Factory>, String> {
    Ok(Box::new(MemoryFactory))
}

conformance_tests::conformance_tests!(memory, crate::factory);

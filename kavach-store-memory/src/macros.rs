//! The one `RowStore` implementation, shared by the store and its
//! transactions (they differ only in where they read and write).

/// Implements `RowStore` for a type with `read` and `write` (the store and
/// its transactions share every statement).
macro_rules! impl_row_store {
    ($ty:ty) => {
        #[async_trait::async_trait]
        impl kavach_store_core::RowStore for $ty {
            async fn insert_rows(
                &self,
                table: &'static kavach_store_core::TableDef,
                rows: Vec<kavach_store_core::Row>,
            ) -> kavach_store_core::Result<()> {
                self.write(move |schema, state| $crate::exec::insert(schema, state, table, rows))
                    .await
            }

            async fn select_rows(
                &self,
                query: &kavach_store_core::Select,
            ) -> kavach_store_core::Result<Vec<kavach_store_core::Row>> {
                self.read(|schema, state| $crate::exec::select(schema, state, query))
            }

            async fn count_rows(
                &self,
                table: &'static kavach_store_core::TableDef,
                filter: &kavach_store_core::Cond,
            ) -> kavach_store_core::Result<u64> {
                self.read(|schema, state| $crate::exec::count(schema, state, table, filter))
            }

            async fn update_rows(
                &self,
                update: &kavach_store_core::Update,
            ) -> kavach_store_core::Result<u64> {
                self.write(|schema, state| $crate::exec::update(schema, state, update))
                    .await
                    .map(|rows| rows.len() as u64)
            }

            async fn update_rows_returning(
                &self,
                update: &kavach_store_core::Update,
            ) -> kavach_store_core::Result<Vec<kavach_store_core::Row>> {
                self.write(|schema, state| $crate::exec::update(schema, state, update))
                    .await
            }

            async fn delete_rows(
                &self,
                delete: &kavach_store_core::Delete,
            ) -> kavach_store_core::Result<u64> {
                self.write(|schema, state| $crate::exec::delete(schema, state, delete))
                    .await
                    .map(|rows| rows.len() as u64)
            }

            async fn delete_rows_returning(
                &self,
                delete: &kavach_store_core::Delete,
            ) -> kavach_store_core::Result<Vec<kavach_store_core::Row>> {
                self.write(|schema, state| $crate::exec::delete(schema, state, delete))
                    .await
            }

            async fn upsert_row(
                &self,
                upsert: &kavach_store_core::Upsert,
            ) -> kavach_store_core::Result<kavach_store_core::Row> {
                self.write(|schema, state| $crate::exec::upsert(schema, state, upsert))
                    .await
            }

            async fn sum_rows(
                &self,
                sum: &kavach_store_core::Sum,
            ) -> kavach_store_core::Result<Vec<(kavach_store_core::Value, i64)>> {
                self.read(|schema, state| $crate::exec::sum(schema, state, sum))
            }
        }
    };
}

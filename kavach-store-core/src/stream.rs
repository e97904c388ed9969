//! Persisted stream events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// Persisted server-sent events kept for replay to reconnecting clients.
    ///
    /// Table `kavach_stream_events`.
    pub struct StreamEvent => "kavach_stream_events", patch StreamEventPatch {
        /// `id`: Event id supplied by the emitter.
        pub id: String,
        /// `type`: Event type name. Column named `type`.
        pub r#type: String,
        /// `timestamp`.
        pub timestamp: DateTime<Utc>,
        /// `data`.
        pub data: serde_json::Value,
        /// `agent_id`: No FK.
        pub agent_id: Option<String>,
        /// `user_id`: No FK.
        pub user_id: Option<String>,
    }
    primary_key: id;
    indexes: ["kavach_stream_events_timestamp": ["timestamp"], "kavach_stream_events_type_timestamp": ["type", "timestamp"]];
}

/// Filter of stream events; unset fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamEventFilter {
    /// `timestamp >= since`.
    pub since: Option<DateTime<Utc>>,
    /// Any of these event types.
    pub types: Option<Vec<String>>,
    /// Events of this agent.
    pub agent_id: Option<String>,
    /// Events of this user.
    pub user_id: Option<String>,
}

impl StreamEventFilter {
    fn to_cond(&self) -> Cond {
        Cond::All
            .and_opt(self.since, |t| Cond::ge("timestamp", t))
            .and_opt(self.types.clone(), |v| Cond::is_in("type", v))
            .and_opt(self.agent_id.clone(), |v| Cond::eq("agent_id", v))
            .and_opt(self.user_id.clone(), |v| Cond::eq("user_id", v))
    }
}

/// At most this many events are returned by a replay, as in KavachOS.
pub const STREAM_REPLAY_LIMIT: u64 = 1000;

const TIMESTAMP_DESC: &[OrderBy] = &[OrderBy::desc("timestamp"), OrderBy::desc("id")];

/// Persisted stream events for replay.
#[async_trait]
pub trait StreamEventStore: RowStore {
    /// Inserts an event. `Conflict` on a duplicate id.
    async fn create_stream_event(&self, event: StreamEvent) -> Result<StreamEvent> {
        self.create(event).await
    }
    /// Events for a reconnecting client: newest first, at most
    /// [`STREAM_REPLAY_LIMIT`].
    async fn replay_stream_events(&self, filter: &StreamEventFilter) -> Result<Vec<StreamEvent>> {
        self.find_all(filter.to_cond(), TIMESTAMP_DESC, Some(STREAM_REPLAY_LIMIT))
            .await
    }
    /// One page of events, newest first (keyset on `timestamp`, `id`).
    async fn list_stream_events(
        &self,
        filter: &StreamEventFilter,
        page: &PageRequest,
    ) -> Result<Page<StreamEvent>> {
        crate::page::keyset_page(self, filter.to_cond(), "timestamp", TIMESTAMP_DESC, page).await
    }
    /// Deletes events older than `cutoff`; returns how many.
    async fn delete_stream_events_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.delete_where::<StreamEvent>(Cond::lt("timestamp", cutoff))
            .await
    }
}

impl<T: RowStore + ?Sized> StreamEventStore for T {}
